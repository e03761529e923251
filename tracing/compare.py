"""Two runs of one chain, span by span: which paths were added or went missing, which fanned
out more or less, got slower, faster or failed more.

A run is a trace and every trace that links into it (a stream batch's trace links to the
writes of its records), followed forward through the lineage index. A span's path is the
`<node> <operation>` of each span from its run's root down to it, crossing into a linked
trace at the linking span (its first link to a span of the run), so a path names the same
hop in both runs whatever their ids.
"Slower" and "faster" mean the p50 moved by more than max(20 %, 1 ms).
"""

from __future__ import annotations

from typing import Any

from tracing.nodes import Outcome, outcome
from tracing.span_refs import label
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.store.lineage import Key, LineageIndex
from tracing.topology import key
from tracing.trace_ids import w3c_trace_id
from tracing.why import Traces

Path = tuple[str, ...]
CHANGES = ("added", "missing", "fanout", "slower", "faster", "errors")
MOVED_RATIO, MOVED_MS = 0.2, 1.0


def run(store: SpanStore, index: LineageIndex, trace_id: str) -> Traces:
    """A trace and the traces linking into it, transitively (bounded as `why` is)."""
    traces = Traces(store)
    pending = [w3c_trace_id(trace_id)]
    while pending:
        current = pending.pop(0)
        if not traces.load(current):
            continue
        for (linking_trace, _), _ in index.linking([current]):
            if linking_trace not in traces.order and linking_trace not in pending:
                pending.append(linking_trace)
    return traces


def paths(traces: Traces) -> dict[Path, list[Span]]:
    """Each path and the spans at its end, in start order."""
    found: dict[Key, Path] = {}

    def cause(span: Span) -> Span | None:
        """A link into another trace of the run (the write a batch's record came from)
        before the parent, as `why` walks back."""
        for link in span.links:
            linked = traces.spans.get((link.trace_id, link.span_id))
            if linked is not None and link.trace_id != span.trace_id:
                return linked
        return traces.parent(span)

    def path(span: Span) -> Path:
        chain: list[Span] = []
        on_chain: set[Key] = set()
        current: Span | None = span
        while current is not None and key(current) not in found:
            chain.append(current)
            on_chain.add(key(current))
            current = cause(current)
            if current is not None and key(current) in on_chain:
                current = None  # a link back into the chain: stop there
        prefix = found[key(current)] if current is not None and key(current) in found else ()
        for step in reversed(chain):
            prefix = (*prefix, label(step, traces.nodes[key(step)]))
            found[key(step)] = prefix
        return prefix

    grouped: dict[Path, list[Span]] = {}
    for span in sorted(traces.spans.values(), key=lambda span: span.start_ns):
        grouped.setdefault(path(span), []).append(span)
    return grouped


def stats(spans: list[Span]) -> dict[str, Any]:
    durations = sorted(span.duration_ms for span in spans)
    return {"count": len(spans), "p50_ms": round(durations[(len(durations) - 1) // 2], 3),
            "max_ms": round(durations[-1], 3),
            "errors": sum(outcome(span) != Outcome.OK for span in spans)}


def change(a: dict[str, Any] | None, b: dict[str, Any] | None) -> str:
    if a is None:
        return "added"
    if b is None:
        return "missing"
    if a["count"] != b["count"]:
        return "fanout"
    if a["errors"] != b["errors"]:
        return "errors"
    delta = b["p50_ms"] - a["p50_ms"]
    if abs(delta) > max(MOVED_RATIO * a["p50_ms"], MOVED_MS):
        return "slower" if delta > 0 else "faster"
    return "same"


def compare(store: SpanStore, index: LineageIndex, a: str, b: str) -> dict[str, Any] | None:
    """The compare API's answer for trace ids `a` and `b`; None when either is not stored."""
    first, second = run(store, index, a), run(store, index, b)
    if not first.order or not second.order:
        return None
    paths_a, paths_b = paths(first), paths(second)
    same_end = _pair_by_end(paths_a, paths_b)
    paired = set(same_end.values())
    rows = []
    for path in [*paths_a, *(path for path in paths_b if path not in paths_a
                             and path not in paired)]:
        other = same_end.get(path, path)
        stats_a = stats(paths_a[path]) if path in paths_a else None
        stats_b = stats(paths_b[other]) if other in paths_b else None
        delta = (round(stats_b["p50_ms"] - stats_a["p50_ms"], 3)
                 if stats_a is not None and stats_b is not None else None)
        rows.append({"path": list(path), "a": stats_a, "b": stats_b,
                     "change": change(stats_a, stats_b), "delta_ms": delta})
    roots_a = {path for path in paths_a if len(path) == 1}
    roots_b = {path for path in paths_b if len(path) == 1}
    return {"a": a, "b": b, "same_chain": bool(roots_a & roots_b), "paths": rows,
            "summary": {name: sum(row["change"] == name for row in rows) for name in CHANGES}}


def _pair_by_end(paths_a: dict[Path, list[Span]], paths_b: dict[Path, list[Span]]
                 ) -> dict[Path, Path]:
    """A's unmatched paths to B's that end in the same hop, when each run has exactly one such:
    the same operation, reached through a hop one run did not record (a span its process
    dropped under load, say), is one row, not one missing and one added."""
    def unmatched_by_end(mine: dict[Path, list[Span]], theirs: dict[Path, list[Span]]
                         ) -> dict[str, list[Path]]:
        ends: dict[str, list[Path]] = {}
        for path in mine:
            if path not in theirs:
                ends.setdefault(path[-1], []).append(path)
        return ends

    ends_a, ends_b = unmatched_by_end(paths_a, paths_b), unmatched_by_end(paths_b, paths_a)
    return {found[0]: ends_b[end][0] for end, found in ends_a.items()
            if len(found) == 1 and len(ends_b.get(end, ())) == 1}
