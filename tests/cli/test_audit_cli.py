"""``switchboard audit``: checkpoints catch truncation, rewriting and replacement; bundles verify offline."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from core.store.db import make_engine
from core.store.schema import init_db
from switchboard.cli import app
from tests.utils.audit_tamper import fill, replace, rewrite, truncate

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("SWITCHBOARD_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("SWITCHBOARD_DATABASE_URL", f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    monkeypatch.setenv("COLUMNS", "200")
    for name in (
        "SWITCHBOARD_CONFIG",
        "SWITCHBOARD_SECRET_AUDIT_SIGNING_KEY",
        "SWITCHBOARD_AUDIT_SIGNING_KEY_FILE",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    eng = make_engine(f"sqlite:///{tmp_path / 'var' / 'switchboard.db'}")
    init_db(eng)
    return eng


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(app, list(args))
    assert result.exit_code == code, result.output
    assert "Traceback" not in result.output
    return result.output


def public_key(cli: CliRunner) -> str:
    """What 'audit public-key' prints on stdout: the PEM alone (the key id goes to stderr)."""
    result = cli.invoke(app, ["audit", "public-key"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("-----BEGIN PUBLIC KEY-----") and "key id" in result.stderr
    return result.stdout


def key_id(output: str) -> str:
    found = re.search(r"with key ([0-9a-f]{16})", output)
    assert found is not None, output
    return found.group(1)


def test_verify_names_truncation_rewriting_and_replacement(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    checkpoints = tmp_path / "var" / "audit" / "checkpoints.jsonl"
    fill(engine, 20)
    signed = run(cli, "audit", "checkpoint")
    key = key_id(signed)
    assert signed.startswith("Signed a checkpoint of record 20 (")
    fill(engine, 30)
    run(cli, "audit", "checkpoint")
    ok = run(cli, "audit", "verify", "--checkpoints", str(checkpoints))
    assert re.fullmatch(
        rf"OK: 50 records, chain head [0-9a-f]{{64}}; 2 checkpoints match, the latest at record 50 \(signed "
        rf"\S+Z by key {key}\) \({re.escape(str(checkpoints))}\)\n",
        ok,
    ), ok

    rewrite(engine, seq=30)
    assert run(cli, "audit", "verify", code=1).startswith(
        "REWRITTEN: record 50 differs from the checkpoint signed "
    )
    assert run(cli, "audit", "checkpoint", code=1) == (
        "REFUSED: not signing a checkpoint: record 50 no longer has the hash its checkpoint signed\n"
    )

    truncate(engine, keep=40)  # the checkpoint of record 20 still matches; the one of record 50 is cut off
    assert run(cli, "audit", "verify", code=1).startswith(
        "TRUNCATED: the log ends at record 40, but the checkpoint signed "
    )

    replace(engine)
    output = run(cli, "audit", "verify", code=1)
    assert output.startswith("REPLACED: the log holds no records, but the checkpoint signed ")
    assert output.rstrip().endswith(
        f"covers 50: the whole log was deleted and its head reset ({checkpoints})"
    )


def test_a_plain_verify_without_checkpoints_is_unchanged(cli: CliRunner, engine: Engine) -> None:
    fill(engine, 3)
    assert run(cli, "audit", "verify").startswith("OK: 3 records, chain head ")
    result = cli.invoke(app, ["audit", "verify", "--checkpoints", "missing.jsonl"])
    assert (result.exit_code, result.output) == (2, "Error: no checkpoint file at missing.jsonl\n")


def test_an_exported_bundle_verifies_with_the_public_key_alone(
    cli: CliRunner, engine: Engine, tmp_path: Path
) -> None:
    fill(engine, 12)
    (tmp_path / "auditor.pem").write_text(public_key(cli))
    wrote = run(cli, "audit", "export", "--out", str(tmp_path / "bundle.jsonl"))
    assert wrote == f"Wrote 12 records, 1 checkpoint and the chain head to {tmp_path / 'bundle.jsonl'}\n"
    ok = run(
        cli,
        "audit",
        "verify-bundle",
        str(tmp_path / "bundle.jsonl"),
        "--public-key",
        str(tmp_path / "auditor.pem"),
    )
    assert re.fullmatch(
        r"OK: 12 records; 1 checkpoint matches, the latest at record 12 \(signed \S+Z by key [0-9a-f]{16}\)\n",
        ok,
    ), ok

    # The same check with nothing but the one file and the cryptography package, as an auditor runs it.
    script = subprocess.run(
        [
            sys.executable,
            str(ROOT / "core" / "audit_verify.py"),
            str(tmp_path / "bundle.jsonl"),
            "--public-key",
            str(tmp_path / "auditor.pem"),
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert (script.returncode, script.stdout) == (0, ok.replace("\n", "") + "\n")

    lines = (tmp_path / "bundle.jsonl").read_text().splitlines()
    forged = [
        line.replace('"actor":"alice"', '"actor":"mallo"') if '"seq":5,' in line else line for line in lines
    ]
    (tmp_path / "forged.jsonl").write_text("\n".join(forged) + "\n")
    bad = run(
        cli,
        "audit",
        "verify-bundle",
        str(tmp_path / "forged.jsonl"),
        "--public-key",
        str(tmp_path / "auditor.pem"),
        code=1,
    )
    assert bad == "BROKEN at record 5: its content does not match its hash\n"


def test_rotating_the_key_keeps_old_checkpoints_verifiable(
    cli: CliRunner, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(engine, 5)
    first = key_id(run(cli, "audit", "checkpoint"))
    old_pem = public_key(cli)
    made = run(cli, "audit", "keygen", "--out", str(tmp_path / "new.pem"))
    second = re.search(r"Wrote key ([0-9a-f]{16})", made).group(1)  # type: ignore[union-attr]
    assert made.endswith(f"Sign with it: SWITCHBOARD_AUDIT_SIGNING_KEY_FILE={tmp_path / 'new.pem'}\n")
    assert run(cli, "audit", "keygen", "--out", str(tmp_path / "new.pem"), code=2).startswith(
        f"Error: {tmp_path / 'new.pem'} already exists; a signing key is never overwritten"
    )
    monkeypatch.setenv("SWITCHBOARD_AUDIT_SIGNING_KEY_FILE", str(tmp_path / "new.pem"))
    fill(engine, 5)
    assert key_id(run(cli, "audit", "checkpoint")) == second != first
    assert "2 checkpoints match, the latest at record 10" in run(cli, "audit", "verify")

    # An auditor holding both public keys verifies the whole bundle; with only the new one, the old
    # checkpoint is untrusted.
    new_pem = public_key(cli)
    (tmp_path / "old.pub").write_text(old_pem)
    (tmp_path / "new.pub").write_text(new_pem)
    run(cli, "audit", "export", "--out", str(tmp_path / "b.jsonl"))
    both = run(
        cli,
        "audit",
        "verify-bundle",
        str(tmp_path / "b.jsonl"),
        "--public-key",
        str(tmp_path / "old.pub"),
        "--public-key",
        str(tmp_path / "new.pub"),
    )
    assert both.startswith("OK: 10 records; 2 checkpoints match")
    only_new = run(
        cli,
        "audit",
        "verify-bundle",
        str(tmp_path / "b.jsonl"),
        "--public-key",
        str(tmp_path / "new.pub"),
        code=1,
    )
    assert only_new.startswith(
        f"UNTRUSTED: the checkpoint on line 4 is signed by key {first}, which is not among the trusted keys ({second})"
    )
    assert (
        json.loads((tmp_path / "b.jsonl").read_text().splitlines()[0])["bundle"]["format"]
        == "switchboard-audit-bundle/v1"
    )
