"""Delivery into a share folder: write a hidden temporary file, verify its checksum, rename it into place."""

from __future__ import annotations

import contextlib
import hashlib
import os
from pathlib import Path

from flows.config import ShareDestination
from flows.delivery.retry import PermanentError, TransientError
from flows.delivery.transports.base import LocalFile, Uploaded, file_sha256, part_name


def share_folder(dest: ShareDestination, *, base: Path) -> Path:
    """The destination folder; a relative path in config is relative to ``base`` (the folder holding var/)."""
    return dest.path if dest.path.is_absolute() else base / dest.path


def upload_share(*, name: str, dest: ShareDestination, base: Path, local: LocalFile) -> Uploaded:
    """Copy one file into the share atomically; one attempt.

    Raises:
        TransientError: an I/O error or a checksum mismatch that another attempt may not hit.
        PermanentError: the folder cannot be created or written (permissions, a file in the way).
    """
    folder = share_folder(dest, base=base)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (PermissionError, FileExistsError, NotADirectoryError) as exc:
        raise PermanentError(f"cannot create the {name} folder {folder}: {exc.strerror}") from None
    except OSError as exc:
        raise TransientError(f"cannot create the {name} folder {folder}: {exc.strerror}") from None
    final = folder / local.name
    if _holds(final, local):
        # An earlier attempt copied it and died before recording so: nothing to send again.
        return Uploaded(remote_path=str(final), sha256=local.sha256, size=local.size, already_there=True)
    temp = folder / part_name(local.name)
    try:
        digest = hashlib.sha256()
        with temp.open("wb") as out:
            for block in local.chunks():
                out.write(block)
                digest.update(block)
            out.flush()
            os.fsync(out.fileno())
        # Hash what is on disk, not what we meant to write: that is the checksum verification.
        written, size = file_sha256(temp)
        if written != local.sha256:
            raise TransientError(
                f"checksum mismatch writing {local.name} to {name}: wrote {written[:12]}…, "
                f"expected {local.sha256[:12]}…"
            )
        os.replace(temp, final)
    except PermissionError as exc:
        raise PermanentError(f"cannot write {local.name} into {folder} for {name}: {exc.strerror}") from None
    except OSError as exc:
        raise TransientError(f"cannot write {local.name} into {folder} for {name}: {exc.strerror}") from None
    finally:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
    return Uploaded(remote_path=str(final), sha256=written, size=size)


def _holds(final: Path, local: LocalFile) -> bool:
    """True when ``final`` is ``local``'s exact content (a size check first, then its sha256)."""
    try:
        if final.stat().st_size != local.size:
            return False
        return file_sha256(final)[0] == local.sha256
    except OSError:
        return False
