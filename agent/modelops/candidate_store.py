"""Where candidate routers live on disk, and the ``LIVE.json`` pointer that says which router is live.

Layout under ``<var_dir>/routers/``::

    LIVE.json                 the pointer (absent: the base router for the current examples is live)
    <fingerprint>/            one router: router.json, router.npz, vocabulary.json, FINGERPRINT, ENCODER,
                              calibration.json, manifest.json (candidates), held_out.jsonl (candidates)

A router folder is written once and never changed afterwards, so a fingerprint names exactly one set of bytes;
promotion and rollback only rewrite the pointer. The pointer is written to a temporary file and renamed into
place, so a reader sees the old pointer or the new one, never half of one.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

from pydantic import ValidationError

from agent.modelops.candidate_models import CandidateManifest, LivePointer
from agent.modelops.reviewed import ReviewedExample
from core.errors import BadInput, NotFound

ROUTERS = "routers"
POINTER_FILE = "LIVE.json"
MANIFEST_FILE = "manifest.json"
HELD_OUT_FILE = "held_out.jsonl"
CALIBRATION_NAME = "calibration.json"
#: The files that make up a router's behaviour; their sha256 proves a rollback restored it bit for bit.
ROUTER_FILES = ("router.json", "router.npz", "vocabulary.json", "FINGERPRINT", "ENCODER", CALIBRATION_NAME)


def routers_dir(var_dir: Path) -> Path:
    """The folder of kept routers and the pointer."""
    return var_dir.resolve() / ROUTERS


def router_folder(var_dir: Path, fingerprint: str) -> Path:
    """The folder of one kept router (whether or not it exists).

    Raises:
        BadInput: ``fingerprint`` is not a plain name (it could point outside the folder).
    """
    if not fingerprint or not fingerprint.isalnum():
        raise BadInput(f"{fingerprint!r} is not a router fingerprint (letters and digits only)")
    return routers_dir(var_dir) / fingerprint


def is_kept(var_dir: Path, fingerprint: str) -> bool:
    """Whether a complete router with this fingerprint is kept under ``routers/``."""
    return (router_folder(var_dir, fingerprint) / "router.json").is_file()


def pointer_path(var_dir: Path) -> Path:
    """Where ``LIVE.json`` lives."""
    return routers_dir(var_dir) / POINTER_FILE


def read_pointer(var_dir: Path) -> LivePointer | None:
    """The pointer, or None when no router was ever promoted or shadowed.

    Raises:
        BadInput: The file exists but is not a pointer (naming the file).
    """
    path = pointer_path(var_dir)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    try:
        return LivePointer.model_validate_json(raw)
    except ValidationError as exc:
        raise BadInput(f"{path} is not a router pointer ({exc.errors()[0]['msg']})") from exc


def write_pointer(var_dir: Path, pointer: LivePointer) -> None:
    """Replace the pointer atomically (write a temporary file, then rename it over the old one)."""
    path = pointer_path(var_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{POINTER_FILE}.{os.getpid()}.tmp")
    temporary.write_text(pointer.model_dump_json(indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, path)


def write_manifest(folder: Path, manifest: CandidateManifest) -> None:
    """Write (or, for the gate result, update) a candidate's manifest atomically."""
    temporary = folder / f".{MANIFEST_FILE}.{os.getpid()}.tmp"
    temporary.write_text(manifest.model_dump_json(indent=1) + "\n", encoding="utf-8")
    os.replace(temporary, folder / MANIFEST_FILE)


def read_manifest(var_dir: Path, fingerprint: str) -> CandidateManifest:
    """A candidate's manifest.

    Raises:
        NotFound: No candidate with this fingerprint.
    """
    path = router_folder(var_dir, fingerprint) / MANIFEST_FILE
    if not path.is_file():
        raise NotFound(f"no candidate router {fingerprint} under {routers_dir(var_dir)}")
    return CandidateManifest.model_validate_json(path.read_text(encoding="utf-8"))


def list_manifests(var_dir: Path) -> list[CandidateManifest]:
    """Every candidate kept, oldest first."""
    folder = routers_dir(var_dir)
    if not folder.is_dir():
        return []
    found = [
        CandidateManifest.model_validate_json(path.read_text(encoding="utf-8"))
        for path in folder.glob(f"*/{MANIFEST_FILE}")
    ]
    return sorted(found, key=lambda manifest: manifest.created_at)


def write_held_out(folder: Path, examples: list[ReviewedExample]) -> None:
    """The reviewed examples a candidate never saw, kept beside it so its gate can be rerun."""
    body = "".join(example.model_dump_json() + "\n" for example in examples)
    (folder / HELD_OUT_FILE).write_text(body, encoding="utf-8")


def read_held_out(folder: Path) -> list[ReviewedExample]:
    """What :func:`write_held_out` wrote (empty when nothing was held out)."""
    path = folder / HELD_OUT_FILE
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").splitlines()
    return [ReviewedExample.model_validate_json(line) for line in lines if line.strip()]


def file_hashes(folder: Path) -> dict[str, str]:
    """sha256 of each router file present in ``folder``."""
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in ROUTER_FILES
        if (folder / name).is_file()
    }


def keep_copy(var_dir: Path, *, fingerprint: str, source: Path, calibration: Path | None) -> Path:
    """Copy a router that lives elsewhere (the shipped copy, the cache) under ``routers/``, byte for byte.

    The base router's files are rewritten by ``switchboard router train``; a promotion keeps the router it
    replaces here, so a rollback can always restore it. An existing copy is left as it is.
    """
    folder = router_folder(var_dir, fingerprint)
    if (folder / "router.json").is_file():
        return folder
    staging = folder.with_name(f".{fingerprint}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for name in ROUTER_FILES:
        if name != CALIBRATION_NAME and (source / name).is_file():
            shutil.copy2(source / name, staging / name)
    if calibration is not None and calibration.is_file():
        shutil.copy2(calibration, staging / CALIBRATION_NAME)
    os.replace(staging, folder)
    return folder
