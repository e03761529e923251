"""The service map: X-Ray's `GetServiceGraph` (many traces) and `GetTraceGraph` (one trace).

Every node occurrence counts one request on its node, timed by its entry span; a node seen only
through its callers' CLIENT spans (a remote API, a bucket whose endpoint span is missing) is
counted from those. Every call counts one request on its edge, timed by the caller's outermost
CLIENT/PRODUCER span when there is one. Times are epoch seconds; histograms bucket seconds to
two significant digits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tracing.nodes import CLIENT_TYPE, Node, Outcome, outcome, topology
from tracing.spans import Span

NS = 1e9


def _bucket(seconds: float) -> float:
    return float(f"{seconds:.2g}") if seconds > 0 else 0.0


def _histogram(counts: Counter[float]) -> list[dict[str, Any]]:
    return [{"Value": value, "Count": count} for value, count in sorted(counts.items())]


@dataclass
class _Stats:
    """Requests counted for one node or one edge."""

    counts: Counter[Outcome] = field(default_factory=Counter)
    total_time: float = 0.0
    response: Counter[float] = field(default_factory=Counter)
    duration: Counter[float] = field(default_factory=Counter)
    start_ns: int | None = None
    end_ns: int = 0
    link: bool = False

    def add(self, result: Outcome, span: Span, end_ns: int | None = None) -> None:
        response = max(span.end_ns - span.start_ns, 0) / NS
        self.counts[result] += 1
        self.total_time += response
        self.response[_bucket(response)] += 1
        self.duration[_bucket(max((end_ns or span.end_ns) - span.start_ns, 0) / NS)] += 1
        self.start_ns = span.start_ns if self.start_ns is None else min(self.start_ns,
                                                                         span.start_ns)
        self.end_ns = max(self.end_ns, end_ns or span.end_ns)

    def merge(self, other: _Stats) -> None:
        self.counts.update(other.counts)
        self.total_time += other.total_time
        self.response.update(other.response)
        self.duration.update(other.duration)
        self.widen(other)

    def widen(self, other: _Stats) -> None:
        """Stretch this time range over `other`'s."""
        if other.start_ns is not None:
            self.start_ns = other.start_ns if self.start_ns is None else min(self.start_ns,
                                                                              other.start_ns)
        self.end_ns = max(self.end_ns, other.end_ns)

    def summary(self) -> dict[str, Any]:
        throttles, errors = self.counts[Outcome.THROTTLE], self.counts[Outcome.ERROR]
        faults = self.counts[Outcome.FAULT]
        return {"OkCount": self.counts[Outcome.OK],
                "ErrorStatistics": {"ThrottleCount": throttles, "OtherCount": errors,
                                    "TotalCount": throttles + errors},
                "FaultStatistics": {"OtherCount": faults, "TotalCount": faults},
                "TotalCount": sum(self.counts.values()),
                "TotalResponseTime": round(self.total_time, 6)}

    def times(self) -> dict[str, float]:
        return {"StartTime": (self.start_ns or 0) / NS, "EndTime": self.end_ns / NS}


def _within(span: Span, window: tuple[float, float] | None) -> bool:
    return window is None or window[0] <= span.start_ns / NS <= window[1]


def _services(spans: list[Span], window: tuple[float, float] | None) -> list[dict[str, Any]]:
    graph = topology(spans)
    nodes: defaultdict[Node, _Stats] = defaultdict(_Stats)
    edges: defaultdict[tuple[Node, Node], _Stats] = defaultdict(_Stats)
    for occurrence in graph.occurrences:
        entry = occurrence.entry
        if entry is not None and _within(entry, window):
            nodes[occurrence.node].add(outcome(entry), entry, occurrence.end_ns)
    for call in graph.calls:
        span = call.span
        if not _within(span, window):
            continue
        if call.callee is None:
            nodes[call.target].add(outcome(span), span)
        edge = edges[call.source, call.target]
        edge.add(outcome(span), span)
        edge.link = edge.link or call.link
    for (source, target), edge in edges.items():
        if source.type == CLIENT_TYPE:  # what the client saw is what it sent
            nodes[source].merge(edge)
        for node in (source, target):  # a node only seen on an edge still shows its times
            stats = nodes[node]
            if not stats.counts:
                stats.widen(edge)
    return _render(nodes, edges)


def _render(nodes: dict[Node, _Stats], edges: dict[tuple[Node, Node], _Stats]
            ) -> list[dict[str, Any]]:
    order = sorted(nodes, key=lambda node: (node.type != CLIENT_TYPE, nodes[node].start_ns or 0,
                                            node.type, node.name))
    ids = {node: index for index, node in enumerate(order)}
    outgoing: dict[Node, list[tuple[Node, _Stats]]] = {}
    for (source, target), stats in sorted(edges.items(), key=lambda item: ids[item[0][1]]):
        outgoing.setdefault(source, []).append((target, stats))
    services = []
    for node in order:
        stats = nodes[node]
        services.append({
            "ReferenceId": ids[node], "Name": node.name, "Names": [node.name],
            "Type": node.type, "Root": node.type == CLIENT_TYPE, "State": "active",
            **stats.times(),
            "Edges": [{"ReferenceId": ids[target], **edge.times(),
                       "SummaryStatistics": edge.summary(),
                       "ResponseTimeHistogram": _histogram(edge.response), "Aliases": [],
                       "EdgeType": "link" if edge.link else "standard"}
                      for target, edge in outgoing.get(node, [])],
            "SummaryStatistics": stats.summary(),
            "DurationHistogram": _histogram(stats.duration),
            "ResponseTimeHistogram": _histogram(stats.response)})
    return services


def service_graph(spans: list[Span], start: float, end: float) -> dict[str, Any]:
    """A `GetServiceGraph` answer for the requests among `spans` that started in
    [start, end] (epoch seconds)."""
    return {"StartTime": start, "EndTime": end, "Services": _services(spans, (start, end)),
            "ContainsOldGroupVersions": False}


def trace_graph(spans: list[Span]) -> dict[str, Any]:
    """A `GetTraceGraph` answer for one trace's spans."""
    return {"Services": _services(spans, None)}

