"""The adversarial suite's summary table: cases tried and passed per category, printed at the end of a run.

Each module of ``tests/security`` is one category (``test_access.py`` → access), so the README's figures are read
off a real run: ``pytest tests/security``. A plugin of the root conftest, not of ``tests/security/conftest.py``: under
pytest-xdist the controller that prints the summary collects nothing, so it never loads a sub-folder's conftest;
it does receive every worker's reports.
"""

from __future__ import annotations

from collections import Counter

import pytest

_TRIED: dict[str, str] = {}  # nodeid → category
_FAILED: set[str] = set()
_CALLED: set[str] = set()


def _category(nodeid: str) -> str | None:
    if not nodeid.startswith("tests/security/"):
        return None
    module = nodeid.split("::", 1)[0].rsplit("/", 1)[-1]
    return module.removeprefix("test_").removesuffix(".py")


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Count each case once: failed if any phase failed, passed if its call passed."""
    category = _category(report.nodeid)
    if category is None:
        return
    _TRIED[report.nodeid] = category
    if report.when == "call" and report.passed:
        _CALLED.add(report.nodeid)
    if report.failed:  # the bound check runs in teardown: a case leaving an unbounded record did not pass
        _FAILED.add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print cases tried and passed per category."""
    if not _TRIED:
        return
    write = terminalreporter.write_line
    terminalreporter.section("security suite")
    tried: Counter[str] = Counter(_TRIED.values())
    passed: Counter[str] = Counter(_TRIED[n] for n in _CALLED - _FAILED)
    write(f"{'category':<14} {'tried':>6} {'passed':>7} {'failed':>7}")
    for category in sorted(tried):
        write(
            f"{category:<14} {tried[category]:>6} {passed[category]:>7} {tried[category] - passed[category]:>7}"
        )
    total, ok = sum(tried.values()), sum(passed.values())
    write(f"{'total':<14} {total:>6} {ok:>7} {total - ok:>7}")
