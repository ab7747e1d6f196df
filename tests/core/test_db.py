"""The SQLite engine: processes opening a new database file together all get it in WAL mode."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

from sqlalchemy import text

from core.store.db import make_engine

OPENERS = 4


def _open(url: str, at: float) -> None:
    engine = make_engine(url)
    while time.time() < at:  # spin rather than sleep: the openers must meet within microseconds
        pass
    with engine.connect() as conn:
        mode = conn.execute(text("PRAGMA journal_mode")).scalar_one()
    raise SystemExit(0 if mode == "wal" else 3)


def test_processes_opening_a_new_database_together_all_switch_it_to_wal(tmp_path: Path) -> None:
    # SQLite fails a clashing switch into WAL at once instead of waiting out busy_timeout: before the switches
    # queued on a lock, most rounds of four openers had one fail with "database is locked".
    fork = multiprocessing.get_context("fork")
    for round_ in range(10):
        url = f"sqlite:///{tmp_path / f'new{round_}.db'}"
        at = time.time() + 0.2
        openers = [fork.Process(target=_open, args=(url, at)) for _ in range(OPENERS)]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)

        assert [opener.exitcode for opener in openers] == [0] * OPENERS, f"round {round_}"
