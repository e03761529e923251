"""`ripple load --report DIR`: report.html (one file, no network: inline SVG and CSS, no
script), one PNG per chart, and summary.json (what `--compare` reads)."""

from __future__ import annotations

import json
import math
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

from orchestrator.invocations.billing import cost_usd, gb_seconds
from orchestrator.load.charts import Chart, Series, png, svg
from orchestrator.load.compare import summary_lines
from orchestrator.load.summary import Run, end_of, percentile

STEP = 0.25  # s between concurrency samples
BINS = 12


def per_second(times: list[float], origin: float) -> list[tuple[float, float]]:
    counts: dict[int, int] = defaultdict(int)
    for moment in times:
        counts[int(moment - origin)] += 1
    return [(float(second), float(counts.get(second, 0)))
            for second in range(0, max(counts, default=-1) + 1)]


def throughput(run: Run, origin: float) -> Chart:
    roots = run.root_functions()
    done = [end_of(r) for r in run.records if r["function"] in roots]
    return Chart("throughput", "Throughput", "s since start", "events/s", [
        Series("sent", per_second([s.sent for s in run.samples], origin)),
        Series("root invocations done", per_second(done, origin))])


def chain_latency(run: Run, origin: float) -> Chart:
    by_second: dict[int, list[float]] = defaultdict(list)
    sent = {s.root: s.sent for s in run.samples}
    for root, chain in run.chains().items():
        by_second[int(sent[root] - origin)].append(chain)
    seconds = sorted(by_second)
    return Chart("chain-latency", "Chain latency by send time (root event to last hop)",
                 "s since start", "ms", [
                     Series("p50", [(s, percentile(by_second[s], .5)) for s in seconds]),
                     Series("p99", [(s, percentile(by_second[s], .99)) for s in seconds])])


def concurrency(run: Run, origin: float) -> Chart:
    grouped: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for record in run.records:
        grouped[record["function"]].append((float(record["start"]), end_of(record)))
    first, last = run.window()
    steps = int(max(last - first, 0) / STEP) + 2
    series = []
    for name, spans in sorted(grouped.items()):
        points = [(index * STEP + first - origin,
                   float(sum(1 for a, b in spans if a <= first + index * STEP < b)))
                  for index in range(min(steps, 4000))]
        series.append(Series(name, points))
    return Chart("concurrency", "Concurrency per function", "s since start", "running",
                 series)


def queues(run: Run, origin: float) -> Chart:
    return Chart("queues", "Queue depth and workers (scaling decisions marked)",
                 "s since start", "count", [
                     Series("queued", [(t.time - origin, float(t.queued)) for t in run.ticks]),
                     Series("workers", [(t.time - origin, float(t.workers)) for t in run.ticks])],
                 markers=[(d["time"] - origin, f"{d['from']}->{d['to']}")
                          for d in run.scaling.get("decisions", [])])


def histogram(name: str, records: list[dict[str, Any]]) -> Chart:
    waits = [max(0.0, float(r["queue_ms"])) for r in records]
    runs = [float(r["duration_ms"]) for r in records]
    top = max(waits + runs + [1.0])
    edges = [0.0] + [top ** (index / BINS) for index in range(1, BINS + 1)]  # log bins from 1 ms

    def counts(values: list[float]) -> list[tuple[float, float]]:
        found = [0] * BINS
        for value in values:
            found[min(BINS - 1, max(0, int(math.log(max(value, 1.0)) / math.log(top) * BINS)
                                    if top > 1 else 0))] += 1
        return [(float(index), float(count)) for index, count in enumerate(found)]

    return Chart(f"hops-{name}", f"{name}: queue wait vs execution", "ms (upper bound of bin)",
                 "invocations", [Series("queue wait", counts(waits)),
                                 Series("execution", counts(runs))], kind="bar",
                 categories=[f"{edge:,.0f}" for edge in edges[1:]])


def faults(run: Run, summary: dict[str, Any]) -> Chart:
    names = sorted(summary["per_function"])
    retries: dict[str, int] = defaultdict(int)
    for record in run.records:
        retries[record["function"]] += int(record.get("attempt", 1)) > 1
    return Chart("faults", "Cold starts, throttles, retries and dead letters", "function",
                 "count", [
                     Series("cold starts", [(i, float(summary["per_function"][n]["cold_starts"]))
                                            for i, n in enumerate(names)]),
                     Series("throttles", [(i, float(summary["per_function"][n]["throttles"]))
                                          for i, n in enumerate(names)]),
                     Series("retries", [(i, float(retries[n])) for i, n in enumerate(names)]),
                     Series("dead letters", [(i, float(run.delta({n}, "failed")))
                                             for i, n in enumerate(names)])],
                 kind="bar", categories=names)


def cost(run: Run) -> Chart:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in run.records:
        grouped[record["function"]].append(record)
    names = sorted(grouped)
    priced = [cost_usd(len(grouped[n]), sum(gb_seconds(int(r["billed_ms"]), int(r["memory_mb"]))
                                            for r in grouped[n]),
                       grouped[n][0].get("architecture") or "x86_64") for n in names]
    return Chart("cost", "Cost on Lambda per function (USD)", "function", "USD", [
        Series("requests", [(i, p["requests"]) for i, p in enumerate(priced)]),
        Series("compute", [(i, p["compute"]) for i, p in enumerate(priced)])],
        kind="bar", categories=names)


def charts(run: Run, summary: dict[str, Any]) -> list[Chart]:
    origin = run.window()[0]
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in run.records:
        grouped[record["function"]].append(record)
    return [throughput(run, origin), chain_latency(run, origin), concurrency(run, origin),
            queues(run, origin), *(histogram(name, grouped[name]) for name in sorted(grouped)),
            faults(run, summary), cost(run)]


STYLE = """body{font-family:sans-serif;margin:24px;color:#111827;max-width:1340px}
.grid{display:flex;flex-wrap:wrap;gap:16px}figure{margin:0;border:1px solid #e5e7eb;padding:8px}
pre{background:#f9fafb;padding:12px;white-space:pre-wrap}.empty{color:#6b7280;width:640px}"""


def html(run: Run, summary: dict[str, Any], drawn: list[Chart]) -> str:
    figures = "".join(
        f"<figure>{svg(chart)}</figure>" if not chart.empty else
        f'<figure><p class="empty">{escape(chart.title)}: nothing recorded</p></figure>'
        for chart in drawn)
    lines = escape("\n".join(summary_lines(summary)))
    forecast = summary.get("forecast")
    extra = (f"<h2>Forecast on AWS</h2><pre>{escape(json.dumps(forecast, indent=2))}</pre>"
             if forecast else "")
    decisions = "".join(f"<li>{d['from']} → {d['to']}: {escape(d['reason'])}</li>"
                        for d in summary["workers"]["decisions"]) or "<li>none</li>"
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>ripple load {escape(run.target)}</title><style>{STYLE}</style></head><body>"
            f"<h1>ripple load {escape(run.target)}</h1><pre>{lines}</pre>"
            f"<div class=grid>{figures}</div><h2>Scaling decisions</h2><ul>{decisions}</ul>"
            f"{extra}<h2>Summary</h2><pre>{escape(json.dumps(summary, indent=2))}</pre>"
            f"</body></html>")


def write_report(run: Run, summary: dict[str, Any], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    drawn = charts(run, summary)
    for chart in drawn:
        if not chart.empty:
            png(chart).save(folder / f"{chart.id}.png")
    (folder / "summary.json").write_text(json.dumps(summary, indent=2))
    page = folder / "report.html"
    page.write_text(html(run, summary, drawn))
    return page
