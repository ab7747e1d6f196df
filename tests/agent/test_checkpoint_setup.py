"""Processes starting together on a new PostgreSQL database all get a ready checkpointer (no setup race)."""

from __future__ import annotations

import threading

from agent.checkpoint import open_checkpointer
from switchboard.settings import Settings
from tests.utils.schema import postgres_schema_url


def test_checkpointers_opening_together_on_a_new_database_all_open(
    settings: Settings, postgres_url: str
) -> None:
    with postgres_schema_url(postgres_url) as url:
        configured = settings.model_copy(update={"database_url": url})
        start = threading.Barrier(6)
        failures: list[BaseException] = []

        def open_one() -> None:
            start.wait()
            try:
                with open_checkpointer(configured) as saver:
                    saver.get_tuple({"configurable": {"thread_id": "t", "checkpoint_ns": ""}})
            except BaseException as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(exc)

        threads = [threading.Thread(target=open_one) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    assert failures == []
