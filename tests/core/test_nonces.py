"""Seen signatures: a signed request is claimed once, across threads and on both databases."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from core.store.nonces import SeenSignature, claim_signature

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def _kept(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(SeenSignature)).scalar_one())


def test_a_signature_is_claimed_once(any_engine: Engine) -> None:
    later = NOW + timedelta(minutes=5)
    assert claim_signature(any_engine, signature="v1=aa", expires_at=later, now=NOW) is True
    assert claim_signature(any_engine, signature="v1=aa", expires_at=later, now=NOW) is False
    assert claim_signature(any_engine, signature="v1=bb", expires_at=later, now=NOW) is True


def test_expired_claims_are_cleaned_up_as_claims_go(any_engine: Engine) -> None:
    claim_signature(any_engine, signature="v1=old", expires_at=NOW + timedelta(minutes=5), now=NOW)
    claim_signature(any_engine, signature="v1=new", expires_at=NOW + timedelta(minutes=9), now=NOW)
    assert _kept(any_engine) == 2
    six = NOW + timedelta(minutes=6)
    assert claim_signature(any_engine, signature="v1=next", expires_at=six + timedelta(minutes=5), now=six)
    assert _kept(any_engine) == 2  # "old" went; "new" and "next" stay


def test_concurrent_replays_let_exactly_one_through(any_engine: Engine) -> None:
    results: list[bool] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def claim() -> None:
        barrier.wait()
        won = claim_signature(any_engine, signature="v1=race", expires_at=NOW + timedelta(minutes=5), now=NOW)
        with lock:
            results.append(won)

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 7 + [True]
