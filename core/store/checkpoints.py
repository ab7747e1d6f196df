"""Signed audit checkpoints: written outside the database, checked against it, and bundled for auditors.

A ``Checkpointer`` signs the committed chain head every ``audit_checkpoint_every`` records or
``audit_checkpoint_minutes`` (whichever comes first) and appends the checkpoint to an append-only JSON-lines file
(``audit_checkpoint_file``). It runs on the background tick (``agent.ticker``, once cluster-wide every
``tick_seconds``), on ``switchboard audit checkpoint`` and before ``audit export``; never on the append path, which
stays as fast as it was. Like Trillian's log signer, it signs only a head that extends its last checkpoint: it
recomputes the records added since, and refuses (``AuditTampered``) when they no longer link to it.

``verify_log`` proves that every checkpoint is a prefix of the current log; ``write_bundle`` exports the records
with the checkpoints and public keys, for ``core.audit_verify.verify_bundle`` to check offline.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.engine import Engine

from core.audit_keys import Signer, checkpoint_path, load_signer, publish, trusted_keys
from core.audit_verify import (
    BUNDLE_FORMAT,
    Checkpoint,
    Verdict,
    canonical_json,
    check_signatures,
    judge,
    key_id,
    public_pem,
)
from core.config import CoreSettings
from core.errors import AuditTampered, BadInput
from core.locks import StripedLock
from core.store.audit import GENESIS, AuditHead, AuditLog, VerifyResult

logger = logging.getLogger(__name__)
_REFUSED = "not signing a checkpoint"
_TAIL_BYTES = 4096  # a checkpoint line is about 250 bytes: the last one is within this much of the end


class CheckpointFile:
    """An append-only file of checkpoints, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> Iterator[tuple[int, Checkpoint]]:
        """Every checkpoint with its line number.

        Raises:
            BadInput: a line is not a checkpoint (the file was damaged or is not a checkpoint file).
        """
        try:
            handle = self.path.open(encoding="utf-8")
        except FileNotFoundError:
            return
        with handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, self._parse(line, number)

    def last(self) -> Checkpoint | None:
        """The newest checkpoint, read from the end of the file."""
        try:
            with self.path.open("rb") as handle:
                handle.seek(0, os.SEEK_END)
                handle.seek(max(0, handle.tell() - _TAIL_BYTES))
                lines = [line for line in handle.read().split(b"\n") if line.strip()]
        except FileNotFoundError:
            return None
        return self._parse(lines[-1].decode("utf-8"), None) if lines else None

    def append(self, checkpoint: Checkpoint) -> None:
        """Append one line and flush it to disk before returning."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (canonical_json(checkpoint.to_json()) + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def _parse(self, line: str, number: int | None) -> Checkpoint:
        try:
            return Checkpoint.from_json(json.loads(line))
        except ValueError as exc:
            where = f"line {number} of {self.path}" if number else f"the last line of {self.path}"
            raise BadInput(f"MALFORMED: {where} is not a checkpoint ({exc})", file=str(self.path)) from None


def _parse_time(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@dataclass
class Checkpointer:
    """Signs the audit chain's head into the checkpoint file when one is due."""

    engine: Engine
    settings: CoreSettings
    _signer: Signer | None = field(default=None, repr=False)

    @property
    def file(self) -> CheckpointFile:
        """The configured checkpoint file."""
        return CheckpointFile(checkpoint_path(self.settings))

    def signer(self) -> Signer:
        """The signing key, loaded (or made, for the demo) on first use; its public key joins the keyring."""
        if self._signer is None:
            signer = load_signer(self.settings)
            publish(self.settings, signer.public_key)
            self._signer = signer
        return self._signer

    def due(self, *, head: AuditHead, last: Checkpoint | None, now: datetime, force: bool = False) -> bool:
        """True when the head moved by ``audit_checkpoint_every`` records, or moved and the last is old enough.

        ``force``: whenever the head moved at all. An empty log, or one whose head is the last checkpoint's, needs
        no new checkpoint.
        """
        if head.seq == 0 or (last is not None and (last.seq, last.head) == (head.seq, head.hash)):
            return False
        if force or last is None or head.seq - last.seq >= self.settings.audit_checkpoint_every:
            return True
        age = now - _parse_time(last.time)
        return age >= timedelta(minutes=self.settings.audit_checkpoint_minutes)

    def run(self, *, now: datetime | None = None, force: bool = False) -> Checkpoint | None:
        """Sign and append a checkpoint when one is due (``force``: whenever the head moved); else None.

        Raises:
            AuditTampered: the log no longer extends the last checkpoint, so nothing was signed.
        """
        lock = StripedLock(self.settings.var_dir / "locks" / "audit-checkpoint.lock", stripes=1)
        # Processes on one host append in turn, so each decides on the newest checkpoint and none repeats it.
        with lock.hold("checkpoint"):
            now = now or datetime.now(UTC)
            last = self.file.last()
            log = AuditLog(self.engine)
            head = log.head()
            if not self.due(head=head, last=last, now=now, force=force):
                return None
            if last is not None:
                self._check_follows(head=head, last=last)
            result = log.verify_segment(
                after=last.seq if last else 0, prev=last.head if last else GENESIS, upto=head.seq
            )
            if not result.ok or result.head != head.hash:
                why = result.reason or "the chain head does not match the last record"
                raise AuditTampered(f"{_REFUSED}: record {result.first_bad or head.seq} does not fit ({why})")
            checkpoint = self.signer().sign(seq=head.seq, head=head.hash, at=now)
            self.file.append(checkpoint)
        logger.info("audit checkpoint signed", extra={"seq": checkpoint.seq, "key_id": checkpoint.key_id})
        return checkpoint

    def _check_follows(self, *, head: AuditHead, last: Checkpoint) -> None:
        # Continuing from a line someone else appended would vouch for their version of the log.
        keys = {**trusted_keys(self.settings), self.signer().key_id: self.signer().public_key}
        problem = last.signature_problem(keys)
        if problem is not None:
            raise AuditTampered(f"{_REFUSED}: the last checkpoint in {self.file.path} {problem[1]}")
        if head.seq < last.seq:
            raise AuditTampered(
                f"{_REFUSED}: the log ends at record {head.seq}, before the last checkpoint's record {last.seq}"
            )
        if head.seq == last.seq:  # the same length with another hash (due() returned early on the same hash)
            raise AuditTampered(f"{_REFUSED}: record {last.seq} no longer has the hash its checkpoint signed")


@dataclass(frozen=True)
class LogVerdict:
    """The chain check and, when it passed, the checkpoints' verdict."""

    chain: VerifyResult
    checkpoints: Verdict | None


def read_checkpoints(path: Path) -> list[tuple[int, Checkpoint]]:
    """Every checkpoint in ``path`` with its line number.

    Raises:
        BadInput: the file is missing, or a line is not a checkpoint.
    """
    if not path.is_file():
        raise BadInput(f"no checkpoint file at {path}", file=str(path))
    return list(CheckpointFile(path).read())


def verify_log(
    engine: Engine, *, checkpoints: list[tuple[int, Checkpoint]], keys: dict[str, Ed25519PublicKey]
) -> LogVerdict:
    """Check the signatures, recompute the chain, then prove every checkpoint is a prefix of the log."""
    bad = check_signatures(checkpoints, keys)
    log = AuditLog(engine)
    chain = log.verify()
    if bad is not None or not chain.ok:
        return LogVerdict(chain, bad)
    wanted = [cp.seq for _, cp in checkpoints if cp.seq <= chain.records]
    verdict = judge([cp for _, cp in checkpoints], hash_at=log.hashes_at(wanted), end=chain.records)
    return LogVerdict(chain, verdict)


def write_bundle(
    engine: Engine,
    out: IO[str],
    *,
    checkpoints: list[tuple[int, Checkpoint]],
    keys: dict[str, Ed25519PublicKey],
    since: datetime | None = None,
) -> int:
    """Write an auditor's bundle: a header, the public keys, the checkpoints, the records and the chain head.

    Checkpoints come before the records so a verifier checks them in one streaming pass. The records stop at the
    head read first, so the head line always names the last record written.
    """
    log = AuditLog(engine)
    head = log.head()
    header = {"format": BUNDLE_FORMAT, "exported_at": datetime.now(UTC).isoformat(timespec="seconds")}
    if since is not None:
        header["since"] = since.isoformat()
    out.write(canonical_json({"bundle": header}) + "\n")
    used = {cp.key_id for _, cp in checkpoints}
    for kid, key in sorted(keys.items()):
        if kid in used:
            out.write(canonical_json({"public_key": {"key_id": key_id(key), "pem": public_pem(key)}}) + "\n")
    for _, checkpoint in checkpoints:
        out.write(canonical_json({"checkpoint": checkpoint.to_json()}) + "\n")
    return log.export(out, since=since, head=head)
