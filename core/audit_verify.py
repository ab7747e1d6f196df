"""Checking the audit log with public keys only: record hashes, signed checkpoints and exported bundles.

The log is a plain sha256 chain (each record's hash covers the previous record's hash), and every so often a
**checkpoint** (sequence number, head hash, time, key id) is signed with Ed25519 and appended to a file outside
the database, as Certificate Transparency's signed tree heads and Trillian's checkpoints are. A checkpoint vouches
for the whole prefix up to its record, because that record's hash covers every hash before it. So whoever can
rewrite the database but not the checkpoint file cannot cut the tail, rewrite a record and recompute the hashes
after it, or replace the whole log without a checkpoint no longer matching.

Why signatures and not an HMAC chain: a keyed MAC can be checked only by holders of its secret, and each of them
can also forge it, so an auditor would need the very key that lets a rewriter recompute the chain. An Ed25519
checkpoint is checked with the public key alone, offline, by anyone; the private key only ever signs, on the
host that writes checkpoints. The chain itself stays unkeyed, so appends cost what they did.

This module imports only the standard library and ``cryptography``: an auditor can copy this one file and run
``python audit_verify.py BUNDLE --public-key KEY.pem`` without Switchboard installed (it is also
``switchboard audit verify-bundle``).
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

GENESIS = "0" * 64
CHECKPOINT_FORMAT = "switchboard-audit-checkpoint/v1"
BUNDLE_FORMAT = "switchboard-audit-bundle/v1"
Kind = Literal[
    "ok", "broken", "truncated", "rewritten", "replaced", "forged", "untrusted", "malformed", "no_checkpoints"
]


def canonical_json(value: Any) -> str:
    """Deterministic JSON: sorted keys, no spaces, UTF-8 kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def record_hash(
    *, seq: int, ts: str, actor: str, event: str, subject: str | None, data: str, prev: str
) -> str:
    """Hash of one record given its predecessor's hash: ``sha256(prev + canonical_json(record with prev))``."""
    body = canonical_json(
        {"seq": seq, "ts": ts, "actor": actor, "event": event, "subject": subject, "data": data, "prev": prev}
    )
    return hashlib.sha256((prev + body).encode("utf-8")).hexdigest()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A key's stable name: the first 16 hex digits of the sha256 of its 32 raw bytes."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_pem(public_key: Ed25519PublicKey) -> str:
    """The public key as PEM (SubjectPublicKeyInfo), the form auditors are given."""
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode("ascii")


def load_public_key(pem: str) -> Ed25519PublicKey:
    """Read a PEM public key.

    Raises:
        ValueError: it is not an Ed25519 public key in PEM.
    """
    key = serialization.load_pem_public_key(pem.encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def keyring(keys: Iterable[Ed25519PublicKey]) -> dict[str, Ed25519PublicKey]:
    """Public keys by key id."""
    return {key_id(key): key for key in keys}


@dataclass(frozen=True)
class Checkpoint:
    """A signed statement that the log's first ``seq`` records end in ``head``."""

    seq: int
    head: str
    time: str
    key_id: str
    signature: str  # base64 of the Ed25519 signature over ``message()``

    def message(self) -> bytes:
        """The signed bytes: the format name, then sequence, head hash, time and key id, one per line."""
        return f"{CHECKPOINT_FORMAT}\n{self.seq}\n{self.head}\n{self.time}\n{self.key_id}\n".encode()

    def to_json(self) -> dict[str, Any]:
        """The checkpoint as one JSON object (a line of the checkpoint file)."""
        return {
            "head": self.head,
            "key_id": self.key_id,
            "seq": self.seq,
            "sig": self.signature,
            "time": self.time,
        }

    @classmethod
    def from_json(cls, value: Any) -> Checkpoint:
        """Parse one checkpoint object.

        Raises:
            ValueError: a field is missing or has the wrong type.
        """
        if not isinstance(value, dict):
            raise ValueError("not a JSON object")
        seq, head, time, kid, sig = (value.get(name) for name in ("seq", "head", "time", "key_id", "sig"))
        if not (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0):
            raise ValueError("seq is not a whole number")
        if not (isinstance(head, str) and len(head) == 64):
            raise ValueError("head is not a sha256 hex digest")
        if not all(isinstance(item, str) for item in (time, kid, sig)):
            raise ValueError("time, key_id and sig must be strings")
        return cls(seq=seq, head=head, time=str(time), key_id=str(kid), signature=str(sig))

    def signature_problem(self, keys: Mapping[str, Ed25519PublicKey]) -> tuple[Kind, str] | None:
        """Why this checkpoint's signature cannot be trusted, or None when it verifies."""
        key = keys.get(self.key_id)
        if key is None:
            known = ", ".join(sorted(keys)) or "none"
            return (
                "untrusted",
                f"is signed by key {self.key_id}, which is not among the trusted keys ({known})",
            )
        try:
            key.verify(base64.b64decode(self.signature, validate=True), self.message())
        except (InvalidSignature, binascii.Error, ValueError):
            return "forged", f"does not verify with key {self.key_id}: it was edited or signed by another key"
        return None


@dataclass(frozen=True)
class Verdict:
    """What the checkpoints say about the log: ``ok``, or which kind of tampering and one clear sentence."""

    kind: Kind
    message: str
    checked: int = 0  # checkpoints compared with the log
    latest: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        """True when every checkpoint is a prefix of the log."""
        return self.kind == "ok"


def check_signatures(
    checkpoints: Sequence[tuple[int, Checkpoint]], keys: Mapping[str, Ed25519PublicKey]
) -> Verdict | None:
    """The first checkpoint (by line) whose signature fails, as a verdict; None when all verify."""
    for line, checkpoint in checkpoints:
        problem = checkpoint.signature_problem(keys)
        if problem is not None:
            kind, why = problem
            return Verdict(kind, f"{kind.upper()}: the checkpoint on line {line} {why}")
    return None


def judge(
    checkpoints: Sequence[Checkpoint], *, hash_at: Mapping[int, str], end: int, first: int = 1
) -> Verdict:
    """Decide whether every checkpoint is a prefix of a log (or bundle) holding records ``first..end``.

    Args:
        checkpoints: Checkpoints whose signatures were verified.
        hash_at: The log's hash at each checkpoint's sequence number within ``first..end``.
        end: The log's last sequence number (0 when it is empty).
        first: The first sequence number present (a bundle exported ``--since`` starts later); checkpoints
            before it cannot be checked and are skipped.
    """
    if not checkpoints:
        return Verdict("no_checkpoints", "NO CHECKPOINTS: nothing outside the database vouches for the log")
    ordered = sorted(checkpoints, key=lambda cp: cp.seq)
    inside = [cp for cp in ordered if cp.seq >= first]
    matched = [cp for cp in inside if cp.seq <= end and hash_at.get(cp.seq) == cp.head]
    differs = [cp for cp in inside if cp.seq <= end and hash_at.get(cp.seq) != cp.head]
    beyond = [cp for cp in inside if cp.seq > end]
    if end == 0 and inside:
        cp = inside[-1]
        return Verdict(
            "replaced",
            f"REPLACED: the log holds no records, but the checkpoint signed {cp.time} covers {cp.seq}: "
            "the whole log was deleted and its head reset",
        )
    if differs and not matched:
        cp = differs[0]
        return Verdict(
            "replaced",
            f"REPLACED: no checkpoint matches the log (the earliest, signed {cp.time}, vouches for a different "
            f"record {cp.seq}): the whole log was replaced, or rewritten from a record in {first}..{cp.seq}",
        )
    if differs:
        cp = differs[0]
        before = [m for m in matched if m.seq < cp.seq]
        low = before[-1].seq + 1 if before else first
        return Verdict(
            "rewritten",
            f"REWRITTEN: record {cp.seq} differs from the checkpoint signed {cp.time}: a record in {low}..{cp.seq} "
            "was changed after that checkpoint and the hashes after it recomputed",
        )
    if beyond:
        cp = beyond[-1]
        return Verdict(
            "truncated",
            f"TRUNCATED: the log ends at record {end}, but the checkpoint signed {cp.time} covers {cp.seq}: "
            f"{_removed(cp.seq - end)} from its end",
        )
    latest = matched[-1] if matched else None
    skipped = len(ordered) - len(inside)
    if latest is None:
        return Verdict(
            "no_checkpoints",
            f"NO CHECKPOINTS: every checkpoint falls before record {first}, so none vouches for these records",
        )
    matches = "1 checkpoint matches" if len(matched) == 1 else f"{len(matched)} checkpoints match"
    message = f"{matches}, the latest at record {latest.seq} (signed {latest.time} by key {latest.key_id})"
    if skipped:
        message += f"; {skipped} earlier {'one falls' if skipped == 1 else 'ones fall'} before record {first}"
    if end > latest.seq:
        after = end - latest.seq
        message += "; the record after it is" if after == 1 else f"; the {after} records after it are"
        message += " not checkpointed yet"
    return Verdict("ok", message, len(matched), latest)


def _removed(count: int) -> str:
    return "1 record was removed" if count == 1 else f"{count} records were removed"


def _record_problem(rec: Mapping[str, Any], *, expected: int | None, prev: str | None) -> tuple[str, str]:
    """Check one exported record against its predecessor; return (problem or "", its hash)."""
    seq = rec.get("seq")
    if expected is not None and seq != expected:
        return f"BROKEN at record {expected}: it is missing from the bundle", ""
    if prev is not None and rec.get("prev_hash") != prev:
        return f"BROKEN at record {seq}: its prev_hash does not match the previous record", ""
    if expected is None and seq == 1 and rec.get("prev_hash") != GENESIS:
        return "BROKEN at record 1: its prev_hash is not the genesis hash", ""
    digest = record_hash(
        seq=int(seq),  # type: ignore[arg-type]
        ts=rec["ts"],
        actor=rec["actor"],
        event=rec["event"],
        subject=rec["subject"],
        data=canonical_json(rec["data"]),
        prev=rec["prev_hash"],
    )
    if digest != rec.get("hash"):
        return f"BROKEN at record {seq}: its content does not match its hash", ""
    return "", digest


def verify_bundle(lines: Iterable[str], keys: Mapping[str, Ed25519PublicKey]) -> tuple[Verdict, int]:
    """Check an exported bundle (``switchboard audit export``) with trusted public keys only.

    The bundle is JSON lines: a ``bundle`` header, ``public_key`` lines (listed, never trusted), ``checkpoint``
    lines, the records, and a final ``chain_head``. Returns the verdict and the number of records that verified
    (before the first problem, if any).
    """
    checkpoints: list[tuple[int, Checkpoint]] = []
    wanted: set[int] = set()
    hash_at: dict[int, str] = {}
    first = end = 0
    prev: str | None = None
    head: Any = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("not a JSON object")
            if "checkpoint" in item:
                if prev is not None:
                    raise ValueError("checkpoints must come before the records")
                checkpoints.append((number, Checkpoint.from_json(item["checkpoint"])))
                continue
            if "chain_head" in item:
                head = item["chain_head"]
                continue
            if "bundle" in item or "public_key" in item:
                continue
            if prev is None:
                bad = check_signatures(checkpoints, keys)
                if bad is not None:
                    return bad, 0
                wanted = {cp.seq for _, cp in checkpoints}
            problem, digest = _record_problem(item, expected=end + 1 if prev else None, prev=prev)
        except (ValueError, KeyError, TypeError) as exc:
            why = f"MALFORMED: line {number} of the bundle is unreadable ({exc})"
            return Verdict("malformed", why), end - first + 1 if end else 0
        if problem:
            return Verdict("broken", problem), end - first + 1 if end else 0
        end = int(item["seq"])
        first = first or end
        prev = digest
        if end in wanted:
            hash_at[end] = digest
    if prev is None:
        bad = check_signatures(checkpoints, keys)
        if bad is not None:
            return bad, 0
    if head is not None and (head.get("seq") != end or (end and head.get("hash") != prev)):
        return Verdict(
            "broken", "BROKEN: the chain head line does not match the last record"
        ), end - first + 1
    count = end - first + 1 if end else 0
    return judge([cp for _, cp in checkpoints], hash_at=hash_at, end=end, first=first or 1), count


def main(argv: Sequence[str] | None = None) -> int:
    """Verify a bundle from the command line; exit 0 when it is intact, 1 otherwise."""
    parser = argparse.ArgumentParser(
        description="Verify a Switchboard audit bundle with trusted public keys."
    )
    parser.add_argument("bundle", type=Path, help="the file 'switchboard audit export' wrote")
    parser.add_argument(
        "--public-key",
        type=Path,
        action="append",
        required=True,
        help="a trusted key (PEM); repeat after rotations",
    )
    options = parser.parse_args(argv)
    keys = keyring(load_public_key(path.read_text(encoding="ascii")) for path in options.public_key)
    with options.bundle.open(encoding="utf-8") as handle:
        verdict, count = verify_bundle(handle, keys)
    if verdict.ok:
        print(f"OK: {count} records; {verdict.message}")  # noqa: T201 - this is the standalone tool's output
        return 0
    print(verdict.message, file=sys.stderr)  # noqa: T201
    return 1


if __name__ == "__main__":
    sys.exit(main())
