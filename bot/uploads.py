"""Document uploads: a CSV, XLSX or JSON file sent to the bot is saved in the inbox, then a load request.

The file name is reduced to a safe base name (no folders, no path traversal, no hidden files); an existing
file with different content is never overwritten (the new one gets a numbered name); the same content twice
reuses the file. The load itself is an ordinary chat message, so it goes through the policy like any write.
"""

from __future__ import annotations

import os
import re
import unicodedata
import uuid
from pathlib import Path

from agent.backends.base import Decision
from core.files import file_sha256
from core.vocabulary import DATASETS

ACCEPTED = (".csv", ".xlsx", ".json")
TELEGRAM_DOWNLOAD_LIMIT = 20 * 1024 * 1024  # getFile serves at most 20 MB
_MIME_SUFFIX = {
    "text/csv": ".csv",
    "application/json": ".json",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_NAME = 100


def safe_file_name(name: str | None, *, mime_type: str | None = None) -> str:
    """A plain base name made of letters, digits, '.', '_' and '-', never starting with a dot."""
    # Accents fold to ASCII (Übersicht → Ubersicht); anything else outside the safe set becomes "_".
    raw = unicodedata.normalize("NFKD", name or "").encode("ascii", "ignore").decode()
    base = re.split(r"[\\/]", raw)[-1]
    cleaned = _UNSAFE.sub("_", base).strip("._-")
    cleaned = re.sub(r"_+", "_", cleaned)
    stem, dot, suffix = cleaned.rpartition(".")
    if not dot:
        stem, suffix = cleaned, ""
    if not suffix and mime_type in _MIME_SUFFIX:
        suffix = _MIME_SUFFIX[mime_type][1:]
    stem = stem.strip("._-")[: MAX_NAME - len(suffix) - 1] or "upload"
    return f"{stem}.{suffix.lower()}" if suffix else stem


def accepted(name: str) -> bool:
    """True for the file types the inbox loads."""
    return name.lower().endswith(ACCEPTED)


def guess_dataset(*texts: str | None) -> str | None:
    """The dataset a file name (or caption) names, e.g. 'orders_today.csv' → orders."""
    for value in texts:
        words = set(re.split(r"[^a-z]+", (value or "").lower()))
        for dataset in DATASETS:
            if dataset in words or dataset.rstrip("s") in words:
                return dataset
    return None


def load_message(file_name: str, dataset: str | None) -> str:
    """What the thread's history shows the operator asked for."""
    return f"load {file_name} into {dataset}" if dataset else f"load {file_name}"


def load_proposal(file_name: str, dataset: str | None) -> Decision:
    """The call an upload asks for: load that file (into the dataset its name or caption named, if any).

    Given to the agent instead of words, so a file named like a request ("deliver_everything_to_partner.csv")
    is only a file to load. The gate still asks the operator first (a write), and for the dataset when unknown.
    """
    args = {"path": file_name, **({"dataset": dataset} if dataset else {})}
    return Decision(tool="ingest_file", args=args, confidence=1.0, tool_probability=1.0, backend="upload")


def temp_path(inbox: Path) -> Path:
    """A hidden temporary name in the inbox for a download in progress."""
    inbox.mkdir(parents=True, exist_ok=True)
    return inbox / f".telegram-{uuid.uuid4().hex}.part"


def place_upload(inbox: Path, name: str, downloaded: Path) -> tuple[str, str]:
    """Move a finished download into the inbox without overwriting a different file; returns (name, sha256).

    ``os.link`` fails when the target exists, so two uploads racing for one name cannot replace each other.
    """
    digest = file_sha256(downloaded)[0]
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    try:
        for n in range(1000):
            candidate = name if n == 0 else f"{stem}-{n}{dot}{suffix}"
            target = inbox / candidate
            if target.exists():
                if target.is_file() and file_sha256(target)[0] == digest:
                    return candidate, digest
                continue
            try:
                os.link(downloaded, target)
            except FileExistsError:
                continue
            return candidate, digest
        raise FileExistsError(f"too many files called {name} in the inbox")
    finally:
        downloaded.unlink(missing_ok=True)
