"""Spans for the AWS calls that reach the endpoint (Lambda, S3, DynamoDB), as plain ASGI.

A caller that records its own CLIENT span (an instrumented client, such as boto3 inside an
environment with OpenTelemetry) names it in `traceparent`, and the endpoint's SERVER span hangs
under it. A caller that only sent `X-Amzn-Trace-Id` (botocore's recursion-detection header, from
an environment without OpenTelemetry) gets its CLIENT span recorded here on its behalf first.
While the service handles the call, `INBOUND` holds the context under that SERVER span, so
whatever the call triggers (a notification, an async invoke, a stream record) continues the
same trace — and carries its Lineage. The spans start named after the service alone; the
service names the operation once it has routed the call (`orchestrator.services.calls`), and
the spans take that name and its attributes when the call ends.
"""

from __future__ import annotations

import time
from urllib.parse import unquote

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.endpoint.routing import service_of
from orchestrator.services.calls import CURRENT, Call
from tracing.hops import INBOUND, own_context, remote_parent
from tracing.propagation import from_headers, from_traceparent

LAMBDA_PREFIX = "/2015-03-31/functions/"
# The simulated services whose calls are traced, by the name `service_of` gives them; each
# names the operation once it has routed the request (`orchestrator.services.calls`).
SERVICES = {"s3": "S3", "dynamodb": "DynamoDB"}


def open_call(scope: Scope) -> Call | None:
    """The AWS call a request is, as far as it is known before any service routes it; None for
    ripple's own routes (and X-Ray's, whose spans are ripple's own plumbing)."""
    if scope["path"].startswith(LAMBDA_PREFIX):  # Lambda's API: its routes name the operation
        return Call("Lambda")
    service = SERVICES.get(service_of(dict(scope["headers"]), scope.get("query_string", b""))
                           or "")
    return Call(service) if service else None


class TracingMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.tracer = trace.get_tracer("ripple.endpoint")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(("/_ripple", "/v1/traces")):
            await self.app(scope, receive, send)
            return
        call = open_call(scope)
        if call is None:
            await self.app(scope, receive, send)
            return
        headers = {key.decode("latin-1"): value.decode("latin-1")
                   for key, value in scope["headers"]}
        caller = from_headers({"x-amzn-trace-id": unquote(headers.get("x-amzn-trace-id", "")),
                               "traceparent": headers.get("traceparent", "")})
        name, attributes = call.span_name, call.span_attributes()
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

        token, call_token = INBOUND.set(inbound), CURRENT.set(call)
        try:
            with trace.use_span(server, end_on_exit=False):
                await self.app(scope, receive, send_status)
        finally:
            INBOUND.reset(token)
            CURRENT.reset(call_token)
            code = status["code"]
            for span in (server, client):
                if span is None:
                    continue
                span.update_name(call.span_name)  # as the service that routed the call named it
                span.set_attributes(call.span_attributes())
                span.set_attribute("http.response.status_code", code)
                if code >= 500:
                    span.set_status(Status(StatusCode.ERROR))
                span.end()

