"""X-Ray segment documents (`BatchGetTraces`) from a trace's spans.

One segment per node occurrence, named after the node, with the node's type as `origin` (none
for a service of indeterminate type, `remote`: X-Ray's own segment had none); the spans below
its entry span become subsegments (a Lambda function's `Initialization`, `Invocation` and
`Overhead`; CLIENT calls with `namespace` "aws" or "remote"). A client (a span with no
instrumented parent) has no segment, as in X-Ray.

Every document validates against X-Ray's schema and stays within X-Ray's 64 KB: an oversized
segment sheds its largest subsegments as independent subsegment documents (`"type":
"subsegment"` with `parent_id` and `trace_id`), the form the X-Ray SDKs stream them in.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from typing import Any

from tracing.nodes import CALLS, FUNCTION, OUTCOME_FLAG, Outcome, outcome
from tracing.origins import INDETERMINATE
from tracing.spans import Span, SpanKind, StatusCode
from tracing.topology import Occurrence, topology
from tracing.trace_ids import w3c_trace_id, xray_trace_id

MAX_DOCUMENT = 64 * 1024
_NAME_FORBIDDEN = re.compile(r"[^A-Za-z0-9 _.:/%&#=+\-@]")  # X-Ray's name alphabet, ASCII part
_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+), in (?P<label>.+)')
_MAX_FRAMES = 50


def document_name(name: str) -> str:
    """A name X-Ray accepts for a (top-level) document: its alphabet, 1 to 200 characters."""
    return _NAME_FORBIDDEN.sub("_", name)[:200] or "unknown"


def _clip(value: Any, limit: int = 250) -> str:
    return str(value)[:limit]


def http_url(attributes: dict[str, Any]) -> str | None:
    """The request URL from OTel's `url.*` / `server.*` attributes (or the older `http.url`)."""
    for name in ("url.full", "http.url"):
        if attributes.get(name):
            return str(attributes[name])
    path = attributes.get("url.path") or attributes.get("http.target") or attributes.get(
        "http.route")
    host = attributes.get("server.address")
    if path is None or not host:
        return str(path) if path is not None else None
    port = attributes.get("server.port")
    return f"{attributes.get('url.scheme', 'http')}://{host}{f':{port}' if port else ''}{path}"


def http_block(span: Span) -> dict[str, Any]:
    """X-Ray's `http` object: request method, url, user agent, client ip; response status."""
    attributes = span.attributes
    request: dict[str, Any] = {}
    method = attributes.get("http.request.method", attributes.get("http.method"))
    for field, value in (("method", method), ("url", http_url(attributes)),
                         ("user_agent", attributes.get("user_agent.original")),
                         ("client_ip", attributes.get("client.address"))):
        if value is not None:
            request[field] = _clip(value)
    response: dict[str, Any] = {}
    status = attributes.get("http.response.status_code", attributes.get("http.status_code"))
    if isinstance(status, (int, float)) and not isinstance(status, bool):
        response["status"] = int(status)
    size = attributes.get("http.response.body.size")
    if isinstance(size, int) and not isinstance(size, bool):
        response["content_length"] = size
    block = {"request": request, "response": response}
    return {name: part for name, part in block.items() if part}


def annotations_of(span: Span) -> dict[str, str | float | bool]:
    """X-Ray annotations from `ripple.annotation.<key>` attributes."""
    found: dict[str, str | float | bool] = {}
    for name, value in span.attributes.items():
        if not name.startswith("ripple.annotation.") or value is None:
            continue
        annotation = re.sub(r"[^A-Za-z0-9_]", "_", name[len("ripple.annotation."):])[:500]
        if isinstance(value, bool) or (isinstance(value, (int, float))
                                       and math.isfinite(value)):
            found[annotation or "_"] = value
        else:
            found[annotation or "_"] = _clip(value, 1000)
    return found


def _exception_id(span: Span, index: int) -> str:
    return hashlib.blake2b(f"{span.span_id}:{index}".encode(), digest_size=8).hexdigest()


def _stack(text: str) -> tuple[list[dict[str, Any]], int]:
    frames = [{"path": match["path"], "line": int(match["line"]), "label": match["label"]}
              for match in _FRAME.finditer(text)]
    return frames[-_MAX_FRAMES:], max(len(frames) - _MAX_FRAMES, 0)


def cause(span: Span) -> dict[str, Any] | None:
    """X-Ray's `cause`: the span's exception events, else its error type and status message."""
    exceptions: list[dict[str, Any]] = []
    for event in span.events:
        if event.name != "exception":
            continue
        exception: dict[str, Any] = {
            "id": _exception_id(span, len(exceptions)),
            "type": str(event.attributes.get("exception.type", "Exception")),
            "message": _clip(event.attributes.get("exception.message", ""), 1000)}
        stack, truncated = _stack(str(event.attributes.get("exception.stacktrace", "")))
        if stack:
            exception["stack"] = stack
        if truncated:
            exception["truncated"] = truncated
        exceptions.append(exception)
    error_type = span.attributes.get("ripple.error_type")
    if not exceptions and (error_type or span.status == StatusCode.ERROR):
        exceptions.append({"id": _exception_id(span, 0), "type": str(error_type or "Error"),
                           "message": _clip(span.status_message or error_type or "", 1000)})
    return {"exceptions": exceptions} if exceptions else None


def _aws_block(span: Span) -> dict[str, Any]:
    attributes = span.attributes
    block: dict[str, Any] = {}
    if attributes.get("rpc.system") == "aws-api" and attributes.get("rpc.method"):
        block["operation"] = str(attributes["rpc.method"])
    elif attributes.get("messaging.system") == "ripple" and span.kind == SpanKind.PRODUCER:
        block["operation"] = "Invoke"
    tables = attributes.get("aws.dynamodb.table_names")
    if isinstance(tables, (list, tuple)) and len(tables) == 1:
        block["table_name"] = str(tables[0])
    elif isinstance(tables, (list, tuple)) and tables:
        block["table_names"] = [str(table) for table in tables]
    for field, name in (("bucket_name", "aws.s3.bucket"), ("key", "aws.s3.key"),
                        ("function_name", "faas.invoked_name"), ("request_id", "aws.request_id"),
                        ("region", "cloud.region")):
        if attributes.get(name) is not None:
            block[field] = str(attributes[name])
    return block


_NOT_METADATA = ("ripple.annotation.", "ripple.metadata.", OUTCOME_FLAG)


def _metadata(span: Span) -> dict[str, Any]:
    """ripple's own attributes under `ripple`, and other namespaces (from X-Ray segments that
    carried them, e.g. Powertools' Tracer) back under their own names."""
    ripple = {name[len("ripple."):]: value for name, value in span.attributes.items()
              if name.startswith("ripple.") and not name.startswith(_NOT_METADATA)}
    for name in ("faas.coldstart", "faas.trigger", "faas.invocation_id"):
        if name in span.attributes:
            ripple[name] = span.attributes[name]
    metadata: dict[str, Any] = {name[len("ripple.metadata."):]: value
                                for name, value in span.attributes.items()
                                if name.startswith("ripple.metadata.")}
    return {**metadata, "ripple": ripple} if ripple else metadata


def _common(span: Span) -> dict[str, Any]:
    """The fields segments and subsegments share: times, flags, cause, http, annotations."""
    document: dict[str, Any] = {"id": span.span_id, "start_time": span.start_ns / 1e9}
    if span.end_ns >= span.start_ns > 0:
        document["end_time"] = span.end_ns / 1e9
    else:
        document["in_progress"] = True
    result = outcome(span)
    if result != Outcome.OK:
        document["error"] = result.is_error
        document["throttle"] = result == Outcome.THROTTLE
        document["fault"] = result == Outcome.FAULT
    found = cause(span)
    if found:
        document["cause"] = found
    for field, value in (("http", http_block(span)), ("aws", _aws_block(span)),
                         ("annotations", annotations_of(span)), ("metadata", _metadata(span))):
        if value:
            document[field] = value
    if span.attributes.get("enduser.id"):
        document["user"] = _clip(span.attributes["enduser.id"])
    return document


def _subsegment(span: Span, children: dict[str, list[Span]]) -> dict[str, Any]:
    attributes = span.attributes
    name = span.name
    document = _common(span)
    if span.kind in CALLS:
        aws = attributes.get("rpc.system") == "aws-api" or (
            attributes.get("messaging.system") == "ripple")
        document["namespace"] = "aws" if aws else "remote"
        if attributes.get("rpc.system") == "aws-api" and attributes.get("rpc.service"):
            name = str(attributes["rpc.service"])  # X-Ray names AWS calls by service: "S3"
        elif not aws and attributes.get("server.address"):
            name = str(attributes["server.address"])
    below = children.get(span.span_id, [])
    if below:
        document["subsegments"] = [_subsegment(child, children) for child in below]
    return {"name": name or "unknown", **document}


def segment(occurrence: Occurrence) -> dict[str, Any]:
    """The segment document of one node occurrence (its entry span and everything below it)."""
    entry = occurrence.entry
    assert entry is not None, "a client occurrence has no segment"
    children: dict[str, list[Span]] = {}
    for span in sorted(occurrence.spans, key=lambda span: (span.start_ns, span.end_ns)):
        if span is not entry and span.parent_span_id:
            children.setdefault(span.parent_span_id, []).append(span)
    document = {"name": document_name(occurrence.node.name), "trace_id": xray_trace_id(
        entry.trace_id), **_common(entry)}
    if occurrence.node.type != INDETERMINATE:
        document["origin"] = occurrence.node.type
    if entry.parent_span_id and len(entry.parent_span_id) == 16:
        document["parent_id"] = entry.parent_span_id
    if entry.attributes.get("cloud.resource_id"):
        document["resource_arn"] = str(entry.attributes["cloud.resource_id"])
        if occurrence.node.type == FUNCTION:
            document.setdefault("aws", {})["function_arn"] = document["resource_arn"]
    if entry.links:
        document["links"] = [{"trace_id": xray_trace_id(link.trace_id), "id": link.span_id}
                             for link in entry.links]
    below = children.get(entry.span_id, [])
    if below:
        document["subsegments"] = [_subsegment(child, children) for child in below]
    return document


def _size(document: dict[str, Any]) -> int:
    return len(json.dumps(document, separators=(",", ":"), default=str))


def _shrink(document: dict[str, Any], limit: int) -> None:
    """Drop what can go, least useful first, from a document with no subsegments left."""
    for field in ("metadata", "links", "annotations", "aws", "http"):
        if _size(document) <= limit:
            return
        document.pop(field, None)
    if _size(document) > limit and "cause" in document:
        first = document["cause"]["exceptions"][0]
        document["cause"] = {"exceptions": [{"id": first["id"], "type": first["type"][:200],
                                             "message": first.get("message", "")[:1000]}]}


def split(document: dict[str, Any], trace_id: str, limit: int = MAX_DOCUMENT
          ) -> list[dict[str, Any]]:
    """`document` cut to fit `limit` bytes, then the independent subsegments it shed."""
    if _size(document) <= limit:
        return [document]
    subsegments = document.pop("subsegments", [])
    sizes = [_size(sub) + 1 for sub in subsegments]
    total = _size(document) + len(',"subsegments":[]') + sum(sizes)
    shed: set[int] = set()
    for index in sorted(range(len(subsegments)), key=sizes.__getitem__, reverse=True):
        if total <= limit:
            break
        shed.add(index)
        total -= sizes[index]
    kept = [sub for index, sub in enumerate(subsegments) if index not in shed]
    if kept:
        document["subsegments"] = kept
    else:
        _shrink(document, limit)
    documents = [document]
    for index in sorted(shed):
        independent = {**subsegments[index], "type": "subsegment", "trace_id": trace_id,
                       "parent_id": document["id"]}
        independent["name"] = document_name(independent["name"])
        documents.extend(split(independent, trace_id, limit))
    return documents


def trace_document(trace_id: str, spans: list[Span]) -> dict[str, Any]:
    """One `BatchGetTraces` trace: its segment documents as JSON strings, each within 64 KB.

    Spans of other traces may be passed along to resolve span links; only `trace_id`'s
    become segments."""
    w3c, xray = w3c_trace_id(trace_id), xray_trace_id(trace_id)
    graph = topology(spans)
    entered = [(o.entry, o) for o in graph.occurrences if o.trace_id == w3c and o.entry]
    documents = []
    for _, occurrence in sorted(entered, key=lambda pair: (pair[0].start_ns, pair[0].span_id)):
        for part in split(segment(occurrence), xray):
            documents.append({"Id": part["id"], "Document": json.dumps(
                part, separators=(",", ":"), default=str)})
    own = [span for span in spans if span.trace_id == w3c]
    duration = (max(s.end_ns for s in own) - min(s.start_ns for s in own)) / 1e9 if own else 0.0
    return {"Id": xray, "Duration": round(max(duration, 0.0), 6), "LimitExceeded": False,
            "Segments": documents}
