"""PostgreSQL: ingest vacuums the rollups once their dead row versions pass autovacuum's threshold (issue 18).

The loopback server runs with autovacuum off, as some do; the rollups' in-place updates then bloat them for ever.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.engine import Engine

from core.store import rollups
from core.store.bulk import vacuum_if_bloated
from flows.ingest.pipeline import ingest_records
from tests.utils.db import fresh_engine

pytestmark = [pytest.mark.postgres, pytest.mark.integration]


@pytest.fixture
def pg(postgres_url: str) -> Iterator[Engine]:
    engine = fresh_engine(postgres_url)
    yield engine
    engine.dispose()


def _order(n: int) -> dict[str, object]:
    return {
        "id": n,
        "customer_id": 1 + n % 5,
        "sku": "B200",
        "quantity": 1,
        "unit_price": 2.0,
        "total": None,
        "region": "emea",
        "order_date": f"2026-03-{1 + n % 20:02d}",
        "status": "open",
    }


def _dead_rows(engine: Engine) -> dict[str, int]:
    """Dead row versions per rollup table, after this backend's statistics are flushed."""
    with engine.connect() as conn:
        query = "SELECT relname, n_dead_tup FROM pg_stat_user_tables WHERE schemaname = current_schema()"
        return {
            str(name): int(dead) for name, dead in conn.exec_driver_sql(query) if name.startswith("rollup")
        }


def _churn(engine: Engine, times: int) -> None:
    """Update every bucket ``times`` over, as many small ingests would, and flush the statistics."""
    with engine.begin() as conn:
        for _ in range(times):
            conn.exec_driver_sql("UPDATE rollup_customer SET orders = orders")
        conn.exec_driver_sql("SELECT pg_stat_force_next_flush()")


def test_bloated_rollups_are_vacuumed_and_clean_ones_are_left(pg: Engine) -> None:
    ingest_records(engine=pg, records=[_order(n) for n in range(1, 201)], dataset="orders", source="t")
    assert vacuum_if_bloated(pg, rollups.UPDATED) == []  # a first load leaves nothing dead
    _churn(pg, 5)
    assert _dead_rows(pg)["rollup_customer"] >= 5 * 20
    assert vacuum_if_bloated(pg, rollups.UPDATED) == ["rollup_customer"]
    assert _dead_rows(pg)["rollup_customer"] == 0
    assert vacuum_if_bloated(pg, rollups.UPDATED) == []


def test_an_ingest_vacuums_what_it_bloated(pg: Engine) -> None:
    ingest_records(engine=pg, records=[_order(n) for n in range(1, 201)], dataset="orders", source="a")
    _churn(pg, 5)
    ingest_records(engine=pg, records=[_order(n) for n in range(201, 211)], dataset="orders", source="b")
    assert _dead_rows(pg)["rollup_customer"] == 0
