"""Done when: one chat turn that runs a flow is one trace, from the HTTP request to the delivery it ends in.

The console runs as in production: on the durable engine, serving the background queue, so the flow leaves the
turn and runs on one of DBOS's queue threads. The trace goes with it (``core.tracing.carrier``) and the tree's
parent links are asserted, from the delivery's HTTP POST back up to the console request.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pydantic import SecretStr
from sqlalchemy.engine import Engine

from agent.config import PolicyConfig, RiskThresholds, ToolPolicy
from agent.service import Switchboard, open_switchboard
from console.app import create_app
from core.store.runs import RunStatus
from core.trace_tree import render_tree
from flows.config import Pipeline, PipelineStep, RetryPolicy, WebhookDestination
from flows.demo.data import load_demo
from switchboard.settings import Settings
from tests.conftest import REFERENCE_DATE
from tests.console.conftest import People, full_registry
from tests.utils.fake_backend import ScriptedBackend
from tests.utils.servers.http import HttpReceiver
from tests.utils.tracing import ancestry, by_name, spans

__all__ = ["spans"]

ROUTE = "POST /api/threads/{thread_id}/messages"
EXPORT = PipelineStep(
    tool="export_dataset", args={"dataset": "orders", "format": "csv", "period": "last_month"}
)
PUSH = PipelineStep(tool="deliver_file", args={"file": "latest", "destination": "erp_webhook"})


@pytest.fixture
def flow_settings(settings: Settings, http_receiver: HttpReceiver) -> Settings:
    """invoice_run exports orders and POSTs them to the ERP's webhook on loopback; the gate lets it run at once."""
    policy = settings.policy.model_dump()
    policy["tools"]["run_flow"] = ToolPolicy(thresholds=RiskThresholds(execute=0.5)).model_dump()
    return settings.model_copy(
        update={
            "retry": RetryPolicy(attempts=1, base_delay_s=0),
            "destinations": {
                **settings.destinations,
                "erp_webhook": WebhookDestination(
                    url=f"{http_receiver.url}/erp", secret_name="erp_secret", timeout_s=5
                ),
            },
            "secrets": {"erp_secret": SecretStr("s3cret")},
            "pipelines": {**settings.pipelines, "invoice_run": Pipeline(steps=[EXPORT, PUSH])},
            "policy": PolicyConfig.model_validate(policy),
        }
    )


@pytest.fixture
def durable_sb(flow_settings: Settings, engine: Engine, backend: ScriptedBackend) -> Iterator[Switchboard]:
    load_demo(engine=engine, settings=flow_settings, today=REFERENCE_DATE)
    with open_switchboard(
        flow_settings, engine, backend=backend, registry=full_registry(), durable_as="console-0"
    ) as service:
        yield service


def _finished(sb: Switchboard, run_id: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while sb.runner.runs.get(run_id).status in (RunStatus.PENDING, RunStatus.RUNNING):
        assert time.monotonic() < deadline, f"run {run_id} never finished"
        time.sleep(0.05)


def _one(found: list[ReadableSpan], name: str, **attributes: object) -> ReadableSpan:
    matching = [
        s
        for s in by_name(found, name)
        if all((s.attributes or {}).get(f"switchboard.{k}") == v for k, v in attributes.items())
    ]
    assert len(matching) == 1, f"{len(matching)} spans {name} {attributes}:\n{render_tree(found)}"
    return matching[0]


def test_a_chat_turn_that_runs_a_flow_is_one_trace_from_http_to_delivery(
    flow_settings: Settings,
    durable_sb: Switchboard,
    backend: ScriptedBackend,
    people: People,
    http_receiver: HttpReceiver,
    spans: InMemorySpanExporter,
) -> None:
    backend.enqueue("run_flow", {"flow": "invoice_run"}, confidence=0.95)
    with TestClient(create_app(flow_settings, switchboard=durable_sb)) as client:
        response = client.post(
            "/api/threads/t1/messages", json={"text": "run the invoice run"}, headers=people("olive")
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["kind"], body["decision"]["action"]) == ("started", "execute")
        _finished(durable_sb, body["run_id"])
    assert durable_sb.runner.runs.get(body["run_id"]).status == RunStatus.SUCCEEDED
    assert [r.path for r in http_receiver.requests] == ["/erp"]

    found = list(spans.get_finished_spans())
    tree = render_tree(found)
    request = _one(found, ROUTE)
    assert len({s.context.trace_id for s in found if s.context is not None}) == 1, tree
    assert request.parent is None and dict(request.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/api/threads/{thread_id}/messages",
        "http.response.status_code": 200,
    }
    turn = _one(found, "agent.turn", thread_id="t1", run_id=body["run_id"])
    _one(found, "node gate", action="execute", tool="run_flow")
    _one(found, "background.run", tool="run_flow", run_id=body["run_id"], thread_id="t1")
    send = _one(found, "delivery.send", destination="erp_webhook", target_kind="webhook", outcome="sent")
    deliver = _one(found, "flows.deliver", outcome="delivered", target_kind="webhook", attempts=1)
    export = _one(found, "flows.export", dataset="orders")

    assert ancestry(found, turn) == ["agent.turn", ROUTE], tree
    assert ancestry(found, send) == [
        "delivery.send",
        "flows.deliver",
        "tool.run",
        "flow.step",
        "background.run",
        "node execute",
        "agent.turn",
        ROUTE,
    ], tree
    assert ancestry(found, export)[:4] == ["flows.export", "tool.run", "flow.step", "background.run"], tree
    assert ancestry(found, deliver)[3] == "background.run"
    step_runs = [s.attributes.get("switchboard.run_id") for s in by_name(found, "tool.run") if s.attributes]
    assert sorted(r.id for r in durable_sb.runner.runs.steps(body["run_id"])) == sorted(step_runs), tree
    assert [(s.attributes or {}).get("switchboard.step") for s in by_name(found, "flow.step")] == [1, 2]
