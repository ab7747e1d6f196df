"""The Examples review queue: corrections made in the console's chat and approvals appear; only admins review.

Accepting writes a new reviewed version that holds the example; discarding writes nothing that holds it.
"""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from agent.modelops import reviewed
from agent.modelops.review import training_dir
from agent.service import Switchboard
from switchboard.settings import Settings
from tests.console.conftest import People, login
from tests.utils.fake_backend import ScriptedBackend

SCHEDULE = {"flow": "customer_sync", "cron": "0 6 * * *"}
NOTIFY = {"channel": "email", "recipient": "ops@example.com", "message": "hi"}


def say(
    client: TestClient, people: People, text: str, *, thread: str = "t1", who: str = "olive"
) -> dict[str, object]:
    response = client.post(f"/api/threads/{thread}/messages", json={"text": text}, headers=people(who))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def queue(client: TestClient, people: People) -> list[dict[str, object]]:
    response = client.get("/api/examples", headers=people("root"))
    assert response.status_code == 200, response.text
    examples: list[dict[str, object]] = response.json()["examples"]
    return examples


def latest_texts(settings: Settings) -> list[str]:
    return [e.text for e in reviewed.latest(training_dir(settings.var_dir)).examples]


def test_a_no_in_the_console_chat_is_queued_and_accepting_it_writes_a_version(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.93)
    say(client, people, "sync customers daily at 6 Bearer abcdef123456789")
    assert say(client, people, "no")["reply"] == "OK, I won't run it."

    [example] = queue(client, people)
    assert {
        k: example[k] for k in ("user", "channel", "kind", "text", "chose_tool", "meant_tool", "status")
    } == {
        "user": "olive",
        "channel": "console",
        "kind": "declined",
        "text": "sync customers daily at 6 Bearer [redacted]",
        "chose_tool": "schedule_flow",
        "meant_tool": None,
        "status": "pending",
    }
    refused = client.post(f"/api/examples/{example['id']}/accept", headers=people("root"))
    assert refused.status_code == 422
    assert "the tool the person meant is unknown; fix it with a tool" in refused.json()["detail"]
    assert latest_texts(settings) == []

    fixed = client.post(
        f"/api/examples/{example['id']}/fix",
        json={"tool": "schedule_flow", "args": SCHEDULE, "text": "sync customers daily at 6"},
        headers=people("root"),
    )

    assert fixed.status_code == 200, fixed.text
    assert (
        fixed.json()["version"],
        fixed.json()["examples_in_version"],
        fixed.json()["example"]["status"],
    ) == (
        1,
        1,
        "fixed",
    )
    assert latest_texts(settings) == ["sync customers daily at 6"]
    assert queue(client, people) == []


def test_an_approval_edit_is_queued_and_a_discarded_one_never_reaches_a_version(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings
) -> None:
    backend.enqueue("send_notification", NOTIFY, confidence=0.9)
    first = say(client, people, "email ops hi")
    backend.enqueue("send_notification", {**NOTIFY, "message": "bye"}, confidence=0.9)
    second = say(client, people, "email ops bye", thread="t2")
    for approval, message in ((first, "hello team"), (second, "goodbye team")):
        edited = client.post(
            f"/api/approvals/{approval['approval_id']}/edit",
            json={"args": {**NOTIFY, "message": message}},
            headers=people("ann"),
        )
        assert edited.status_code == 200, edited.text

    examples = queue(client, people)
    assert [(e["kind"], e["user"], e["channel"], e["text"], e["meant_args"]) for e in examples] == [
        ("approval_edit", "ann", "console", "email ops hi", {**NOTIFY, "message": "hello team"}),
        ("approval_edit", "ann", "console", "email ops bye", {**NOTIFY, "message": "goodbye team"}),
    ]
    discarded = client.post(
        f"/api/examples/{examples[1]['id']}/discard", json={"note": "typo only"}, headers=people("root")
    )
    accepted = client.post(f"/api/examples/{examples[0]['id']}/accept", headers=people("root"))

    assert (discarded.status_code, discarded.json()["version"], discarded.json()["example"]["status"]) == (
        200,
        None,
        "discarded",
    )
    assert (accepted.status_code, accepted.json()["version"]) == (200, 1)
    assert latest_texts(settings) == ["email ops hi"]
    assert [
        e["id"] for e in client.get("/api/examples?status=all", headers=people("root")).json()["examples"]
    ] == [
        examples[0]["id"],
        examples[1]["id"],
    ]


def test_only_admins_see_and_review_the_queue(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.93)
    say(client, people, "sync customers daily at 6")
    say(client, people, "no")
    [example] = queue(client, people)

    for name in ("olive", "ann"):
        listing = client.get("/api/examples", headers=people(name))
        accept = client.post(
            f"/api/examples/{example['id']}/accept", json={"tool": "schedule_flow"}, headers=people(name)
        )
        assert (listing.status_code, accept.status_code) == (403, 403)
        assert "reviewing training examples needs admin" in accept.json()["detail"]
    assert latest_texts(settings) == []
    assert [e["status"] for e in queue(client, people)] == ["pending"]


def test_a_bad_tool_is_refused_clearly_and_nothing_is_written(
    client: TestClient, people: People, backend: ScriptedBackend, settings: Settings
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.93)
    say(client, people, "sync customers daily at 6")
    say(client, people, "no")
    [example] = queue(client, people)

    response = client.post(
        f"/api/examples/{example['id']}/accept", json={"tool": "shedule_flow"}, headers=people("root")
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith(
        f"candidate example {example['id']}: unknown tool 'shedule_flow'"
    )
    assert reviewed.versions(training_dir(settings.var_dir)) == []


def test_the_page_lists_the_queue_for_admins_and_refuses_others(
    client: TestClient, people: People, backend: ScriptedBackend, sb: Switchboard
) -> None:
    backend.enqueue("schedule_flow", SCHEDULE, confidence=0.93)
    say(client, people, "sync customers daily at 6")
    say(client, people, "no")
    [example] = queue(client, people)
    people.token("olive")

    csrf = login(client, "root")
    page = client.get("/examples")
    assert page.status_code == 200
    assert 'id="nav-examples"' in page.text and "“sync customers daily at 6”" in page.text
    assert f'data-id="{example["id"]}"' in page.text
    without = client.post(f"/api/examples/{example['id']}/discard")
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    done = client.post(f"/api/examples/{example['id']}/discard", headers={"X-CSRF-Token": csrf})
    assert done.status_code == 200 and done.json()["example"]["reviewed_by"] == "root"
    assert "No corrections are waiting for review." in client.get("/examples").text

    client.cookies.clear()
    login(client, "olive")
    refused = client.get("/examples")
    assert refused.status_code == 403
    assert re.search(r"Olive has the operator role; reviewing training examples needs admin\.", refused.text)
    assert 'id="nav-examples"' not in client.get("/chat").text
