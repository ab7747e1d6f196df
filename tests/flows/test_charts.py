"""Charts fit their texts without tight_layout: every label, tick and title lies inside the image."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.reports import charts
from flows.reports.charts import ChartKind, read_chart_data, render_chart

LONG = ["Northwind Traders International Ltd", "Cobalt Foods", "Acme", "Very Long Customer Name GmbH & Co KG"]


@pytest.mark.parametrize(
    ("kind", "labels", "values"),
    [
        ("bar", LONG * 3, [12_345_678.9, 2_345_678.0, 345_678.0, 45_678.0] * 3),
        ("bar", ["EMEA", "APAC", "AMER", "LATAM"], [1_234_567.0, 2_345_678.5, 345_678.0, 4_567.0]),
        ("line", [f"2026-{m:02d}" for m in range(1, 13)], [5.0, 7, 9, 3, 8, 12, 15, 3, 2, 1, 4, 6]),
        ("bar", [], []),
    ],
)
def test_every_text_is_inside_the_figure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: ChartKind, labels: list[str], values: list[float]
) -> None:
    drawn: list[Any] = []
    real_fit = charts._fit_margins

    def keep(figure: Any, *args: Any, **kwargs: Any) -> None:
        real_fit(figure, *args, **kwargs)
        drawn.append(figure)

    monkeypatch.setattr(charts, "_fit_margins", keep)
    path = render_chart(
        kind=kind,
        labels=labels,
        values=values,
        title="Top customers, last year",
        ylabel="revenue (EUR)",
        path=tmp_path / "c.png",
    )
    (figure,) = drawn
    renderer = figure.canvas.get_renderer()
    box = figure.bbox
    texts = [t for t in figure.findobj(lambda a: hasattr(a, "get_text") and a.get_visible()) if t.get_text()]
    assert texts, "the chart drew no text"
    for text in texts:
        extent = text.get_window_extent(renderer)
        assert box.x0 <= extent.x0 and extent.x1 <= box.x1, f"{text.get_text()!r} leaves the image sideways"
        assert box.y0 <= extent.y0 and extent.y1 <= box.y1, f"{text.get_text()!r} leaves the image vertically"
    data = read_chart_data(path)
    assert data is not None and data.labels == labels and data.values == values
