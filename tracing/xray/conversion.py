"""X-Ray segment documents as ripple's spans: the inverse of `tracing/segments.py`.

A segment becomes the span that enters its node (by `origin`: a Lambda function's SERVER span
with `faas.name`, the Lambda service's CONSUMER span, an S3 bucket's or DynamoDB table's
SERVER span, an API Gateway stage; any other origin a SERVER span of the service the segment
names); each subsegment becomes a span below it: `namespace: aws` a CLIENT span with
`rpc.system=aws-api`, `namespace: remote` a CLIENT span with `http.*`, others INTERNAL. An
independent subsegment (`"type": "subsegment"`) hangs under its `parent_id`, which in a Lambda
function is ripple's Invocation span (`Parent=` of `_X_AMZN_TRACE_ID`).

Times are epoch seconds in X-Ray and nanoseconds here; an `in_progress` part has no end yet
(`end_ns` 0), which segments.py turns back into `in_progress`.
"""

from __future__ import annotations

from typing import Any

from tracing.nodes import OUTCOME_FLAG
from tracing.spans import Span, SpanKind, SpanLink, StatusCode
from tracing.trace_ids import TraceIdError, w3c_trace_id
from tracing.xray.attributes import (
    annotation_attributes,
    aws_attributes,
    block,
    exception_events,
    http_attributes,
    metadata_attributes,
)
from tracing.xray.documents import ID, Document

FUNCTION = "AWS::Lambda::Function"
LAMBDA = "AWS::Lambda"
STAGE = "AWS::ApiGateway::Stage"
BUCKET = "AWS::S3::Bucket"
TABLE = "AWS::DynamoDB::Table"
SUBSEGMENT_RESOURCE = {"telemetry.sdk.name": "aws-xray"}  # who recorded it is not said


def spans_of(document: Document) -> list[Span]:
    """Every span of one checked document (see `documents.read`), the document's own first."""
    trace_id = w3c_trace_id(document["trace_id"])
    spans: list[Span] = []
    if document.get("type") == "subsegment":
        _walk(document, trace_id, document["parent_id"].lower(), SUBSEGMENT_RESOURCE, spans)
        return spans
    resource = {"service.name": document["name"]}
    sdk = block(block(document, "aws"), "xray")
    if sdk.get("sdk"):
        resource["telemetry.sdk.name"] = str(sdk["sdk"])
    kind, attributes = _entry(document)
    own = _span(document, trace_id, document.get("parent_id"), kind, attributes, resource)
    spans.append(own)
    for subsegment in document.get("subsegments", []):
        _walk(subsegment, trace_id, own.span_id, resource, spans)
    return spans


def _entry(segment: Document) -> tuple[SpanKind, dict[str, Any]]:
    """The kind and identifying attributes of a segment's span, by its origin."""
    name, origin = segment["name"], segment.get("origin")
    aws = block(segment, "aws")
    attributes: dict[str, Any] = {}
    if segment.get("resource_arn"):
        attributes["cloud.resource_id"] = str(segment["resource_arn"])
    elif aws.get("function_arn"):
        attributes["cloud.resource_id"] = str(aws["function_arn"])
    if origin == LAMBDA:
        return SpanKind.CONSUMER, {**attributes, "faas.name": name}
    if origin == FUNCTION:
        return SpanKind.SERVER, {**attributes, "faas.name": name}
    if origin == STAGE:
        api, _, stage = name.rpartition("/")
        stage_attributes = {"ripple.apigateway.stage": stage}
        if api:
            stage_attributes["ripple.apigateway.api"] = api
        return SpanKind.SERVER, {**attributes, **stage_attributes}
    if origin == BUCKET:
        return SpanKind.SERVER, {**attributes, "rpc.system": "aws-api", "rpc.service": "S3",
                                 "aws.s3.bucket": name}
    if origin == TABLE:
        return SpanKind.SERVER, {**attributes, "rpc.system": "aws-api",
                                 "rpc.service": "DynamoDB", "aws.dynamodb.table_names": [name]}
    if origin:
        attributes["cloud.platform"] = str(origin)
    return SpanKind.SERVER, attributes


def _walk(part: Document, trace_id: str, parent_id: str, resource: dict[str, Any],
          spans: list[Span]) -> None:
    """A subsegment's span, then its subsegments' (depth first, parents before children)."""
    namespace = part.get("namespace")
    kind = SpanKind.CLIENT if namespace in ("aws", "remote") else SpanKind.INTERNAL
    own = _span(part, trace_id, parent_id, kind, {}, resource)
    spans.append(own)
    for subsegment in part.get("subsegments", []):
        _walk(subsegment, trace_id, own.span_id, resource, spans)


def _span(part: Document, trace_id: str, parent_id: str | None, kind: SpanKind,
          attributes: dict[str, Any], resource: dict[str, Any]) -> Span:
    start_ns = round(part["start_time"] * 1e9)
    end_ns = 0 if part.get("end_time") is None else max(round(part["end_time"] * 1e9), start_ns)
    call = part["name"] if part.get("namespace") == "aws" else None
    attributes = {**attributes, **http_attributes(block(part, "http")),
                  **aws_attributes(block(part, "aws"), call),
                  **annotation_attributes(part.get("annotations") or {}),
                  **metadata_attributes(part.get("metadata") or {})}
    if isinstance(part.get("user"), str):
        attributes["enduser.id"] = part["user"]
    if part.get("namespace") == "remote" and "server.address" not in attributes:
        attributes["server.address"] = part["name"]
    events = exception_events(part.get("cause"), end_ns or start_ns)
    status, message = StatusCode.UNSET, ""
    if part.get("fault") is True:
        status = StatusCode.ERROR
        message = str(events[0].attributes["exception.message"]) if events else "fault"
    elif part.get("throttle") is True or part.get("error") is True:
        attributes[OUTCOME_FLAG] = "throttle" if part.get("throttle") is True else "error"
    return Span(trace_id, part["id"].lower(), parent_id.lower() if parent_id else None,
                part["name"], kind, start_ns, end_ns, status, message, attributes, resource,
                events, _links(part))


def _links(part: Document) -> tuple[SpanLink, ...]:
    """`links` as segments.py writes them (a stream batch's records); unreadable ones are
    left out."""
    links = []
    for link in part.get("links") or []:
        if not isinstance(link, dict) or not ID.fullmatch(str(link.get("id"))):
            continue
        try:
            links.append(SpanLink(w3c_trace_id(str(link.get("trace_id"))), link["id"].lower()))
        except TraceIdError:
            continue
    return tuple(links)
