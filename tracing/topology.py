"""Spans grouped into the service map's node occurrences and the calls between them.

Some spans *enter* a node (the handler's SERVER span, the Lambda service's CONSUMER span, the
endpoint's SERVER span for an S3 or DynamoDB call); every other span belongs to the node its
parent belongs to. One entry span and the spans below it form an `Occurrence`: one segment in
X-Ray's terms. A `Call` is one request along an edge, seen from the caller's outermost
CLIENT/PRODUCER span when there is one, else from the callee's entry span. A Lambda Invoke at
the root of a trace (its caller recorded no span: `invoked_by_client`) is the client's
request: its status and time stand for it, whether the invocation ran or was refused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from tracing.nodes import CALLS, CLIENT, Node, call_target, entry_node
from tracing.spans import Span, SpanKind


@dataclass(eq=False)
class Occurrence:
    """One visit of a node: its entry span (None for the client) and every span it owns."""

    node: Node
    entry: Span | None
    trace_id: str
    spans: list[Span] = field(default_factory=list)

    @property
    def start_ns(self) -> int:
        return min(span.start_ns for span in self.spans) if self.spans else 0

    @property
    def end_ns(self) -> int:
        return max(span.end_ns for span in self.spans) if self.spans else 0


@dataclass(slots=True, eq=False)
class Call:
    """One request from `source` to `target`."""

    source: Node
    target: Node
    caller: Span | None  # the source's outermost CLIENT/PRODUCER span for this request
    callee: Span | None  # the target's entry span; None when the target is inferred
    link: bool  # an asynchronous hop: through a queue or a span link

    @property
    def span(self) -> Span:
        """The span whose timing and status stand for this request on the edge."""
        found = self.caller or self.callee
        assert found is not None
        return found


@dataclass
class Topology:
    """Spans split into node occurrences (client ones included) and the calls between them."""

    occurrences: list[Occurrence]
    calls: list[Call]
    owner: dict[tuple[str, str], Occurrence]
    spans: dict[tuple[str, str], Span]


def key(span: Span) -> tuple[str, str]:
    """A span's identity across traces: span ids are only unique within one trace."""
    return span.trace_id, span.span_id


def _parent(spans: dict[tuple[str, str], Span], span: Span) -> Span | None:
    if not span.parent_span_id:
        return None
    return spans.get((span.trace_id, span.parent_span_id))


def topology(spans: Iterable[Span]) -> Topology:
    """Split spans into node occurrences and the calls between them."""
    by_key = {key(span): span for span in spans}
    owner: dict[tuple[str, str], Occurrence] = {}
    occurrences: list[Occurrence] = []
    clients: dict[str, Occurrence] = {}

    def client_of(trace_id: str) -> Occurrence:
        if trace_id not in clients:
            clients[trace_id] = Occurrence(CLIENT, None, trace_id)
            occurrences.append(clients[trace_id])
        return clients[trace_id]

    for span in by_key.values():
        path: list[tuple[str, str]] = []  # spans that belong wherever this walk ends
        current = span
        while (current_key := key(current)) not in owner:
            node = entry_node(current)
            if node is not None:
                owner[current_key] = Occurrence(node, current, current.trace_id)
                occurrences.append(owner[current_key])
                break
            parent = _parent(by_key, current)
            if parent is None:
                owner[current_key] = client_of(current.trace_id)
                break
            path.append(current_key)
            current = parent
        for step in path:
            owner[step] = owner[current_key]
    for span in by_key.values():
        owner[key(span)].spans.append(span)
    calls = _calls(by_key, owner, occurrences)
    return Topology(occurrences, calls, owner, by_key)


def _outermost_call(spans: dict[tuple[str, str], Span], occurrence: Occurrence,
                    start: Span | None) -> tuple[Span | None, bool]:
    """The outermost CLIENT/PRODUCER span from `start` up to the occurrence's entry, and
    whether a PRODUCER (a queue hop) is on the way."""
    outermost, queued = None, False
    current = start
    while current is not None and current is not occurrence.entry:
        if current.kind in CALLS:
            outermost = current
            queued = queued or current.kind == SpanKind.PRODUCER
        current = _parent(spans, current)
    return outermost, queued


def invoked_by_client(span: Span) -> bool:
    """The endpoint's SERVER span of a Lambda Invoke at the root of its trace: the request of
    a caller that recorded no span of its own (no trace header, or one that names no parent,
    as `ripple load` sends), which stands for that request on the client's edge."""
    attributes = span.attributes
    return (span.kind == SpanKind.SERVER and not span.parent_span_id
            and attributes.get("rpc.service") == "Lambda"
            and attributes.get("rpc.method") == "Invoke"
            and bool(attributes.get("faas.invoked_name")))


def _root(spans: dict[tuple[str, str], Span], span: Span) -> Span:
    while (parent := _parent(spans, span)) is not None:
        span = parent
    return span


def _link_sources(spans: dict[tuple[str, str], Span], owner: dict[tuple[str, str], Occurrence],
                  entry: Span) -> list[Node]:
    """The nodes an entry span's span links point into (a batch of stream records)."""
    sources: list[Node] = []
    for link in entry.links:
        linked = spans.get((link.trace_id, link.span_id))
        if linked is None:
            continue
        node = entry_node(linked) or (call_target(linked) if linked.kind in CALLS
                                      else owner[key(linked)].node)
        if node not in sources:
            sources.append(node)
    return sources


def _calls(spans: dict[tuple[str, str], Span], owner: dict[tuple[str, str], Occurrence],
           occurrences: list[Occurrence]) -> list[Call]:
    calls: list[Call] = []
    answered: set[tuple[str, str]] = set()  # callers whose callee left a span
    counted: set[tuple[tuple[str, str], Node]] = set()  # one request per caller and target
    for occurrence in occurrences:
        entry = occurrence.entry
        if entry is None:
            continue
        parent = _parent(spans, entry)
        sources = _link_sources(spans, owner, entry)
        if parent is not None:
            source = owner[key(parent)]
            caller, queued = _outermost_call(spans, source, parent)
            request = (key(caller or entry), occurrence.node)
            if caller is not None:
                answered.add(key(caller))
            root = _root(spans, parent) if source.node == CLIENT else None
            if root is not None and invoked_by_client(root):
                answered.add(key(root))
                caller = root  # its status and time stand for the client's request
            # A batch dispatched from no traced caller comes from its linked records, not
            # from a client; and a retried attempt is not another request.
            from_records = bool(sources) and source.node == CLIENT
            if source.node != occurrence.node and request not in counted and not from_records:
                counted.add(request)
                link = queued or entry.kind == SpanKind.CONSUMER
                calls.append(Call(source.node, occurrence.node, caller, entry, link))
            sources = [node for node in sources if node != source.node]
        elif not sources:
            calls.append(Call(CLIENT, occurrence.node, None, entry,
                              entry.kind == SpanKind.CONSUMER))
        calls.extend(Call(node, occurrence.node, None, entry, True)
                     for node in sources if node != occurrence.node)
    for span in spans.values():  # calls whose callee left no span: infer the target
        if key(span) in answered:
            continue
        if invoked_by_client(span):  # refused, or its invocation's spans are missing
            calls.append(Call(CLIENT, call_target(span), span, None, False))
            continue
        if span.kind not in CALLS:
            continue
        source = owner[key(span)]
        outermost, _ = _outermost_call(spans, source, span)
        if source.node == CLIENT and invoked_by_client(_root(spans, span)):
            continue  # the Invoke at the root stands for the client's request
        if outermost is span:
            target = call_target(span)
            if target != source.node:
                calls.append(Call(source.node, target, span, None,
                                  span.kind == SpanKind.PRODUCER))
    return calls
