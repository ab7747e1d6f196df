"""The Model page and its API: last week's drift for admins and approvers, refused for operators; the gauges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.engine import Engine

from agent.modelops.drift_windows import window_of
from agent.modelops.events import SHADOW_EVENT, RouterChoice, ShadowData
from core.store.audit import AuditLog
from switchboard.settings import Settings
from tests.console.conftest import People, login
from tests.utils.drift import seed_baseline, seed_week
from tests.utils.fake_backend import ScriptedBackend

LAST_WEEK = window_of(datetime.now(UTC) - timedelta(days=7), "week")
QUERY = "window=week&days=14"


@pytest.fixture
def last_week(settings: Settings, engine: Engine, monkeypatch: pytest.MonkeyPatch) -> str:
    """Last ISO week seeded as in the drift tests, two shadow decisions today; returns the week's label."""
    seed_baseline(Path(settings.var_dir))
    seed_week(engine, monkeypatch, monday=LAST_WEEK.start)
    log = AuditLog(engine)
    for text, live, candidate in [
        ("re-tier the vip customers", "apply_rules", "normalize_dataset"),
        ("sales by region", "run_report", "run_report"),
    ]:
        data = ShadowData(
            text=text,
            live=RouterChoice(tool=live, confidence=0.7),
            candidate=RouterChoice(tool=candidate, confidence=0.8),
            live_fingerprint="live1",
            candidate_fingerprint="cand1",
        )
        log.append(SHADOW_EVENT, actor="olive", subject="thread:t-s", data=data.model_dump(mode="json"))
    return LAST_WEEK.label


def test_admins_see_the_flagged_tool_the_charts_and_the_shadow_router(
    client: TestClient, people: People, last_week: str
) -> None:
    people.token("root"), people.token("ann")
    login(client, "root")
    page = client.get(f"/model?{QUERY}")
    assert page.status_code == 200
    html = page.text
    assert 'id="nav-model"' in html
    assert f"<li><strong>apply_rules</strong> · {last_week}: correction rate 30% (21 of 70 decisions)" in html
    assert (
        'data-measures="confidence,corrections,oos,psi"' in html
        and 'data-query="window=week&amp;days=14"' in html
    )
    assert "decided 2 messages beside the live router and chose differently on 1 (50 % agreement)" in html
    assert "<td>re-tier the vip customers</td>" in html and "<td>normalize_dataset (0.80)</td>" in html
    client.cookies.clear()
    login(client, "ann")
    assert client.get(f"/model?{QUERY}").status_code == 200


def test_operators_are_refused_the_page_and_the_api(client: TestClient, people: People) -> None:
    people.token("olive")
    login(client, "olive")
    page = client.get("/model")
    assert page.status_code == 403
    assert "Olive has the operator role; the model drift report needs admin or approver." in page.text
    assert 'id="nav-model"' not in page.text
    api = client.get("/api/model/drift", headers=people("olive"))
    assert api.status_code == 403
    assert (
        api.json()["detail"] == "olive has the operator role; the model drift report needs admin or approver"
    )


def test_the_drift_api_and_its_chart_series(client: TestClient, people: People, last_week: str) -> None:
    drift = client.get(f"/api/model/drift?{QUERY}", headers=people("root")).json()
    assert drift["flagged"] == ["apply_rules"]
    week = next(w for w in drift["report"]["windows"] if w["label"] == last_week)
    assert [(f["scope"], f["measure"]) for f in week["flags"]] == [
        ("apply_rules", "correction_rate"),
        ("apply_rules", "confidence_drop"),
        ("apply_rules", "psi"),
    ]
    assert drift["shadow"]["pairs"] == [{"live": "apply_rules", "candidate": "normalize_dataset", "count": 1}]
    chart = client.get(
        f"/api/model/drift/chart?measure=corrections&tool=apply_rules&{QUERY}&format=json",
        headers=people("root"),
    ).json()
    assert chart["kind"] == "line" and chart["title"] == "Corrections · apply_rules"
    assert dict(zip(chart["labels"], chart["values"], strict=True))[last_week] == 0.3
    seen = [w["label"] for w in drift["report"]["windows"] if w["overall"]["decisions"]]
    assert len(seen) < len(drift["report"]["windows"]), "the range should hold a window without decisions"
    assert chart["labels"] == seen, "a window without decisions is left out, never drawn as 0"
    bad = client.get(f"/api/model/drift/chart?measure=mood&{QUERY}", headers=people("root"))
    assert bad.status_code == 422


def test_the_gauges_show_todays_decisions(
    client: TestClient, people: People, backend: ScriptedBackend
) -> None:
    backend.enqueue("list_pending_approvals", {}, confidence=0.9)
    client.post("/api/threads/t1/messages", json={"text": "what waits"}, headers=people("olive"))
    backend.enqueue(None, {}, confidence=0.7)
    client.post("/api/threads/t1/messages", json={"text": "tell me a joke"}, headers=people("olive"))
    found = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(client.get("/metrics").text)
        for sample in family.samples
    }
    assert found[("switchboard_model_decisions", (("tool", "overall"),))] == 2
    assert found[("switchboard_model_decisions", (("tool", "list_pending_approvals"),))] == 1
    assert found[("switchboard_model_confidence_mean", (("tool", "overall"),))] == pytest.approx(0.8)
    assert found[("switchboard_model_correction_rate", (("tool", "list_pending_approvals"),))] == 0
    assert found[("switchboard_model_oos_share", ())] == 0.5
