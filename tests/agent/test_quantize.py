"""The int8 encoder model: made once from the packaged model, cached with its sha256, remade when corrupt."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

import pytest

from agent.backends.embedded.encoder import _default_model_path
from agent.backends.embedded.quantize import QuantizeError, quantized_model
from core.files import file_sha256


def test_made_once_then_served_from_the_cache_and_remade_when_corrupt(tmp_path: Path) -> None:
    source, source_sha = _default_model_path()
    made, digest = quantized_model(source, source_sha, folder=tmp_path)
    assert made.parent == tmp_path and file_sha256(made)[0] == digest
    assert (tmp_path / made.name.replace(".onnx", ".sha256")).read_text().strip() == digest
    assert not list(tmp_path.glob("*.partial"))  # the half-written file never stays behind
    stamp = made.stat().st_mtime_ns

    again, same = quantized_model(source, source_sha, folder=tmp_path)
    assert (again, same, again.stat().st_mtime_ns) == (made, digest, stamp)  # not made twice

    with made.open("r+b") as handle:  # flip one byte in the middle of the weights
        handle.seek(made.stat().st_size // 2)
        byte = handle.read(1)
        handle.seek(-1, 1)
        handle.write(bytes([byte[0] ^ 0xFF]))
    remade, remade_digest = quantized_model(source, source_sha, folder=tmp_path)
    assert remade_digest == digest and file_sha256(remade)[0] == digest  # deterministic, so the same bytes


def test_a_source_that_is_no_model_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "model.onnx"
    junk.write_bytes(b"not an onnx file")
    with pytest.raises(QuantizeError, match="making the int8 encoder model failed: "):
        quantized_model(junk, "0" * 64, folder=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("minilm-*"))


def test_without_onnx_the_error_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = metadata.version

    def version(name: str) -> str:
        if name == "onnx":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(metadata, "version", version)  # as if onnx were not installed
    source, source_sha = _default_model_path()
    with pytest.raises(QuantizeError, match=r"needs the 'onnx' package .* pip install onnx"):
        quantized_model(source, source_sha, folder=tmp_path)
