"""The shipped embedded backend as a module fixture, and a helper to ask it after one earlier call."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any

import pytest

from agent.backends.base import DecideRequest, Decision, Turn
from agent.backends.embedded.backend import EmbeddedBackend
from agent.backends.factory import build_embedded
from evals.commands import demo_database
from switchboard.settings import load_settings
from tools.registry import build_registry

TODAY = date(2026, 11, 22)
# An earlier call in the thread: (tool, arguments, the run it started or None).
Earlier = tuple[str, dict[str, Any], int | None]


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> EmbeddedBackend:
    settings = load_settings(var_dir=tmp_path_factory.mktemp("embedded"), reference_date=TODAY.isoformat())
    return build_embedded(settings, registry=build_registry())


@pytest.fixture(scope="module")
def db_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedBackend]:
    """The backend as it runs live: names and ids resolve against the demo database (as ``eval --with-db``)."""
    settings = load_settings(var_dir=tmp_path_factory.mktemp("embedded-db"), reference_date=TODAY.isoformat())
    with demo_database(settings, today=TODAY) as engine:
        yield build_embedded(settings, registry=build_registry(), engine=engine)


def decide(backend: EmbeddedBackend, text: str, after: Earlier | None = None) -> Decision:
    """The backend's decision on ``text``, in a thread whose last call is ``after`` (a fresh thread when None)."""
    context: list[Turn] = []
    if after is not None:
        tool, args, run_id = after
        context = [Turn(role="user", text="..."), Turn(role="assistant", tool=tool, args=args, run_id=run_id)]
    return backend.decide(DecideRequest(text=text, context=context, today=TODAY))


def picked(decision: Decision, names: Iterable[str]) -> dict[str, Any]:
    """The decision's values for ``names`` only (None where it has none): what a test's expected arguments check."""
    return {name: decision.args.get(name) for name in names}


def assert_call(
    backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any], after: Earlier | None = None
) -> Decision:
    """Assert the backend calls ``tool`` with ``expected`` among its arguments (after ``after``); return the call."""
    decision = decide(backend, text, after)
    assert decision.tool == tool, decision
    assert picked(decision, expected) == expected
    return decision


Call = tuple[str, str, dict[str, Any], Earlier | None]  # (message, tool, expected arguments, earlier call)


def calls_test(cases: list[Call]) -> Callable[..., None]:
    """A round's test of calls: each message, after its earlier call, gives the tool with those arguments.

    Assign it to a ``test_…`` name in the round's module; it runs against the demo database (``db_backend``).
    """

    @pytest.mark.parametrize(("text", "tool", "expected", "after"), cases)
    def test(
        db_backend: EmbeddedBackend, text: str, tool: str, expected: dict[str, Any], after: Earlier | None
    ) -> None:
        assert_call(db_backend, text, tool, expected, after)

    return test


def refusals_test(cases: list[tuple[str, Earlier | None]]) -> Callable[..., None]:
    """A round's test of refusals: each message, after its earlier call, asks for work no tool does."""

    @pytest.mark.parametrize(("text", "after"), cases)
    def test(db_backend: EmbeddedBackend, text: str, after: Earlier | None) -> None:
        assert decide(db_backend, text, after).tool is None

    return test
