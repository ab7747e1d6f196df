"""Audit truncation, rewriting and replacement against the signed checkpoints (``switchboard audit verify``).

Each case starts from a copy of one log of 50 records with checkpoints signed at records 20 and 50, does what an
attacker with write access to the database (or to the checkpoint file) would do, with every hash recomputed so
the chain alone still verifies, and names the verdict ``audit verify --checkpoints`` must print. The main attacks
run on PostgreSQL too.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.store.audit import AuditLog
from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.cli import app
from tests.security.bounds import check_error_body, unwatch, watch
from tests.utils.audit_tamper import fill, replace, rewrite, truncate
from tests.utils.db import fresh_engine, temporary_postgres_database

CHECKPOINTS = Path("var") / "audit" / "checkpoints.jsonl"


def _env(folder: Path, patch: pytest.MonkeyPatch) -> None:
    patch.setenv("SWITCHBOARD_VAR_DIR", str(folder / "var"))
    patch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{folder / 'var' / 'switchboard.db'}")
    patch.setenv("COLUMNS", "200")
    for name in (
        "SWITCHBOARD_CONFIG",
        "SWITCHBOARD_SECRET_AUDIT_SIGNING_KEY",
        "SWITCHBOARD_AUDIT_SIGNING_KEY_FILE",
    ):
        patch.delenv(name, raising=False)
    patch.chdir(folder)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A var/ folder with 50 records, checkpoints at 20 and 50, and the signing key."""
    folder = tmp_path_factory.mktemp("audit-template")
    (folder / "var").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        _env(folder, patch)
        engine = make_engine(f"sqlite:///{folder / 'var' / 'switchboard.db'}")
        init_db(engine)
        cli = CliRunner()
        fill(engine, 20)
        assert cli.invoke(app, ["audit", "checkpoint"]).exit_code == 0
        fill(engine, 30)
        assert cli.invoke(app, ["audit", "checkpoint"]).exit_code == 0
        with engine.begin() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
    return folder


@pytest.fixture
def log(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Engine, Path]]:
    """A copy of the template: its engine and the folder the CLI runs in."""
    shutil.copytree(template / "var", tmp_path / "var")
    _env(tmp_path, monkeypatch)
    engine = make_engine(f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    watch(engine)
    yield engine, tmp_path
    unwatch(engine)
    engine.dispose()


def _edit_checkpoints(
    folder: Path, change: Callable[[list[dict[str, object]]], list[dict[str, object]]]
) -> None:
    path = folder / CHECKPOINTS
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps(c, separators=(",", ":")) + "\n" for c in change(lines)))


def _set(index: int, key: str, value: object) -> Callable[[list[dict[str, object]]], list[dict[str, object]]]:
    def change(lines: list[dict[str, object]]) -> list[dict[str, object]]:
        lines[index][key] = value
        return lines

    return change


def attack(name: str, engine: Engine, folder: Path) -> None:
    """Do one attack (name: 'what argument')."""
    what, _, arg = name.partition(" ")
    if what == "untouched":
        return
    if what == "append":  # ordinary growth after the last checkpoint
        fill(engine, int(arg))
    elif what == "truncate":
        truncate(engine, keep=int(arg))
    elif what == "rewrite":
        rewrite(engine, seq=int(arg))
    elif what == "replace":
        replace(engine, records=int(arg))
    elif what == "rewrite+truncate":
        rewrite(engine, seq=int(arg))
        truncate(engine, keep=int(arg))
    elif what == "checkpoint-seq":
        _edit_checkpoints(folder, _set(-1, "seq", int(arg)))
    elif what == "checkpoint-head":
        _edit_checkpoints(folder, _set(-1, "head", "0" * 64))
    elif what == "checkpoint-sig":
        _edit_checkpoints(folder, _set(-1, "sig", "A" * 86 + "=="))
    elif what == "checkpoint-key":
        _edit_checkpoints(folder, _set(-1, "key_id", "0123456789abcdef"))
    elif what == "checkpoint-garbage":
        (folder / CHECKPOINTS).write_text("not a checkpoint\n")
    elif what == "checkpoint-empty":
        (folder / CHECKPOINTS).write_text("")
    elif what == "checkpoint-huge-line":
        (folder / CHECKPOINTS).write_text("x" * 200_000 + "\n")
    else:
        raise AssertionError(name)


# (attack, exit code, how the verdict starts)
CASES = [
    ("untouched", 0, "OK: 50 records"),
    ("append 7", 0, "OK: 57 records"),
    ("truncate 49", 1, "TRUNCATED: the log ends at record 49"),
    ("truncate 40", 1, "TRUNCATED: the log ends at record 40"),
    ("truncate 21", 1, "TRUNCATED: the log ends at record 21"),
    ("truncate 20", 1, "TRUNCATED: the log ends at record 20"),
    ("truncate 10", 1, "TRUNCATED: the log ends at record 10"),
    ("truncate 1", 1, "TRUNCATED: the log ends at record 1"),
    ("truncate 0", 1, "REPLACED: the log holds no records"),
    ("rewrite 50", 1, "REWRITTEN: record 50 differs from the checkpoint"),
    ("rewrite 45", 1, "REWRITTEN: record 50 differs from the checkpoint"),
    ("rewrite 21", 1, "REWRITTEN: record 50 differs from the checkpoint"),
    ("rewrite 20", 1, "REPLACED: no checkpoint matches the log"),
    ("rewrite 1", 1, "REPLACED: no checkpoint matches the log"),
    ("rewrite+truncate 30", 1, "TRUNCATED: the log ends at record 30"),
    ("replace 0", 1, "REPLACED: the log holds no records"),
    ("replace 20", 1, "REPLACED: no checkpoint matches the log"),
    ("replace 50", 1, "REPLACED: no checkpoint matches the log"),
    ("replace 60", 1, "REPLACED: no checkpoint matches the log"),
    ("checkpoint-seq 51", 1, "FORGED: the checkpoint on line 2 does not verify"),
    ("checkpoint-head 0", 1, "FORGED: the checkpoint on line 2 does not verify"),
    ("checkpoint-sig 0", 1, "FORGED: the checkpoint on line 2 does not verify"),
    ("checkpoint-key 0", 1, "UNTRUSTED: the checkpoint on line 2 is signed by key 0123456789abcdef"),
    ("checkpoint-garbage 0", 2, "Error: MALFORMED: line 1"),
    ("checkpoint-empty 0", 1, "NO CHECKPOINTS"),
    ("checkpoint-huge-line 0", 2, "Error: MALFORMED: line 1"),
]


@pytest.mark.parametrize(("name", "code", "verdict"), CASES, ids=[c[0] for c in CASES])
def test_verify_names_what_was_done_to_the_log(
    log: tuple[Engine, Path], name: str, code: int, verdict: str
) -> None:
    engine, folder = log
    attack(name, engine, folder)
    result = CliRunner().invoke(app, ["audit", "verify", "--checkpoints", str(CHECKPOINTS)])
    assert (result.exit_code, result.output[: len(verdict)]) == (code, verdict), result.output
    assert "Traceback" not in result.output
    check_error_body(result.output, what="audit verify output")


@pytest.mark.parametrize("name", ["truncate 40", "rewrite 30", "replace 0"])
def test_the_plain_chain_check_alone_is_fooled_which_is_why_checkpoints_exist(
    log: tuple[Engine, Path], name: str
) -> None:
    engine, folder = log
    attack(name, engine, folder)
    assert AuditLog(engine).verify().ok
    assert os.path.exists(folder / CHECKPOINTS)


@pytest.mark.parametrize("name", ["rewrite 45", "truncate 40", "replace 0"])
def test_no_checkpoint_is_signed_over_a_tampered_log(log: tuple[Engine, Path], name: str) -> None:
    engine, folder = log
    before = (folder / CHECKPOINTS).read_text()
    attack(name, engine, folder)
    fill(engine, 5)
    result = CliRunner().invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 1, result.output
    assert result.output.startswith("REFUSED: not signing a checkpoint"), result.output
    assert (folder / CHECKPOINTS).read_text() == before


@pytest.fixture(scope="module")
def postgres() -> Iterator[str]:
    """A throwaway PostgreSQL database (no skip: the suite needs the loopback PostgreSQL)."""
    with temporary_postgres_database() as url:
        yield url


PG_CASES = [
    case for case in CASES if case[0] in ("untouched", "truncate 40", "rewrite 45", "rewrite 1", "replace 0")
]


@pytest.mark.parametrize(("name", "code", "verdict"), PG_CASES, ids=[c[0] for c in PG_CASES])
def test_verify_on_postgresql(
    postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, code: int, verdict: str
) -> None:
    (tmp_path / "var").mkdir()
    _env(tmp_path, monkeypatch)
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", postgres)
    engine = fresh_engine(postgres)
    watch(engine)
    try:
        cli = CliRunner()
        fill(engine, 20)
        assert cli.invoke(app, ["audit", "checkpoint"]).exit_code == 0
        fill(engine, 30)
        assert cli.invoke(app, ["audit", "checkpoint"]).exit_code == 0
        attack(name, engine, tmp_path)
        result = cli.invoke(app, ["audit", "verify", "--checkpoints", str(CHECKPOINTS)])
        assert (result.exit_code, result.output[: len(verdict)]) == (code, verdict), result.output
        check_error_body(result.output, what="audit verify output")
    finally:
        unwatch(engine)
        engine.dispose()
