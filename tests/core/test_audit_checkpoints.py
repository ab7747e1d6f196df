"""Signed checkpoints: truncation, rewriting and replacement of the audit log are caught and named.

Every tamper here is done carefully (``tests.utils.audit_tamper``: hashes and head recomputed), so the chain
alone still verifies; each test asserts that first, so it shows what only the checkpoints catch.
"""

from __future__ import annotations

import io
import json
import logging
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from core.audit_keys import (
    Signer,
    checkpoint_path,
    keyring_dir,
    load_signer,
    publish,
    trusted_keys,
    write_new_key,
)
from core.audit_verify import Checkpoint, Verdict, keyring, verify_bundle
from core.errors import AuditTampered, BadInput, ConfigError
from core.store.audit import GENESIS, AuditLog
from core.store.checkpoints import Checkpointer, CheckpointFile, read_checkpoints, verify_log, write_bundle
from switchboard.settings import Settings
from tests.utils.audit_tamper import fill, replace, rewrite, truncate

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


@pytest.fixture
def checkpointer(any_engine: Engine, settings: Settings) -> Checkpointer:
    return Checkpointer(engine=any_engine, settings=settings)


def sign_at(checkpointer: Checkpointer, at: datetime) -> Checkpoint:
    written = checkpointer.run(now=at, force=True)
    assert written is not None
    return written


def judged(checkpointer: Checkpointer) -> Verdict:
    """The checkpoints' verdict, after asserting that the chain alone still says OK."""
    settings = checkpointer.settings
    outcome = verify_log(
        checkpointer.engine,
        checkpoints=read_checkpoints(checkpoint_path(settings)),
        keys=trusted_keys(settings),
    )
    assert outcome.chain.ok, outcome.chain
    assert outcome.checkpoints is not None
    return outcome.checkpoints


def test_an_untouched_log_matches_every_checkpoint(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 30)
    sign_at(checkpointer, T0)
    fill(checkpointer.engine, 20)
    last = sign_at(checkpointer, T0 + timedelta(minutes=1))
    fill(checkpointer.engine, 3)
    verdict = judged(checkpointer)
    assert (verdict.kind, verdict.checked, verdict.latest) == ("ok", 2, last)
    assert verdict.message == (
        f"2 checkpoints match, the latest at record 50 (signed 2026-12-03T10:01:00Z by key {last.key_id}); "
        "the 3 records after it are not checkpointed yet"
    )


def test_a_truncated_tail_is_named(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 50)
    sign_at(checkpointer, T0)
    truncate(checkpointer.engine, keep=30)
    verdict = judged(checkpointer)
    assert (verdict.kind, verdict.message) == (
        "truncated",
        "TRUNCATED: the log ends at record 30, but the checkpoint signed 2026-12-03T10:00:00Z covers 50: "
        "20 records were removed from its end",
    )


def test_a_rewrite_after_a_checkpoint_is_named(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 20)
    sign_at(checkpointer, T0)
    fill(checkpointer.engine, 30)
    sign_at(checkpointer, T0 + timedelta(minutes=5))
    rewrite(checkpointer.engine, seq=35)
    verdict = judged(checkpointer)
    assert (verdict.kind, verdict.message) == (
        "rewritten",
        "REWRITTEN: record 50 differs from the checkpoint signed 2026-12-03T10:05:00Z: a record in 21..50 was "
        "changed after that checkpoint and the hashes after it recomputed",
    )


def test_deleting_everything_and_resetting_the_head_is_named(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 10)
    sign_at(checkpointer, T0)
    replace(checkpointer.engine)
    assert AuditLog(checkpointer.engine).verify().records == 0  # what 'audit verify' said: "OK: 0 records"
    verdict = judged(checkpointer)
    assert (verdict.kind, verdict.message) == (
        "replaced",
        "REPLACED: the log holds no records, but the checkpoint signed 2026-12-03T10:00:00Z covers 10: the whole "
        "log was deleted and its head reset",
    )


def test_a_new_history_in_place_of_the_old_is_named(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 10)
    sign_at(checkpointer, T0)
    replace(checkpointer.engine, records=12)
    verdict = judged(checkpointer)
    assert (verdict.kind, verdict.message) == (
        "replaced",
        "REPLACED: no checkpoint matches the log (the earliest, signed 2026-12-03T10:00:00Z, vouches for a "
        "different record 10): the whole log was replaced, or rewritten from a record in 1..10",
    )


def test_an_edited_or_foreign_checkpoint_is_named(checkpointer: Checkpointer, settings: Settings) -> None:
    fill(checkpointer.engine, 10)
    good = sign_at(checkpointer, T0)
    path = checkpoint_path(settings)
    lines = path.read_text().splitlines()
    edited = {**json.loads(lines[0]), "seq": 5}
    path.write_text(json.dumps(edited) + "\n")
    outcome = verify_log(checkpointer.engine, checkpoints=read_checkpoints(path), keys=trusted_keys(settings))
    assert outcome.checkpoints == Verdict(
        "forged",
        f"FORGED: the checkpoint on line 1 does not verify with key {good.key_id}: it was edited or signed by "
        "another key",
    )
    stranger = Signer(Ed25519PrivateKey.generate()).sign(seq=10, head=good.head, at=T0)
    path.write_text(lines[0] + "\n" + json.dumps(stranger.to_json()) + "\n")
    outcome = verify_log(checkpointer.engine, checkpoints=read_checkpoints(path), keys=trusted_keys(settings))
    assert outcome.checkpoints == Verdict(
        "untrusted",
        f"UNTRUSTED: the checkpoint on line 2 is signed by key {stranger.key_id}, which is not among the trusted "
        f"keys ({good.key_id})",
    )


def test_the_signer_refuses_a_log_that_no_longer_extends_its_checkpoint(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 20)
    sign_at(checkpointer, T0)
    rewrite(checkpointer.engine, seq=10)
    fill(checkpointer.engine, 5)
    with pytest.raises(
        AuditTampered,
        match=r"^not signing a checkpoint: record 21 does not fit \(its prev_hash does not match the previous "
        r"record\)$",
    ):
        checkpointer.run(now=T0 + timedelta(hours=1), force=True)
    truncate(checkpointer.engine, keep=15)
    with pytest.raises(
        AuditTampered,
        match="^not signing a checkpoint: the log ends at record 15, before the last checkpoint's record 20$",
    ):
        checkpointer.run(now=T0 + timedelta(hours=1))
    assert [cp.seq for _, cp in checkpointer.file.read()] == [20]


def test_the_signer_refuses_to_continue_from_a_checkpoint_it_cannot_verify(
    checkpointer: Checkpointer, settings: Settings
) -> None:
    fill(checkpointer.engine, 5)
    sign_at(checkpointer, T0)
    rewrite(checkpointer.engine, seq=3)
    head = AuditLog(checkpointer.engine).head()
    stranger = Signer(Ed25519PrivateKey.generate())
    CheckpointFile(checkpoint_path(settings)).append(stranger.sign(seq=5, head=head.hash, at=T0))
    fill(checkpointer.engine, 1)
    with pytest.raises(
        AuditTampered,
        match=rf"^not signing a checkpoint: the last checkpoint in .*checkpoints\.jsonl is signed by key "
        rf"{stranger.key_id}, which is not among the trusted keys",
    ):
        checkpointer.run(now=T0 + timedelta(hours=1), force=True)


def test_a_checkpoint_is_due_every_n_records_or_m_minutes(any_engine: Engine, settings: Settings) -> None:
    checkpointer = Checkpointer(
        engine=any_engine,
        settings=settings.model_copy(update={"audit_checkpoint_every": 10, "audit_checkpoint_minutes": 5}),
    )
    assert checkpointer.run(now=T0) is None  # an empty log: nothing to vouch for
    fill(any_engine, 3)
    assert checkpointer.run(now=T0) is not None  # the first checkpoint comes at once
    fill(any_engine, 9)
    assert checkpointer.run(now=T0 + timedelta(minutes=1)) is None
    fill(any_engine, 1)
    assert checkpointer.run(now=T0 + timedelta(minutes=1)).seq == 13  # type: ignore[union-attr]
    fill(any_engine, 1)
    assert checkpointer.run(now=T0 + timedelta(minutes=5)) is None
    assert checkpointer.run(now=T0 + timedelta(minutes=6)).seq == 14  # type: ignore[union-attr]
    assert checkpointer.run(now=T0 + timedelta(hours=1), force=True) is None  # the head has not moved
    assert [cp.seq for _, cp in checkpointer.file.read()] == [3, 13, 14]


def test_rotating_the_key_keeps_old_checkpoints_verifiable(
    checkpointer: Checkpointer, settings: Settings
) -> None:
    fill(checkpointer.engine, 10)
    old = sign_at(checkpointer, T0)
    new_key = settings.var_dir / "keys" / "2027.pem"
    rotated = write_new_key(new_key)
    publish(settings, rotated.public_key)
    after = Checkpointer(
        engine=checkpointer.engine, settings=settings.model_copy(update={"audit_signing_key_file": new_key})
    )
    fill(checkpointer.engine, 5)
    new = sign_at(after, T0 + timedelta(days=1))
    assert old.key_id != new.key_id
    verdict = judged(after)
    assert (verdict.kind, verdict.checked, verdict.latest) == ("ok", 2, new)
    # Without the old public key, its checkpoints cannot be checked: that is why the keyring keeps it.
    (keyring_dir(settings) / f"{old.key_id}.pem").unlink()
    outcome = verify_log(
        checkpointer.engine,
        checkpoints=read_checkpoints(checkpoint_path(settings)),
        keys=trusted_keys(settings),
    )
    assert outcome.checkpoints is not None and outcome.checkpoints.kind == "untrusted"


def test_the_demo_key_is_made_private_and_never_shown(
    checkpointer: Checkpointer, settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    fill(checkpointer.engine, 1)
    with caplog.at_level(logging.DEBUG):
        written = sign_at(checkpointer, T0)
    key_file = settings.var_dir / "audit" / "signing-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    pem = key_file.read_text()
    assert "PRIVATE KEY" in pem
    assert "PRIVATE KEY" not in caplog.text and pem.splitlines()[1] not in caplog.text
    assert repr(checkpointer.signer()) == f"Signer(key_id={written.key_id!r})"
    assert (
        (keyring_dir(settings) / f"{written.key_id}.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    )


def test_the_secret_key_comes_first_and_a_missing_key_file_is_an_error(
    settings: Settings, tmp_path: Path
) -> None:
    made = write_new_key(tmp_path / "k.pem")
    from_secret = settings.model_copy(
        update={"secrets": {"audit_signing_key": SecretStr((tmp_path / "k.pem").read_text())}}
    )
    assert load_signer(from_secret).key_id == made.key_id
    missing = settings.model_copy(update={"audit_signing_key_file": tmp_path / "nope.pem"})
    with pytest.raises(
        ConfigError, match=r"^audit_signing_key_file .*nope\.pem does not exist; make one with"
    ):
        load_signer(missing)
    with pytest.raises(BadInput, match="already exists; a signing key is never overwritten"):
        write_new_key(tmp_path / "k.pem")


def test_a_checkpoint_message_and_signature_are_pinned() -> None:
    signer = Signer(Ed25519PrivateKey.from_private_bytes(bytes(range(32))))
    checkpoint = signer.sign(seq=7, head="cd" * 32, at=T0)
    assert checkpoint.message() == (
        b"switchboard-audit-checkpoint/v1\n7\n" + b"cd" * 32 + b"\n2026-12-03T10:00:00Z\n56475aa75463474c\n"
    )
    assert checkpoint.signature == (
        "wmL9J4QlisBTR01J7FBN5L8a/VocfAzFFCrGBJLdh32HFRne+KXqohdF4gM8hwKQsjmIoa2ACdlnKvgWZcGYAw=="
    )


def _bundle(checkpointer: Checkpointer, **kwargs: object) -> list[str]:
    out = io.StringIO()
    write_bundle(
        checkpointer.engine,
        out,
        checkpoints=list(checkpointer.file.read()),
        keys=trusted_keys(checkpointer.settings),
        **kwargs,  # type: ignore[arg-type]
    )
    return out.getvalue().splitlines()


def test_a_bundle_verifies_offline_with_the_public_key_alone(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 40)
    first = sign_at(checkpointer, T0)
    fill(checkpointer.engine, 10)
    last = sign_at(checkpointer, T0 + timedelta(minutes=5))
    lines = _bundle(checkpointer)
    trusted = keyring([checkpointer.signer().public_key])
    assert verify_bundle(lines, trusted) == (
        Verdict(
            "ok",
            f"2 checkpoints match, the latest at record 50 (signed 2026-12-03T10:05:00Z by key {last.key_id})",
            2,
            last,
        ),
        50,
    )
    assert json.loads(lines[0])["bundle"]["format"] == "switchboard-audit-bundle/v1"
    # The bundle's own key is listed, never trusted: another key is refused.
    verdict, _ = verify_bundle(lines, keyring([Ed25519PrivateKey.generate().public_key()]))
    assert verdict.kind == "untrusted"
    # An edit inside the bundle breaks the chain there.
    edited = [
        line.replace('"actor":"alice"', '"actor":"mallo"', 1) if '"seq":7,' in line else line
        for line in lines
    ]
    assert verify_bundle(edited, trusted)[0] == Verdict(
        "broken", "BROKEN at record 7: its content does not match its hash"
    )
    # A bundle cut before its last checkpoint is truncated.
    cut = [line for line in lines if json.loads(line).get("seq", 0) <= 45 and "chain_head" not in line]
    assert verify_bundle(cut, trusted)[0].kind == "truncated"
    assert first.seq == 40


def test_a_bundle_of_a_rewritten_log_is_named(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 20)
    sign_at(checkpointer, T0)
    fill(checkpointer.engine, 10)
    sign_at(checkpointer, T0 + timedelta(minutes=5))
    rewrite(checkpointer.engine, seq=25)
    trusted = keyring([checkpointer.signer().public_key])
    verdict, count = verify_bundle(_bundle(checkpointer), trusted)
    assert (verdict.kind, count, verdict.message) == (
        "rewritten",
        30,
        "REWRITTEN: record 30 differs from the checkpoint signed 2026-12-03T10:05:00Z: a record in 21..30 was "
        "changed after that checkpoint and the hashes after it recomputed",
    )


def test_a_partial_bundle_checks_the_checkpoints_it_covers(checkpointer: Checkpointer) -> None:
    fill(checkpointer.engine, 10)
    sign_at(checkpointer, T0)
    cutoff = datetime.now(UTC)
    fill(checkpointer.engine, 10)
    last = sign_at(checkpointer, T0 + timedelta(minutes=5))
    trusted = keyring([checkpointer.signer().public_key])
    verdict, count = verify_bundle(_bundle(checkpointer, since=cutoff), trusted)
    assert (verdict.kind, count, verdict.latest) == ("ok", 10, last)
    assert verdict.message.endswith("; 1 earlier one falls before record 11")


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    size=st.integers(min_value=1, max_value=12),
    data=st.data(),
    attack=st.sampled_from(["truncate", "rewrite", "replace", "replace_with_more"]),
)
def test_no_careful_tamper_before_a_checkpoint_goes_unnoticed(
    engine: Engine, settings: Settings, size: int, data: st.DataObject, attack: str
) -> None:
    checkpoint_path(settings).unlink(missing_ok=True)
    replace(engine)
    checkpointer = Checkpointer(engine=engine, settings=settings)
    fill(engine, size)
    sign_at(checkpointer, T0)
    fill(engine, data.draw(st.integers(min_value=0, max_value=5), label="after"))
    if attack == "truncate":
        truncate(engine, keep=data.draw(st.integers(min_value=0, max_value=size - 1), label="keep"))
    elif attack == "rewrite":
        rewrite(engine, seq=data.draw(st.integers(min_value=1, max_value=size), label="seq"))
    else:
        replace(engine, records=size + 3 if attack == "replace_with_more" else 0)
    assert not judged(checkpointer).ok


def test_the_checkpoint_file_reads_its_last_line_from_the_end(tmp_path: Path) -> None:
    file = CheckpointFile(tmp_path / "c.jsonl")
    assert file.last() is None and list(file.read()) == []
    signer = Signer(Ed25519PrivateKey.generate())
    for seq in range(1, 40):
        file.append(signer.sign(seq=seq, head=GENESIS, at=T0))
    assert file.last() is not None and file.last().seq == 39  # type: ignore[union-attr]
    assert [n for n, _ in file.read()] == list(range(1, 40))
