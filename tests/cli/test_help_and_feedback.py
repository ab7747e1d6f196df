"""What a person reads around the output: grouped help, the call behind a chat reply, and logs said in words."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from rich.text import Text
from typer.testing import CliRunner

from agent.state import DecisionView, Reply
from core.logs import StderrHandler
from switchboard.app import App
from switchboard.cli import app
from switchboard.commands.chat_cmd import render_reply
from switchboard.feedback import RETRY_LOGGER, working
from switchboard.terminal import err_console


def test_help_is_grouped_by_what_you_want_to_do_with_examples(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "120")
    result = CliRunner().invoke(app, ["--help"])

    assert result.exit_code == 0, result.output
    out = result.output
    panels = [
        "Run your flows and see what happened",
        "Approve and audit",
        "Set up and look after Switchboard",
        "Measure and train the assistant",
    ]
    assert sorted(panels, key=out.find) == panels and all(f"╭─ {panel} ─" in out for panel in panels)
    assert "Commands ─" not in out  # every command is in a group
    run_panel = out[out.find(panels[0]) : out.find(panels[1])]
    for command in ("runs", "retry", "chat", "flows", "tools", "schedules"):
        assert f"│ {command} " in run_panel
    for example in (
        "Run a flow now:               switchboard flows run nightly_sales_export",
        "Look at one run:              switchboard runs 3",
        "Decide what waits:            switchboard approvals list",
        "Start from demo data:         switchboard demo",
        "Measure the assistant:        switchboard eval",
    ):
        assert f" {example} " in out


def test_flows_run_help_says_the_shell_is_trusted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "250")
    out = " ".join(CliRunner().invoke(app, ["flows", "run", "--help"]).output.split())
    assert (
        "It runs at once, without the approval policy chat and the console apply: shell access to this host is "
        'trusted (see README, "The CLI and approvals"). The audit log records the call with source "cli".'
    ) in out


EXPORT = DecisionView(
    tool="export_dataset",
    args={"dataset": "orders", "format": "csv", "period": "last_month"},
    confidence=0.97,
    action="confirm",
    backend="embedded",
)
CALL = "export_dataset(dataset=orders, format=csv, period=last_month) · confidence 0.97 · confirm · embedded"


@pytest.mark.parametrize(
    ("kind", "verbose", "line"),
    [
        ("answer", False, f"what I ran: {CALL}"),
        ("started", False, f"what I ran: {CALL}"),
        ("confirm", False, None),
        ("question", False, None),
        ("waiting", False, None),
        ("error", False, None),
        ("confirm", True, f"would run: {CALL}"),
        ("question", True, f"would run: {CALL}"),
        ("waiting", True, f"would run: {CALL}"),
        ("error", True, f"call: {CALL}"),
        ("info", True, f"call: {CALL}"),
    ],
)
def test_nothing_is_labelled_ran_before_it_ran(
    capsys: pytest.CaptureFixture[str], kind: str, verbose: bool, line: str | None
) -> None:
    render_reply(Reply(text="Shall I export orders?", decision=EXPORT, kind=kind), verbose=verbose)  # type: ignore[arg-type]

    printed = capsys.readouterr().out.splitlines()
    assert printed[:3] == [
        "╭─ switchboard ──────────╮",
        "│ Shall I export orders? │",
        "╰────────────────────────╯",
    ]
    assert printed[3:] == ([line] if line else [])


@pytest.fixture
def raw_handler(monkeypatch: pytest.MonkeyPatch) -> Iterator[StderrHandler]:
    """The console script's stderr handler on the root logger (in-process commands have none)."""
    for name in ("SWITCHBOARD_CONFIG", "SWITCHBOARD_LOG_LEVEL"):
        monkeypatch.delenv(name, raising=False)
    handler = StderrHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)


def test_a_warning_while_working_is_one_line_in_words(
    raw_handler: StderrHandler, capsys: pytest.CaptureFixture[str]
) -> None:
    with working(App(overrides={"var_dir": "."}), "Running nightly_sales_export"):
        logging.getLogger("flows.operations.alerts").warning(
            "alert to %s via %s failed: %s", "ops", "email", "refused"
        )
        logging.getLogger(RETRY_LOGGER).warning("email notification 1 failed after 4 attempts: refused")
        logging.getLogger(RETRY_LOGGER).info(
            "email notification 1 attempt 1 failed (refused); retrying in 0.50s"
        )
    logging.getLogger("flows.operations.alerts").warning("after the block")

    # The retries' outcome is the command's own result, said once there; the other warning becomes words. After
    # the block, records are raw again.
    assert capsys.readouterr().err == "warning: alert to ops via email failed: refused\nafter the block\n"


def test_verbose_keeps_the_raw_records(
    raw_handler: StderrHandler, capsys: pytest.CaptureFixture[str]
) -> None:
    with working(App(verbose=1), "Running nightly_sales_export"):
        logging.getLogger("flows.operations.alerts").warning("alert to ops via email failed: refused")

    assert capsys.readouterr().err == "alert to ops via email failed: refused\n"


class _Spinner:
    """Stands in for Rich's status spinner, keeping every text it was given."""

    def __init__(self, label: Text) -> None:
        self.texts = [label.plain]

    def update(self, text: Text) -> None:
        self.texts.append(text.plain)

    def __enter__(self) -> _Spinner:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None


def test_at_a_terminal_a_retry_shows_in_the_spinner(
    raw_handler: StderrHandler, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "160")
    spinners: list[_Spinner] = []
    monkeypatch.setattr(err_console, "_force_terminal", True)
    monkeypatch.setattr(err_console, "status", lambda label: spinners.append(_Spinner(label)) or spinners[-1])
    retries = logging.getLogger(RETRY_LOGGER)
    reason = "could not reach the mail server at 127.0.0.1:2525: connection refused"

    with working(App(overrides={"var_dir": "."}), "Running nightly_sales_export"):
        retries.info("%s attempt %d failed (%s); retrying in %.2fs", "email notification 1", 1, reason, 0.5)
        retries.info(
            "%s attempt %d failed (%s); retrying in %.2fs", "email notification 1", 2, reason * 2, 1.0
        )

    assert [spinner.texts for spinner in spinners] == [
        [
            "Running nightly_sales_export",
            f"Running nightly_sales_export · {reason}; retry 2 in 0.5 s",
            # One line: cut to the width, less the spinner's two cells and one for the ellipsis.
            f"Running nightly_sales_export · {reason * 2}; retry 3 in 1.0 s"[:156] + "…",
        ]
    ]
    assert capsys.readouterr().err == ""
    assert retries.level == logging.NOTSET  # the level it had before the block


def test_a_traceback_stays_raw(raw_handler: StderrHandler, capsys: pytest.CaptureFixture[str]) -> None:
    with working(App(overrides={"var_dir": "."}), "Running nightly_sales_export"):
        try:
            raise RuntimeError("disk full")
        except RuntimeError:
            logging.getLogger("tools.runtime").exception("tool %s failed", "export_dataset")

    err = capsys.readouterr().err
    assert err.startswith("tool export_dataset failed\nTraceback (most recent call last):\n")
    assert err.endswith("RuntimeError: disk full\n")
