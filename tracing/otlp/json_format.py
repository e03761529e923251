"""OTLP/JSON without protobuf objects: ripple's processes export their spans this way to
ripple's own receiver, and the receiver reads any OTLP/JSON export this way.

OTLP/JSON is the protobuf message in proto3's JSON mapping with one exception: trace and span
ids are hex strings, not base64. Building the generated message classes costs several times
what the span itself cost to record; plain dicts and orjson cost a fraction of it. The reader
accepts what the mapping allows: lowerCamelCase or snake_case field names, enums as numbers or
names, 64-bit integers as numbers or strings, unknown fields.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import orjson
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.trace import Link, Status

from tracing.errors import TracingError
from tracing.spans import Span, SpanEvent, SpanKind, SpanLink, StatusCode

KIND_NAMES = {f"SPAN_KIND_{kind.name}": kind for kind in SpanKind}
STATUS_NAMES = {f"STATUS_CODE_{status.name}": status for status in StatusCode}


# writing --------------------------------------------------------------------------------------

def _value(value: Any) -> dict[str, Any]:
    kind = type(value)  # the common types first, by identity: most attributes are one of them
    if kind is str:
        return {"stringValue": value}
    if kind is int:
        return {"intValue": str(value)}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, Sequence):
        return {"arrayValue": {"values": [_value(item) for item in value]}}
    return {"stringValue": str(value)}


def _attributes(attributes: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    if not attributes:
        return []
    return [{"key": key, "value": {"stringValue": value} if type(value) is str else _value(value)}
            for key, value in attributes.items()]


def span_document(trace_id: int, span_id: int, parent_span_id: int | None, name: str,
                  kind: SpanKind, start_ns: int, end_ns: int,
                  attributes: Mapping[str, Any] | None, status: Status,
                  events: Sequence[Event] = (), links: Sequence[Link] = ()) -> dict[str, Any]:
    """One span of an export request, from its parts (`kind` is OTLP's, not the API's)."""
    document: dict[str, Any] = {
        "traceId": f"{trace_id:032x}", "spanId": f"{span_id:016x}", "name": name,
        "kind": kind.value, "startTimeUnixNano": start_ns, "endTimeUnixNano": end_ns,
        "attributes": _attributes(attributes)}
    if parent_span_id is not None:
        document["parentSpanId"] = f"{parent_span_id:016x}"
    if status.status_code.value:
        document["status"] = {"code": status.status_code.value,
                              "message": status.description or ""}
    if events:
        document["events"] = [{"name": event.name, "timeUnixNano": event.timestamp,
                               "attributes": _attributes(event.attributes)}
                              for event in events]
    if links:
        document["links"] = [{"traceId": f"{link.context.trace_id:032x}",
                              "spanId": f"{link.context.span_id:016x}",
                              "attributes": _attributes(link.attributes)}
                             for link in links]
    return document


def span_document_of(span: ReadableSpan) -> dict[str, Any]:
    """An SDK span's document."""
    context = span.get_span_context()
    assert context is not None
    return span_document(context.trace_id, context.span_id,
                         span.parent.span_id if span.parent is not None else None, span.name,
                         SpanKind(span.kind.value + 1),  # the API's INTERNAL is 0, OTLP's 1
                         span.start_time or 0, span.end_time or 0, span.attributes,
                         span.status, span.events, span.links)


def export_request(resource: Mapping[str, Any] | None,
                   scopes: Mapping[tuple[str, str], list[dict[str, Any]]]) -> dict[str, Any]:
    """One resource's `ResourceSpans`: span documents by (scope name, version)."""
    return {"resource": {"attributes": _attributes(resource)},
            "scopeSpans": [{"scope": {"name": name, "version": version}, "spans": found}
                           for (name, version), found in scopes.items()]}


def encode(spans: Sequence[ReadableSpan]) -> bytes:
    """An OTLP/JSON `ExportTraceServiceRequest` for SDK spans."""
    resources: dict[int, tuple[Any, dict[tuple[str, str], list[dict[str, Any]]]]] = {}
    for span in spans:
        _, scopes = resources.setdefault(id(span.resource), (span.resource, {}))
        scope = span.instrumentation_scope
        key = (scope.name, scope.version or "") if scope else ("", "")
        scopes.setdefault(key, []).append(span_document_of(span))
    document = {"resourceSpans": [export_request(resource.attributes, scopes)
                                  for resource, scopes in resources.values()]}
    return orjson.dumps(document)


# reading --------------------------------------------------------------------------------------

def _field(document: Mapping[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    found = document.get(camel)
    return document.get(snake, default) if found is None else found


def _list(document: Any, camel: str, snake: str, where: str) -> list[Any]:
    if not isinstance(document, dict):
        raise TracingError("expected an object", where)
    found = _field(document, camel, snake, [])
    if not isinstance(found, list):
        raise TracingError(f"expected a list in {camel}", where)
    return found


_SCALARS = {"stringValue": str, "string_value": str, "boolValue": bool, "bool_value": bool,
            "bytesValue": str, "bytes_value": str, "intValue": int, "int_value": int,
            "doubleValue": float, "double_value": float}


def _read_value(value: Any) -> Any:
    if not isinstance(value, dict) or not value:
        return None
    (kind, content), *_ = value.items()
    scalar = _SCALARS.get(kind)
    if scalar is not None:
        return scalar(content)
    if kind in ("arrayValue", "array_value"):
        return [_read_value(item) for item in content.get("values", [])]
    if kind in ("kvlistValue", "kvlist_value"):
        return read_attributes(content.get("values", []))
    return None


def read_attributes(pairs: Any) -> dict[str, Any]:
    """OTLP/JSON key-value pairs as a plain dict."""
    if not isinstance(pairs, list):
        raise TypeError("attributes must be a list")
    found = {}
    for pair in pairs:
        value = pair.get("value")
        # The common case first: one string, as every exporter writes most attributes.
        text = value.get("stringValue") if type(value) is dict and len(value) == 1 else None
        found[pair["key"]] = text if type(text) is str else _read_value(value)
    return found


def _id(document: Mapping[str, Any], camel: str, snake: str, size: int, where: str,
        optional: bool = False) -> str:
    text = _field(document, camel, snake, "")
    name = camel if camel in document else snake
    if optional and not text:
        return ""
    try:
        raw = bytes.fromhex(text)
    except (TypeError, ValueError):
        raise TracingError(f"expected a hex id, got {text!r}", f"{where}.{name}") from None
    if len(raw) != size or not any(raw):
        raise TracingError(f"expected a non-zero {size}-byte id, got {raw.hex() or 'nothing'}",
                           f"{where}.{name}")
    return raw.hex()


def _enum(value: Any, names: Mapping[str, Any], kinds: type[SpanKind] | type[StatusCode]) -> Any:
    if isinstance(value, str):
        return names.get(value, kinds(0))
    if isinstance(value, int):
        try:
            return kinds(value)
        except ValueError:  # proto3 enums are open: a newer value reads as unspecified
            return kinds(0)
    raise TypeError(f"not an enum value: {value!r}")


def _read_span(span: Any, resource: dict[str, Any], where: str) -> Span:
    if not isinstance(span, dict):
        raise TracingError("expected a span object", where)
    status = span.get("status") or {}
    links = []
    for number, link in enumerate(_list(span, "links", "links", where)):
        at = f"{where}.links[{number}]"
        links.append(SpanLink(_id(link, "traceId", "trace_id", 16, at),
                              _id(link, "spanId", "span_id", 8, at),
                              read_attributes(link.get("attributes", []))))
    parent = _id(span, "parentSpanId", "parent_span_id", 8, where, optional=True)
    return Span(
        trace_id=_id(span, "traceId", "trace_id", 16, where),
        span_id=_id(span, "spanId", "span_id", 8, where),
        parent_span_id=parent or None,
        name=str(span.get("name", "")),
        kind=_enum(span.get("kind", 0), KIND_NAMES, SpanKind),
        start_ns=int(_field(span, "startTimeUnixNano", "start_time_unix_nano", 0)),
        end_ns=int(_field(span, "endTimeUnixNano", "end_time_unix_nano", 0)),
        status=_enum(status.get("code", 0), STATUS_NAMES, StatusCode),
        status_message=str(status.get("message", "")),
        attributes=read_attributes(span.get("attributes", [])),
        resource=resource,
        events=tuple(SpanEvent(str(event.get("name", "")),
                               int(_field(event, "timeUnixNano", "time_unix_nano", 0)),
                               read_attributes(event.get("attributes", [])))
                     for event in _list(span, "events", "events", where)),
        links=tuple(links))


def decode(body: bytes) -> list[Span]:
    """The spans of an OTLP/JSON export request (ids as hex strings)."""
    try:
        document = orjson.loads(body)
    except ValueError as error:  # orjson's JSONDecodeError, invalid UTF-8 included
        raise TracingError(f"not JSON ({error})") from None
    if not isinstance(document, dict):
        raise TracingError("expected a JSON object with `resourceSpans`")
    spans: list[Span] = []
    try:
        for r, resource_spans in enumerate(_list(document, "resourceSpans", "resource_spans",
                                                 "")):
            where = f"resourceSpans[{r}]"
            resource = read_attributes((resource_spans.get("resource") or {}).get(
                "attributes", []))
            for s, scope_spans in enumerate(_list(resource_spans, "scopeSpans", "scope_spans",
                                                  where)):
                for n, span in enumerate(_list(scope_spans, "spans", "spans",
                                               f"{where}.scopeSpans[{s}]")):
                    spans.append(_read_span(span, resource,
                                            f"{where}.scopeSpans[{s}].spans[{n}]"))
    except (TypeError, ValueError, KeyError, AttributeError) as error:
        raise TracingError(f"not an OTLP/JSON export request ({error!r})") from None
    return spans
