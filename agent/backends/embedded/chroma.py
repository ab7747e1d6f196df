"""A chromadb embedding function on the local MiniLM encoder, so chromadb's default (downloading) one never runs."""

from __future__ import annotations

from typing import Any

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from agent.backends.embedded.encoder import MODEL_ID, Encoder


@register_embedding_function
class MiniLMEmbeddingFunction(EmbeddingFunction[Documents]):
    """chromadb embedding function backed by :class:`Encoder` (offline, no download).

    Registered with chromadb under :meth:`name`, so a persisted collection reopens with this function
    instead of chromadb's default one, which would try to download a model.
    """

    def __init__(self, encoder: Encoder | None = None, *, threads: int = 1) -> None:
        """Create the function.

        Args:
            encoder: Encoder to share with the router; loaded lazily when omitted.
            threads: Intra-op threads used if the encoder has to be loaded here.
        """
        self._encoder = encoder
        self._threads = encoder.threads if encoder is not None else threads

    def _get_encoder(self) -> Encoder:
        if self._encoder is None:
            self._encoder = Encoder.load(threads=self._threads)
        return self._encoder

    def __call__(self, input: Documents) -> Embeddings:  # noqa: A002 - chromadb's protocol names it so
        """Embed documents for chromadb."""
        vectors = self._get_encoder().encode(list(input))
        return list(vectors)

    @staticmethod
    def name() -> str:
        """Name under which chromadb persists and finds this function."""
        return "switchboard-minilm-int8"

    def default_space(self) -> Space:
        """Vectors are unit length, so cosine distance is the natural metric."""
        return "cosine"

    def get_config(self) -> dict[str, Any]:
        """Serializable config chromadb stores with a collection."""
        return {"model": MODEL_ID, "threads": self._threads}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        """Rebuild the function when chromadb reopens a persisted collection."""
        return MiniLMEmbeddingFunction(threads=int(config.get("threads", 1)))

    @staticmethod
    def validate_config(config: dict[str, Any]) -> None:
        """Refuse configs written for another model."""
        model = config.get("model", MODEL_ID)
        if model != MODEL_ID:
            raise ValueError(f"Collection was embedded with {model!r}, not {MODEL_ID!r}")
