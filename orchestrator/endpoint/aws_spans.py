"""Spans for the AWS calls that reach the endpoint (Lambda, S3, DynamoDB), as plain ASGI.

A caller that records its own CLIENT span (an instrumented client, such as boto3 inside an
environment with OpenTelemetry) names it in `traceparent`, and the endpoint's SERVER span hangs
under it. A caller that only sent `X-Amzn-Trace-Id` (botocore's recursion-detection header, from
an environment without OpenTelemetry) gets its CLIENT span recorded here on its behalf first.
While the service handles the call, `INBOUND` holds the context under that SERVER span, so
whatever the call triggers (a notification, an async invoke, a stream record) continues the
same trace — and carries its Lineage.
"""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, unquote

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.endpoint.routing import service_of
from tracing.hops import INBOUND, own_context, remote_parent
from tracing.propagation import from_headers, from_traceparent

LAMBDA_PREFIX = "/2015-03-31/functions/"


def describe_call(scope: Scope, headers: dict[str, str], body: bytes) -> dict[str, Any] | None:
    """`rpc.*`/`aws.*` attributes of an AWS call; None for ripple's own routes."""
    path: str = scope["path"]
    if path.startswith(LAMBDA_PREFIX) and path.endswith("/invocations"):
        name = unquote(path[len(LAMBDA_PREFIX):-len("/invocations")]).split(":")[-1]
        return {"rpc.service": "Lambda", "rpc.method": "Invoke", "faas.invoked_name": name}
    if target := headers.get("x-amz-target", ""):
        if not target.startswith("DynamoDB_"):
            return None
        attributes: dict[str, Any] = {"rpc.service": "DynamoDB",
                                      "rpc.method": target.rsplit(".", 1)[-1]}
        tables = _dynamodb_tables(body)
        if tables:
            attributes["aws.dynamodb.table_names"] = tables
        return attributes
    raw_headers = {key.encode(): value.encode() for key, value in headers.items()}
    if service_of(raw_headers, scope.get("query_string", b"")) == "s3":
        return _describe_s3(scope, headers)
    return None


def _dynamodb_tables(body: bytes) -> list[str]:
    try:
        request = json.loads(body or b"{}")
    except ValueError:
        return []
    if "TableName" in request:
        return [str(request["TableName"])]
    items = request.get("RequestItems") or {}
    if items:
        return sorted(items)
    return sorted({str(entry[kind]["TableName"]) for entry in request.get("TransactItems", [])
                   for kind in entry if isinstance(entry[kind], dict)
                   and "TableName" in entry[kind]})


def _describe_s3(scope: Scope, headers: dict[str, str]) -> dict[str, Any]:
    host = headers.get("host", "").split(":")[0]
    labels = host.split(".")
    virtual = len(labels) > 1 and not host.replace(".", "").isdigit() and labels[0] not in (
        "localhost", "s3", "127")
    parts = [part for part in scope["path"].split("/") if part]
    if virtual:
        parts = [labels[0], *parts]
    query = parse_qs(scope.get("query_string", b"").decode(), keep_blank_values=True)
    method: str = scope["method"]
    bucket_level: dict[str, str] = {
        "GET": "ListObjectsV2" if "list-type" in query else "ListObjects",
        "PUT": "CreateBucket", "HEAD": "HeadBucket", "DELETE": "DeleteBucket",
        "POST": "DeleteObjects"}
    object_level: dict[str, str] = {
        "GET": "GetObject", "HEAD": "HeadObject", "DELETE": "DeleteObject",
        "PUT": "CopyObject" if "x-amz-copy-source" in headers else "PutObject",
        "POST": "PostObject"}
    if not parts:
        operation = "ListBuckets"
    elif "notification" in query:
        operation = ("PutBucketNotificationConfiguration" if method == "PUT"
                     else "GetBucketNotificationConfiguration")
    elif len(parts) == 1:
        operation = bucket_level.get(method, method)
    else:
        operation = object_level.get(method, method)
    attributes: dict[str, Any] = {"rpc.service": "S3", "rpc.method": operation}
    if parts:
        attributes["aws.s3.bucket"] = parts[0]
    if len(parts) > 1:
        attributes["aws.s3.key"] = unquote("/".join(parts[1:]))
    return attributes


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = trace.get_tracer("ripple.endpoint")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/_ripple", "/v1/traces")):
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1")
                   for key, value in scope["headers"]}
        body = b""
        if headers.get("x-amz-target", "").startswith("DynamoDB_"):
            body, receive = await _buffered(receive)
        attributes = describe_call(scope, headers, body)
        if attributes is None:
            await self.app(scope, receive, send)
            return
        attributes["rpc.system"] = "aws-api"
        caller = from_headers({"x-amzn-trace-id": unquote(headers.get("x-amzn-trace-id", "")),
                               "traceparent": headers.get("traceparent", "")})
        name = f"{attributes['rpc.service']}.{attributes['rpc.method']}"
        started = time.time_ns()
        parent = remote_parent(caller) if caller else None
        on_behalf = caller is not None and from_traceparent(headers.get("traceparent", "")) is None
        client = (self.tracer.start_span(name, parent, kind=SpanKind.CLIENT,
                                         start_time=started, attributes=attributes)
                  if on_behalf else None)
        server = self.tracer.start_span(
            name, trace.set_span_in_context(client) if client else parent,
            kind=SpanKind.SERVER, start_time=started, attributes=attributes)
        inbound = own_context(server, caller)
        status = {"code": 500}

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        token = INBOUND.set(inbound)
        try:
            with trace.use_span(server, end_on_exit=False):
                await self.app(scope, receive, send_status)
        finally:
            INBOUND.reset(token)
            code = status["code"]
            for span in (server, client):
                if span is None:
                    continue
                span.set_attribute("http.response.status_code", code)
                if code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body, and a `receive` that hands it over again."""
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            break
    body = b"".join(chunks)
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return body, replay
