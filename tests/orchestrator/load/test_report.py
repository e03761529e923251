"""The report's charts as SVG and PNG, and the HTML file that holds them."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from orchestrator.load.charts import Chart, Series, png, svg
from orchestrator.load.report import write_report
from tests.orchestrator.load.test_forecast import burst


def test_a_line_chart_draws_its_series_and_markers() -> None:
    # Given a chart with two series and a scaling decision
    chart = Chart("c", "T <x>", "s", "n", [Series("a", [(0, 1), (1, 3)]),
                                         Series("b", [(0, 2), (1, 0)])], markers=[(0.5, "1->2")])
    # When drawn as SVG, Then each series is a mark, the marker a dashed line, text escaped
    drawn = svg(chart)
    assert drawn.count('<polyline class="mark"') == 2 and "stroke-dasharray" in drawn
    assert "T &lt;x&gt;" in drawn
    # And as PNG, Then the image has the chart's size (x2) and colored pixels
    image = png(chart)
    assert image.size == (1280, 600)
    assert len(image.getcolors(maxcolors=100_000) or []) > 10


def test_the_report_writes_one_html_and_a_png_per_chart(tmp_path: Path) -> None:
    # Given a run of 50 events
    run = burst(50, 20.0)
    summary = run.summary()
    # When the report is written
    page = write_report(run, summary, tmp_path)
    # Then the HTML needs nothing from outside and holds every chart
    text = page.read_text()
    assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in text
    pngs = sorted(path.name for path in tmp_path.glob("*.png"))
    assert text.count('<svg class="chart"') == len(pngs) >= 6
    assert "throughput.png" in pngs and "hops-f.png" in pngs and "cost.png" in pngs
    with Image.open(tmp_path / "throughput.png") as image:
        assert image.size == (1280, 600)
    assert (tmp_path / "summary.json").exists()
