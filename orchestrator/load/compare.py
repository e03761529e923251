"""A summary as lines a person reads, and two summaries side by side (`--compare A B`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table

from orchestrator.load import LoadError

ROWS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("sent", ("sent",), "{:,.0f}"), ("succeeded", ("succeeded",), "{:,.0f}"),
    ("failed", ("failed",), "{:,.0f}"), ("throttled", ("throttled",), "{:,.0f}"),
    ("dead-lettered", ("dead_lettered",), "{:,.0f}"), ("in flight", ("in_flight",), "{:,.0f}"),
    ("duration s", ("duration_s",), "{:,.2f}"),
    ("throughput /s", ("throughput_per_s",), "{:,.1f}"),
    ("request p50 ms", ("latency_ms", "p50"), "{:,.2f}"),
    ("request p99 ms", ("latency_ms", "p99"), "{:,.2f}"),
    ("chain p50 ms", ("chain_ms", "p50"), "{:,.2f}"),
    ("chain p99 ms", ("chain_ms", "p99"), "{:,.2f}"),
    ("chain max ms", ("chain_ms", "max"), "{:,.2f}"),
    ("workers min", ("workers", "min"), "{:,.0f}"), ("workers max", ("workers", "max"), "{:,.0f}"),
    ("cost USD", ("cost_usd", "total"), "{:.6f}"),
    ("USD / 1,000 chains", ("cost_usd", "per_1000_chains"), "{:.6f}"),
)


def pick(summary: dict[str, Any], path: tuple[str, ...]) -> float | None:
    value: Any = summary
    for part in path:
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return float(value) if isinstance(value, int | float) else None


def summary_lines(summary: dict[str, Any]) -> list[str]:
    s = summary
    lines = [f"{s['target']}: sent {s['sent']:,} = succeeded {s['succeeded']:,} + failed "
             f"{s['failed']:,} + dead-lettered {s['dead_lettered']:,} + in flight "
             f"{s['in_flight']:,}; throttled {s['throttled']:,}",
             f"{s['duration_s']:,.2f} s, {s['throughput_per_s']:,.1f}/s; request ms p50 "
             f"{s['latency_ms']['p50']:.2f} p99 {s['latency_ms']['p99']:.2f}; chain ms p50 "
             f"{s['chain_ms']['p50']:.2f} p99 {s['chain_ms']['p99']:.2f} max "
             f"{s['chain_ms']['max']:.2f}"]
    for name, entry in s["per_function"].items():
        lines.append(f"  {name}: {entry['invocations']:,} invocations, concurrency max "
                     f"{entry['concurrency_max']}, {entry['cold_starts']} cold, "
                     f"{entry['throttles']} throttled, ms p50 {entry['p50_ms']:.2f} p99 "
                     f"{entry['p99_ms']:.2f}, queue wait p50 {entry['queue_wait_p50_ms']:.2f} "
                     f"p99 {entry['queue_wait_p99_ms']:.2f}")
    workers = s["workers"]
    lines.append(f"workers {workers['min']}..{workers['max']}, "
                 f"{len(workers['decisions'])} scaling decision(s)")
    cost = s["cost_usd"]
    lines.append(f"on Lambda: ${cost['total']:.6f} (requests ${cost['requests']:.6f} + compute "
                 f"${cost['compute']:.6f}); ${cost['per_million']:.4f} per million events, "
                 f"${cost['per_1000_chains']:.6f} per 1,000 chains")
    return lines


def read(path: Path) -> dict[str, Any]:
    try:
        summary: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise LoadError(f"{path}: not a load summary ({error})") from None
    if not isinstance(summary, dict) or "sent" not in summary:
        raise LoadError(f"{path}: not a load summary (write one with ripple load --json)")
    return summary


def comparison(a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str, str, str]]:
    """(row, A, B, B/A) for every figure both runs have."""
    rows = []
    for label, path, form in ROWS:
        left, right = pick(a, path), pick(b, path)
        if left is None and right is None:
            continue
        ratio = f"{right / left:.2f}x" if left and right is not None else "-"
        rows.append((label, form.format(left) if left is not None else "-",
                     form.format(right) if right is not None else "-", ratio))
    return rows


def print_comparison(console: Console, first: Path, second: Path) -> None:
    a, b = read(first), read(second)
    table = Table("", f"A {first.name}", f"B {second.name}", "B/A", box=box.SIMPLE_HEAD)
    for row in comparison(a, b):
        table.add_row(*row)
    console.print(f"A: {a['target']}   B: {b['target']}", highlight=False)
    console.print(table)
