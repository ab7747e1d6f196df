"""A persistent chromadb store of tool examples and accepted past requests, embedded locally.

It feeds the Ollama backend's few-shot prompt ("examples of correct calls for similar messages") and keeps what
operators actually asked and confirmed. The collection is opened with our MiniLM embedding function every time:
chromadb's default embedding function downloads a model, which fails here and must never run.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.shared_system_client import SharedSystemClient
from chromadb.config import Settings as ChromaSettings

from agent.backends.embedded.chroma import MiniLMEmbeddingFunction
from agent.backends.embedded.encoder import MODEL_ID, Encoder

logger = logging.getLogger(__name__)
COLLECTION = "tool_examples"


class ExampleStore:
    """Tool examples and accepted requests in one chromadb collection (``source`` tells them apart)."""

    def __init__(self, path: Path, *, encoder: Encoder) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.client = self._client()
        self._function = MiniLMEmbeddingFunction(encoder)
        self.collection = self._open()
        if (self.collection.metadata or {}).get("embedding_model") != MODEL_ID:
            self._reembed()
        self._known = self.collection.count()

    def _client(self) -> ClientAPI:
        return chromadb.PersistentClient(
            path=str(self.path), settings=ChromaSettings(anonymized_telemetry=False, allow_reset=False)
        )

    def _current(self) -> int:
        """The collection's size, after reopening it when another process (a worker, a host) changed it.

        chromadb keeps a collection's nearest-neighbour index in memory from when this process loaded it, and a
        record another process saved later is counted but not searched. A changed count means reopening.
        """
        count = self.collection.count()
        if count != self._known:
            SharedSystemClient.clear_system_cache()  # the loaded indexes; this process has one store
            self.client = self._client()
            self.collection = self._open()
            count = self._known = self.collection.count()
        return count

    def _open(self) -> Collection:
        return self.client.get_or_create_collection(
            COLLECTION,
            # chromadb's stubs type this parameter narrower than its own EmbeddingFunction protocol.
            embedding_function=self._function,  # type: ignore[arg-type]
            metadata={"hnsw:space": "cosine", "embedding_model": MODEL_ID},
        )

    def _reembed(self) -> None:
        """Embed a collection written with another encoder model again, keeping every record.

        chromadb keeps the vectors it was given and does not check the model on reopening, so vectors from the
        old model would be compared with queries from the new one.
        """
        old = self.collection.get(include=["documents", "metadatas"])
        self.client.delete_collection(COLLECTION)
        self.collection = self._open()
        if old["ids"]:
            self.collection.add(ids=old["ids"], documents=old["documents"], metadatas=old["metadatas"])
        logger.info("embedded %d stored examples again with %s", len(old["ids"]), MODEL_ID)

    def sync_examples(self, examples: Mapping[str, Sequence[str]]) -> int:
        """Upsert the registry's example utterances (ids are content hashes, so re-syncing is cheap)."""
        ids, docs, metas = [], [], []
        for tool, texts in examples.items():
            for text in texts:
                ids.append("ex:" + hashlib.sha1(f"{tool}\0{text}".encode()).hexdigest())
                docs.append(text)
                metas.append({"tool": tool, "args": "{}", "source": "example"})
        existing = set(self.collection.get(ids=ids, include=[])["ids"]) if ids else set()
        new = [(i, d, m) for i, d, m in zip(ids, docs, metas, strict=True) if i not in existing]
        if new:
            self.collection.add(
                ids=[n[0] for n in new], documents=[n[1] for n in new], metadatas=[n[2] for n in new]
            )
            self._known = self.collection.count()
        return len(new)

    def remember(self, *, text: str, tool: str, args: Mapping[str, Any]) -> None:
        """Keep a request an operator confirmed or that ran successfully."""
        payload = json.dumps(dict(args), sort_keys=True, default=str)
        key = "ok:" + hashlib.sha1(f"{tool}\0{text}\0{payload}".encode()).hexdigest()
        self.collection.upsert(
            ids=[key], documents=[text], metadatas=[{"tool": tool, "args": payload, "source": "accepted"}]
        )
        self._known = self.collection.count()

    def nearest(self, text: str, k: int = 6) -> list[dict[str, Any]]:
        """The k stored requests closest to ``text``: text, tool, args, distance."""
        count = self._current()
        if count == 0:
            return []
        found = self.collection.query(query_texts=[text], n_results=min(k, count))
        rows = []
        documents, metadatas, distances = (
            found["documents"] or [[]],
            found["metadatas"] or [[]],
            found["distances"] or [[]],
        )
        for doc, meta, dist in zip(documents[0], metadatas[0], distances[0], strict=True):
            rows.append(
                {
                    "text": doc,
                    "tool": meta["tool"],
                    "args": json.loads(str(meta.get("args", "{}"))),
                    "source": meta.get("source"),
                    "distance": dist,
                }
            )
        return rows
