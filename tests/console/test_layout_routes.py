"""The server side of the console's layout: a chart's series for drawing it to fit, and the 404 page for browsers."""

from __future__ import annotations

from fastapi.testclient import TestClient

from console.views import charts_dir
from flows.reports.charts import ChartData, read_chart_data, render_chart
from switchboard.settings import Settings
from tests.console.conftest import People, login

HTML = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


def test_a_chart_serves_the_series_its_png_carries(
    client: TestClient, people: People, settings: Settings
) -> None:
    folder = charts_dir(settings)
    path = render_chart(
        kind="bar",
        labels=["emea", "Zürich AG"],
        values=[3820184.82, 12.5],
        title="Sales by region",
        ylabel="revenue",
        path=folder / "sales.png",
    )
    assert sorted(p.name for p in folder.iterdir()) == ["sales.png"]  # one file: the PNG holds its series
    expected = ChartData(
        kind="bar",
        title="Sales by region",
        ylabel="revenue",
        labels=["emea", "Zürich AG"],
        values=[3820184.82, 12.5],
    )
    assert read_chart_data(path) == expected
    image = client.get("/charts/sales.png", headers=people("olive"))
    assert image.status_code == 200 and image.content[:8] == b"\x89PNG\r\n\x1a\n"
    series = client.get("/charts/sales.png?format=json", headers=people("olive"))
    assert series.status_code == 200 and series.json() == expected.model_dump()


def test_a_png_without_a_series_is_not_drawn_again(
    client: TestClient, people: People, settings: Settings
) -> None:
    folder = charts_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "old.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x00IEND\xaeB`\x82")
    assert read_chart_data(folder / "old.png") is None
    answer = client.get("/charts/old.png?format=json", headers=people("olive"))
    assert answer.status_code == 404
    assert answer.json()["detail"] == "the chart old.png carries no series"
    assert client.get("/charts/old.png?format=svg", headers=people("olive")).status_code == 422


def test_a_browser_asking_for_a_missing_page_gets_the_404_page(client: TestClient, people: People) -> None:
    page = client.get("/chatt", headers=HTML)
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page.text and '<code class="path">/chatt</code>' in page.text
    people.token("olive")
    login(client, "olive")  # a malformed thread id is seen once the page's login check has passed
    malformed = client.get("/chat/not%20a%20thread", headers=HTML)
    assert malformed.status_code == 404 and "Page not found" in malformed.text


def test_api_callers_keep_problem_json(client: TestClient) -> None:
    for path, headers in (("/api/nope", HTML), ("/chatt", {"Accept": "application/json"}), ("/chatt", {})):
        answer = client.get(path, headers=headers)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"] == "application/problem+json", (path, headers)
        assert answer.json()["code"] == "not_found"
