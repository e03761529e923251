"""A trace as a terminal waterfall: indented segments and subsegments with bars, durations,
cold starts and errors. Many siblings of one name fold into one row (`work ×1,000` with
min/p50/max), so a 10,000-span fan-out stays readable."""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass, field
from typing import Any

from rich.table import Table
from rich.text import Text

FOLD_AT = 12
BAR_WIDTH = 40


@dataclass
class Row:
    id: str
    name: str
    start: float
    end: float
    origin: str = ""
    state: str = "ok"  # ok | error | throttle | fault
    cold: bool = False
    children: list[Row] = field(default_factory=list)
    count: int = 1
    durations: list[float] = field(default_factory=list)

    @property
    def duration(self) -> float:
        return self.end - self.start


def _row(document: dict[str, Any]) -> Row:
    state = next((flag for flag in ("fault", "throttle", "error") if document.get(flag)), "ok")
    row = Row(document.get("id", ""), document.get("name", "?"),
              float(document.get("start_time", 0)),
              float(document.get("end_time", document.get("start_time", 0))),
              document.get("origin", ""), state)
    for sub in document.get("subsegments", []):
        child = _row(sub)
        row.children.append(child)
        row.cold = row.cold or child.name == "Initialization"
    return row


def build(trace: dict[str, Any]) -> list[Row]:
    """Segment documents of one BatchGetTraces trace, nested by their parent ids."""
    documents = [json.loads(segment["Document"]) for segment in trace.get("Segments", [])]
    rows = {document.get("id"): (_row(document), document.get("parent_id"))
            for document in documents}
    by_id: dict[str, Row] = {}

    def index(row: Row) -> None:
        by_id[row.id] = row
        for child in row.children:
            index(child)

    for row, _ in rows.values():
        index(row)
    roots = []
    for row, parent in rows.values():
        holder = by_id.get(parent) if parent else None
        if holder is not None and holder is not row:
            holder.children.append(row)
        else:
            roots.append(row)
    return sorted(roots, key=lambda row: row.start)


def fold(children: list[Row]) -> list[Row]:
    groups: dict[str, list[Row]] = {}
    for child in children:
        groups.setdefault(child.name, []).append(child)
    folded = []
    for name, group in groups.items():
        if len(group) < FOLD_AT:
            folded.extend(group)
            continue
        states = {row.state for row in group}
        worst = next((s for s in ("fault", "throttle", "error") if s in states), "ok")
        grandchildren = [child for row in group for child in row.children]
        folded.append(Row(group[0].id, name, min(r.start for r in group),
                          max(r.end for r in group), group[0].origin, worst,
                          any(r.cold for r in group), grandchildren, len(group),
                          [r.duration for r in group]))
    return sorted(folded, key=lambda row: row.start)


def _walk(rows: list[Row]) -> Any:
    for row in rows:
        yield row
        yield from _walk(row.children)


def render(trace: dict[str, Any]) -> Table:
    roots = build(trace)
    if not roots:
        return Table(title="(no segments)")
    everything = list(_walk(roots))
    start = min(row.start for row in everything)
    span = max(max(row.end for row in everything) - start, 1e-6)
    table = Table(title=f"trace {trace.get('Id', '')}  {span * 1000:.1f} ms", expand=False)
    table.add_column("segment", no_wrap=True, min_width=24)
    table.add_column("timeline", no_wrap=True, width=BAR_WIDTH, max_width=BAR_WIDTH)
    table.add_column("duration", justify="right", no_wrap=True, min_width=12)

    def add(row: Row, depth: int) -> None:
        colors = {"ok": "green", "error": "yellow", "throttle": "magenta", "fault": "red"}
        label = Text("  " * depth + row.name, style="bold" if depth == 0 else "")
        if row.count > 1:
            label.append(f" ×{row.count:,}", style="cyan")
        if row.cold:
            label.append(" ❄ cold", style="blue")
        if row.state != "ok":
            label.append(f" {row.state}", style=colors[row.state])
        offset = int((row.start - start) / span * BAR_WIDTH)
        length = max(1, int(row.duration / span * BAR_WIDTH))
        bar = Text(" " * offset + "█" * min(length, BAR_WIDTH - offset), style=colors[row.state])
        if row.count > 1:
            ms = sorted(d * 1000 for d in row.durations)
            duration = (f"{ms[0]:.1f}/{statistics.median(ms):.1f}/{ms[-1]:.1f} ms "
                        "min/p50/max")
        else:
            duration = f"{row.duration * 1000:.2f} ms"
        table.add_row(label, bar, duration)
        for child in fold(row.children):
            add(child, depth + 1)

    for root in roots:
        add(root, 0)
    return table
