"""The stdlib-only dataset checker keeps its own copy of the tool vocabulary (it runs before anything is
installed); these tests fail the moment that copy drifts from the code's."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import get_args

from core import periods
from core import vocabulary as types

CHECK = Path(__file__).resolve().parents[2] / "evals" / "datasets" / "switchboard" / "check.py"


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("switchboard_dataset_check", CHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checker_knows_exactly_the_codes_vocabulary() -> None:
    check = _checker()
    assert check.PERIOD_KEYWORDS == frozenset(periods.PERIOD_KEYWORDS)
    assert check.REGIONS == frozenset(types.REGIONS)
    assert check.DATASETS == frozenset(types.DATASETS)
    assert check.FLOWS == frozenset(get_args(types.FlowName))


def test_the_checker_accepts_and_refuses_ranges_as_the_resolver_does() -> None:
    check = _checker()
    for value in ("2026-10-01..2026-10-31", "2026-11-22..2026-11-22", "last_quarter"):
        assert check.check_period(value) is None
        periods.resolve_period(value, today=check.REFERENCE_DATE)  # and the runtime resolves it
    assert check.check_period("2026-10-31..2026-10-01") == "range starts after it ends"
    assert check.check_period("october") == "must be a period keyword or YYYY-MM-DD..YYYY-MM-DD"


def test_the_shipped_dataset_passes_its_own_checker() -> None:
    # Two rows of a blind set once duplicated an earlier file's and nothing noticed: the checker was never run.
    summary, errors = _checker().check_dir(CHECK.parent)
    assert errors == []
    assert summary
