"""The service map: X-Ray's `GetServiceGraph` (many traces) and `GetTraceGraph` (one trace).

Every node occurrence counts one request on its node, timed by its entry span; a node seen only
through its callers' CLIENT spans (a remote API, a bucket whose endpoint span is missing) is
counted from those. Every call counts one request on its edge, timed by the caller's outermost
CLIENT/PRODUCER span when there is one. Times are epoch seconds; histograms bucket seconds to
two significant digits.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tracing.nodes import CLIENT_TYPE, Node, Outcome, outcome
from tracing.sampling import WEIGHT
from tracing.spans import Span
from tracing.topology import topology

NS = 1e9
Value = TypeVar("Value")  # what a histogram or outcome counter counts


def _bucket(seconds: float) -> float:
    return float(f"{seconds:.2g}") if seconds > 0 else 0.0


def _histogram(counts: Counter[float]) -> list[dict[str, Any]]:
    return [{"Value": value, "Count": count} for value, count in sorted(counts.items())]


def _merge_counts(mine: Counter[Value], theirs: Counter[Value], sign: int) -> None:
    for value, count in theirs.items():
        mine[value] += sign * count
        if not mine[value]:
            del mine[value]


@dataclass
class Stats:
    """Requests counted for one node or one edge (additive, so partial maps can be merged,
    and a trace's old share subtracted when it is counted again with more spans)."""

    counts: Counter[Outcome] = field(default_factory=Counter)
    total_time: float = 0.0
    response: Counter[float] = field(default_factory=Counter)
    duration: Counter[float] = field(default_factory=Counter)
    start_ns: int | None = None
    end_ns: int = 0
    link: bool = False

    def add(self, result: Outcome, span: Span, end_ns: int | None = None,
            weight: int = 1) -> None:
        """Count one request, standing for `weight` requests (a sampled trace's weight)."""
        response = max(span.end_ns - span.start_ns, 0) / NS
        self.counts[result] += weight
        self.total_time += response * weight
        self.response[_bucket(response)] += weight
        self.duration[_bucket(max((end_ns or span.end_ns) - span.start_ns, 0) / NS)] += weight
        self.start_ns = span.start_ns if self.start_ns is None else min(self.start_ns,
                                                                         span.start_ns)
        self.end_ns = max(self.end_ns, end_ns or span.end_ns)

    def merge(self, other: Stats, sign: int = 1) -> None:
        """Add `other`'s requests (sign 1) or take them away (sign -1); times only widen."""
        _merge_counts(self.counts, other.counts, sign)
        _merge_counts(self.response, other.response, sign)
        _merge_counts(self.duration, other.duration, sign)
        self.total_time += sign * other.total_time
        self.link = self.link or other.link
        self.widen(other)

    def widen(self, other: Stats) -> None:
        """Stretch this time range over `other`'s."""
        if other.start_ns is not None:
            self.start_ns = other.start_ns if self.start_ns is None else min(self.start_ns,
                                                                              other.start_ns)
        self.end_ns = max(self.end_ns, other.end_ns)

    def drop_negative(self) -> None:
        self.counts, self.response, self.duration = (+self.counts, +self.response,
                                                     +self.duration)

    @property
    def empty(self) -> bool:
        return not self.counts

    def to_json(self) -> list[Any]:
        return [{result.value: count for result, count in self.counts.items()},
                round(self.total_time, 9), list(self.response.items()),
                list(self.duration.items()), self.start_ns, self.end_ns, self.link]

    @classmethod
    def from_json(cls, document: list[Any]) -> Stats:
        counts, total, response, duration, start_ns, end_ns, link = document
        return cls(Counter({Outcome(result): count for result, count in counts.items()}),
                   total, Counter(dict(response)), Counter(dict(duration)), start_ns, end_ns,
                   link)

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


@dataclass(slots=True)
class Request:
    """One request counted on a node (`target` None) or on the edge `node` → `target`."""

    node: Node
    target: Node | None
    outcome: Outcome
    span: Span  # its start decides the window the request falls in
    end_ns: int | None = None  # the occurrence's end, when it outlasts its entry span
    link: bool = False


def requests(spans: list[Span], trace_id: str | None = None) -> Iterator[Request]:
    """Every request among `spans` the map counts; only those of `trace_id` when given
    (the other spans are context: the records a batch links to)."""
    graph = topology(spans)
    for occurrence in graph.occurrences:
        entry = occurrence.entry
        if entry is not None and trace_id in (None, entry.trace_id):
            yield Request(occurrence.node, None, outcome(entry), entry, occurrence.end_ns)
    for call in graph.calls:
        span = call.span
        if trace_id not in (None, span.trace_id):
            continue
        result = outcome(span)
        if call.callee is None:
            yield Request(call.target, None, result, span)
        yield Request(call.source, call.target, result, span, link=call.link)


Nodes = dict[Node, Stats]
Edges = dict[tuple[Node, Node], Stats]


def trace_weight(spans: list[Span]) -> int:
    """How many traces a trace's spans stand for: the weight its sampler gave it (the
    deciding span carries it, `tracing.sampling`), else 1."""
    found = 1
    for span in spans:
        weight = span.attributes.get(WEIGHT)
        if isinstance(weight, int) and weight > found:
            found = weight
    return found


def count(request: Request, nodes: Nodes, edges: Edges, weight: int = 1) -> None:
    """Add one request (standing for `weight`) to the node or edge it is on."""
    if request.target is None:
        stats = nodes.get(request.node)
        if stats is None:
            stats = nodes[request.node] = Stats()
    else:
        stats = edges.get((request.node, request.target))
        if stats is None:
            stats = edges[request.node, request.target] = Stats()
        stats.link = stats.link or request.link
    stats.add(request.outcome, request.span, request.end_ns, weight)


def _within(span: Span, window: tuple[float, float] | None) -> bool:
    return window is None or window[0] <= span.start_ns / NS <= window[1]


def _services(spans: list[Span], window: tuple[float, float] | None,
              weighted: bool = False) -> list[dict[str, Any]]:
    traces: dict[str, list[Span]] = defaultdict(list)
    for span in spans if weighted else ():
        traces[span.trace_id].append(span)
    weights = {trace_id: trace_weight(found) for trace_id, found in traces.items()}
    nodes: Nodes = {}
    edges: Edges = {}
    for request in requests(spans):
        if _within(request.span, window):
            count(request, nodes, edges, weights.get(request.span.trace_id, 1))
    return render(nodes, edges)


def render(nodes: Nodes, edges: Edges) -> list[dict[str, Any]]:
    """X-Ray's `Services` list for counted nodes and edges."""
    nodes = defaultdict(Stats, nodes)
    for (source, target), edge in edges.items():
        if source.type == CLIENT_TYPE:  # what the client saw is what it sent
            nodes[source].merge(edge)
        for node in (source, target):  # a node only seen on an edge still shows its times
            stats = nodes[node]
            if not stats.counts:
                stats.widen(edge)
    return _render(nodes, edges)


def _render(nodes: Nodes, edges: Edges) -> list[dict[str, Any]]:
    order = sorted(nodes, key=lambda node: (node.type != CLIENT_TYPE, nodes[node].start_ns or 0,
                                            node.type, node.name))
    ids = {node: index for index, node in enumerate(order)}
    outgoing: dict[Node, list[tuple[Node, Stats]]] = {}
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
    [start, end] (epoch seconds), each sampled trace counted for as many as it stands for."""
    return graph_answer(_services(spans, (start, end), weighted=True), start, end)


def graph_answer(services: list[dict[str, Any]], start: float, end: float) -> dict[str, Any]:
    """`GetServiceGraph`'s envelope around a `Services` list."""
    return {"StartTime": start, "EndTime": end, "Services": services,
            "ContainsOldGroupVersions": False}


def trace_graph(spans: list[Span]) -> dict[str, Any]:
    """A `GetTraceGraph` answer for these traces' spans (each counted once)."""
    return {"Services": _services(spans, None)}

