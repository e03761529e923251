"""The critical path of a trace, and fan-outs folded into groups.

The critical path is the chain of spans that sets the trace's end time: from the root, step
into the child whose work (the child and everything below it, asynchronous hops included)
finishes last; when that child's chain is exhausted, step back and take the sibling that
finished last *before* that child started, since it held the child back (Jaeger's algorithm,
with a span's end stretched to its subtree's so queued work counts).

`aggregate_siblings` folds many siblings of one node and name into a `SpanGroup` with count,
min, p50 and max, so a 10,000-span fan-out reads as `work ×10,000`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass

from tracing.nodes import CALLS, Node, call_target, entry_node
from tracing.spans import Span
from tracing.topology import key


def _subtree_ends(spans: dict[tuple[str, str], Span],
                  children: dict[tuple[str, str], list[Span]]) -> dict[tuple[str, str], int]:
    """Each span's end, stretched to the latest end below it (iterative post-order)."""
    ends: dict[tuple[str, str], int] = {}
    for span in spans.values():
        stack = [(span, False)]
        while stack:
            current, expanded = stack.pop()
            current_key = key(current)
            if current_key in ends:
                continue
            below = children.get(current_key, [])
            if expanded or not below:
                ends[current_key] = max([current.end_ns, *(ends[key(c)] for c in below)])
            else:
                stack.append((current, True))
                stack.extend((child, False) for child in below if key(child) not in ends)
    return ends


def critical_path(spans: list[Span]) -> list[Span]:
    """The spans that determine when the trace ends, in the order they start."""
    by_key = {key(span): span for span in spans}
    children: dict[tuple[str, str], list[Span]] = {}
    roots = []
    for span in by_key.values():
        parent = (span.trace_id, span.parent_span_id) if span.parent_span_id else None
        if parent in by_key:
            children.setdefault(parent, []).append(span)
        else:
            roots.append(span)
    if not roots:
        return []
    ends = _subtree_ends(by_key, children)
    for below in children.values():
        below.sort(key=lambda child: ends[key(child)])
    root = max(roots, key=lambda span: (ends[key(span)], -span.start_ns))
    path: list[Span] = []
    on_path: set[tuple[str, str]] = set()
    current: Span | None = root
    cursor = ends[key(root)]
    while current is not None:
        current_key = key(current)
        if current_key not in on_path:
            on_path.add(current_key)
            path.append(current)
        below = children.get(current_key, [])
        index = bisect.bisect_right([ends[key(child)] for child in below], cursor) - 1
        while index >= 0 and key(below[index]) in on_path:
            index -= 1
        if index >= 0:  # the child that finished last before the cursor held things up
            current, cursor = below[index], ends[key(below[index])]
        elif current is root:
            current = None
        else:  # nothing left inside: what came before this span started, in its parent
            cursor = current.start_ns
            current = by_key.get((current.trace_id, current.parent_span_id or ""))
    return sorted(path, key=lambda span: (span.start_ns, -span.end_ns))


@dataclass(frozen=True)
class SpanGroup:
    """Siblings of one node and name, folded: a single span is a group of one."""

    name: str
    node: Node | None
    spans: tuple[Span, ...]
    min_ms: float
    p50_ms: float
    max_ms: float

    @property
    def count(self) -> int:
        return len(self.spans)

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.spans)

    @property
    def end_ns(self) -> int:
        return max(span.end_ns for span in self.spans)

    @property
    def label(self) -> str:
        """`work` for one span, `work ×10,000` for a fold."""
        return self.name if self.count == 1 else f"{self.name} ×{self.count:,}"


def _group(name: str, node: Node | None, spans: list[Span]) -> SpanGroup:
    durations = sorted(span.duration_ms for span in spans)
    middle = durations[(len(durations) - 1) // 2]  # nearest-rank median
    return SpanGroup(name, node, tuple(spans), durations[0], middle, durations[-1])


def aggregate_siblings(children: list[Span], threshold: int = 20) -> list[SpanGroup]:
    """Siblings as groups in start order: more than `threshold` spans of one node and name
    fold into one group; the rest stay groups of one."""
    groups: dict[tuple[Node | None, str], list[Span]] = {}
    for span in sorted(children, key=lambda span: (span.start_ns, span.span_id)):
        node = entry_node(span) or (call_target(span) if span.kind in CALLS else None)
        groups.setdefault((node, span.name), []).append(span)
    folded: list[SpanGroup] = []
    for (node, name), spans in groups.items():
        if len(spans) > threshold:
            folded.append(_group(name, node, spans))
        else:
            folded.extend(_group(name, node, [span]) for span in spans)
    return sorted(folded, key=lambda group: group.start_ns)
