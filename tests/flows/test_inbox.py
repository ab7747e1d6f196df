"""The inbox: what it refuses and why, where bytes turn into MB in its messages, and its checksums."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from core.errors import BadInput, Forbidden, NotFound, TooLarge
from flows.ingest.inbox import file_checksum, resolve_inbox_path


@pytest.mark.parametrize(
    ("size", "limit", "message"),
    [
        (104_857, 104_856, "the file is 104,857 bytes, over the 104,856 bytes limit"),
        # 104,858 bytes is the first size that rounds to 0.1 MB, so it is shown in MB
        (104_859, 104_858, "the file is 0.1 MB, over the 0.1 MB limit"),
        # 1,101,005 bytes is 1.0500002 MiB: one decimal, rounded, in units of 1,048,576 bytes
        (1_101_006, 1_101_005, "the file is 1.1 MB, over the 1.1 MB limit"),
    ],
)
def test_a_file_over_the_limit_names_both_sizes(tmp_path: Path, size: int, limit: int, message: str) -> None:
    (tmp_path / "a.csv").write_bytes(b"x" * size)
    with pytest.raises(TooLarge) as caught:
        resolve_inbox_path("a.csv", inbox=tmp_path, max_bytes=limit)
    assert str(caught.value) == f"a.csv: {message} (max_file_bytes)"


def _refusal(
    tmp_path: Path, path: str, max_bytes: int = 100
) -> tuple[type[Exception], str, dict[str, object]]:
    with pytest.raises((Forbidden, NotFound, BadInput, TooLarge)) as caught:
        resolve_inbox_path(path, inbox=tmp_path, max_bytes=max_bytes)
    return type(caught.value), caught.value.message, caught.value.details


def test_each_refusal_names_the_file_it_is_about(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "empty.csv").write_bytes(b"")
    (tmp_path / "big.csv").write_bytes(b"x" * 101)
    assert _refusal(tmp_path, "../etc/passwd") == (
        Forbidden,
        f"../etc/passwd: only files inside the inbox folder ({tmp_path}) can be ingested",
        {"file": "../etc/passwd"},
    )
    assert _refusal(tmp_path, "none.csv") == (
        NotFound,
        f"none.csv: no such file in the inbox folder ({tmp_path})",
        {"file": "none.csv"},
    )
    assert _refusal(tmp_path, "dir") == (BadInput, "dir: not a regular file", {"file": "dir"})
    assert _refusal(tmp_path, "empty.csv") == (
        BadInput,
        "empty.csv: line 1: the file is empty",
        {"file": "empty.csv", "line": 1},
    )
    assert _refusal(tmp_path, "big.csv") == (
        TooLarge,
        "big.csv: the file is 101 bytes, over the 100 bytes limit (max_file_bytes)",
        {"file": "big.csv", "size": 101, "limit": 100},
    )


def test_a_file_of_exactly_the_limit_and_an_absolute_path_inside_are_accepted(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_bytes(b"x" * 100)
    root = tmp_path.resolve()
    assert resolve_inbox_path("a.csv", inbox=tmp_path, max_bytes=100) == root / "a.csv"
    assert resolve_inbox_path(str(root / "a.csv"), inbox=tmp_path, max_bytes=100) == root / "a.csv"


def test_the_checksum_counts_every_chunk(tmp_path: Path) -> None:
    data = b"0123456789" * 110_000  # 1.05 MiB: two read chunks
    (tmp_path / "a.csv").write_bytes(data)
    assert file_checksum(tmp_path / "a.csv") == (hashlib.sha256(data).hexdigest(), len(data))
