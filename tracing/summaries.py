"""Trace summaries (`GetTraceSummaries` items) and the facts filter expressions test.

A trace's *root segment* is the first node occurrence the client called: its entry span gives
the trace's `ResponseTime`, `Http` and `EntryPoint`. `Duration` runs from the first span's
start to the last span's end, asynchronous hops included. `HasFault`, `HasError` and
`HasThrottle` are true when any span of the trace was a fault, an error or a throttle, so a
failing handler deep in a fan-out marks the whole trace.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypedDict

from tracing.filters import EdgeFacts, Facts, ServiceFacts, TraceFacts, Value, parse
from tracing.nodes import CLIENT, Node, Outcome, entry_node, outcome
from tracing.segments import annotations_of, http_block
from tracing.spans import Span
from tracing.topology import Occurrence, Topology, key, topology
from tracing.trace_ids import xray_trace_id

_HTTP_FIELDS = (("url", "HttpURL"), ("status", "HttpStatus"), ("method", "HttpMethod"),
                ("useragent", "UserAgent"), ("clientip", "ClientIp"))


def _http(span: Span) -> dict[str, str | int]:
    block = http_block(span)
    request, response = block.get("request", {}), block.get("response", {})
    found = {"url": request.get("url"), "method": request.get("method"),
             "useragent": request.get("user_agent"), "clientip": request.get("client_ip"),
             "status": response.get("status")}
    return {name: value for name, value in found.items() if value is not None}


def _annotations(spans: Iterable[Span]) -> dict[str, tuple[Value, ...]]:
    found: dict[str, list[Value]] = {}
    for span in spans:
        for name, value in annotations_of(span).items():
            values = found.setdefault(name, [])
            if not any(type(seen) is type(value) and seen == value for seen in values):
                values.append(value)
    return {name: tuple(values) for name, values in found.items()}


def _users(spans: Iterable[Span]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(span.attributes["enduser.id"]) for span in spans
                               if span.attributes.get("enduser.id")))


class _Flags(TypedDict):
    ok: bool
    error: bool
    throttle: bool
    fault: bool


def _flags(results: Iterable[Outcome]) -> _Flags:
    seen = set(results)
    error = Outcome.ERROR in seen or Outcome.THROTTLE in seen
    throttle, fault = Outcome.THROTTLE in seen, Outcome.FAULT in seen
    return {"ok": not (error or fault), "error": error, "throttle": throttle, "fault": fault}


def _seconds(span: Span) -> float:
    return max(span.end_ns - span.start_ns, 0) / 1e9


def _service_facts(occurrence: Occurrence) -> ServiceFacts:
    entry = occurrence.entry
    assert entry is not None
    return ServiceFacts(node=occurrence.node, **_flags([outcome(entry)]),
                        response_time=_seconds(entry),
                        duration=max(occurrence.end_ns - entry.start_ns, 0) / 1e9,
                        http=_http(entry), annotations=_annotations(occurrence.spans),
                        users=_users(occurrence.spans))


def _root(graph: Topology, own: set[str]) -> Occurrence | None:
    """The first occurrence the client called (else the first one at all)."""
    called = {id(call.callee) for call in graph.calls if call.source == CLIENT}
    entered = [o for o in graph.occurrences if o.entry is not None and o.trace_id in own]
    first = [o for o in entered if id(o.entry) in called] or entered
    return min(first, key=lambda o: o.entry.start_ns if o.entry else 0, default=None)


def linked_context(spans: list[Span], index: dict[tuple[str, str], Span]) -> list[Span]:
    """The spans of other traces that `spans` link to, each with its ancestors up to the span
    that entered its node: enough to tell which node a link comes from."""
    found: dict[tuple[str, str], Span] = {}
    for span in spans:
        for link in span.links:
            current = index.get((link.trace_id, link.span_id))
            while current is not None and key(current) not in found:
                found[key(current)] = current
                if entry_node(current) is not None or not current.parent_span_id:
                    break
                current = index.get((current.trace_id, current.parent_span_id))
    return list(found.values())


def trace_facts(spans: list[Span], context: list[Span] | None = None) -> TraceFacts:
    """What a filter expression can test about one trace; `context` holds spans of other
    traces its span links point to (see `linked_context`)."""
    own = {span.trace_id for span in spans}
    graph = topology(spans + [span for span in context or [] if span.trace_id not in own])
    services = [_service_facts(o) for o in graph.occurrences
                if o.entry is not None and o.trace_id in own]
    edges = []
    for call in graph.calls:
        result, span = outcome(call.span), call.span
        if span.trace_id not in own:
            continue
        if call.callee is None:  # an inferred node: what its callers saw
            services.append(ServiceFacts(node=call.target, **_flags([result]),
                                         response_time=_seconds(span), duration=_seconds(span),
                                         http=_http(span)))
        edges.append(EdgeFacts(source=call.source, target=call.target, **_flags([result]),
                               response_time=_seconds(span), duration=_seconds(span),
                               http=_http(span)))
    root = _root(graph, own)
    start = min((span.start_ns for span in spans), default=0)
    end = max((span.end_ns for span in spans), default=0)
    root_facts: Facts = _service_facts(root) if root else Facts()
    return TraceFacts(**_flags(outcome(span) for span in spans),
                      entry_point=root.node if root else None, start_time=start / 1e9,
                      response_time=root_facts.response_time,
                      duration=max(end - start, 0) / 1e9, http=root_facts.http,
                      annotations=_annotations(spans), users=_users(spans),
                      services=tuple(services), edges=tuple(edges))


def _service_id(node: Node) -> dict[str, Any]:
    return {"Name": node.name, "Names": [node.name], "Type": node.type}


def _annotation_value(value: Value) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BooleanValue": value}
    if isinstance(value, (int, float)):
        return {"NumberValue": float(value)}
    return {"StringValue": value}


def summary(trace_id: str, spans: list[Span], facts: TraceFacts) -> dict[str, Any]:
    """One `GetTraceSummaries` item."""
    nodes = list(dict.fromkeys(s.node for s in facts.services if s.node != CLIENT))
    holders: dict[tuple[str, type, Value], list[Node]] = {}
    users: dict[str, list[Node]] = {}
    for service in facts.services:
        for name, values in service.annotations.items():
            for value in values:
                found = holders.setdefault((name, type(value), value), [])
                if service.node not in found:
                    found.append(service.node)
        for user in service.users:
            users.setdefault(user, []).append(service.node)
    item: dict[str, Any] = {
        "Id": xray_trace_id(trace_id),
        "StartTime": facts.start_time,
        "Duration": round(facts.duration, 6), "ResponseTime": round(facts.response_time, 6),
        "HasFault": facts.fault, "HasError": facts.error, "HasThrottle": facts.throttle,
        "IsPartial": False,
        "Http": {name: facts.http[field] for field, name in _HTTP_FIELDS if field in facts.http},
        "Annotations": {},
        "Users": [{"UserName": user, "ServiceIds": [_service_id(node) for node in dict.fromkeys(
            nodes_of_user)]} for user, nodes_of_user in users.items()],
        "ServiceIds": [_service_id(node) for node in nodes],
        "ResourceARNs": [{"ARN": arn} for arn in dict.fromkeys(
            str(span.attributes["cloud.resource_id"]) for span in spans
            if span.attributes.get("cloud.resource_id"))]}
    for (name, _, value), holding in holders.items():
        item["Annotations"].setdefault(name, []).append({
            "AnnotationValue": _annotation_value(value),
            "ServiceIds": [_service_id(node) for node in holding]})
    if facts.entry_point is not None:
        item["EntryPoint"] = _service_id(facts.entry_point)
    return item


def trace_summaries(traces: dict[str, list[Span]], expression: str | None = None
                    ) -> list[dict[str, Any]]:
    """`GetTraceSummaries` items for the traces (trace id → spans) that pass `expression`,
    in the order given. Raises `tracing.filters.FilterError` for an unreadable expression."""
    wanted = parse(expression) if expression and expression.strip() else None
    linking = any(span.links for spans in traces.values() for span in spans)
    index = {key(span): span for spans in traces.values() for span in spans} if linking else {}
    items = []
    for trace_id, spans in traces.items():
        facts = trace_facts(spans, linked_context(spans, index))
        if wanted is None or wanted.matches(facts):
            items.append(summary(trace_id, spans, facts))
    return items
