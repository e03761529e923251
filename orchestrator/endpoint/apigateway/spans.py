"""The stage's SERVER span: one per request, named after its route (`GET /items/{id}`).

The span continues the caller's trace (`traceparent`, else `X-Amzn-Trace-Id`). While the
function runs, `INBOUND` holds the context under it, so the invocation's dispatch (its
PRODUCER span) and everything after it hang below the stage. The service map shows the
span as an `AWS::ApiGateway::Stage` node named `{api}/{stage}` (`ripplehttp/$default`).
"""

from __future__ import annotations

import logging
from types import TracebackType
from typing import Any
from urllib.parse import unquote

from opentelemetry.trace import SpanKind, Status, StatusCode

from orchestrator.endpoint.apigateway.routes import RouteMatch
from orchestrator.events.apigateway import HttpRequest
from tracing.hops import INBOUND, decided, new_trace, span_context, weighted
from tracing.propagation import TraceContext, from_headers
from tracing.recorder import OpenSpan, recorder

log = logging.getLogger("ripple.apigateway")


class StageSpan:
    """`with StageSpan(...) as span:` records the request; `span.answered(status)` its end."""

    def __init__(self, request: HttpRequest, found: RouteMatch | None, api_id: str,
                 stage: str, address: tuple[str, int]) -> None:
        self.request = request
        self.found = found
        self.api_id = api_id
        self.stage = stage
        self.address = address
        self.span: OpenSpan | None = None
        self.context = TraceContext.new()  # decided on entering (a caller's, or a new root)
        self._token: Any = None

    @property
    def trace_header(self) -> str:
        """The `X-Amzn-Trace-Id` the function's event carries and the client gets back."""
        return self.context.to_xray()

    def __enter__(self) -> StageSpan:
        request = self.request
        caller = decided(from_headers({
            "x-amzn-trace-id": unquote(request.header("x-amzn-trace-id")),
            "traceparent": request.header("traceparent")}))
        route = self.found.route if self.found else None
        attributes: dict[str, Any] = {
            "ripple.apigateway.stage": self.stage, "ripple.apigateway.api": self.api_id,
            "http.request.method": request.method, "url.path": unquote(request.path),
            "url.scheme": "http", "server.address": self.address[0],
            "server.port": self.address[1],
            "client.address": request.source_ip,
            "network.protocol.version": request.protocol.removeprefix("HTTP/"),
        }
        if user_agent := request.header("user-agent"):
            attributes["user_agent.original"] = user_agent
        if route is not None:
            attributes["http.route"] = route.path
            attributes["faas.invoked_name"] = route.function
        name = f"{request.method} {route.path}" if route else request.method
        try:
            self.context = caller or new_trace()
            spans = recorder("ripple.apigateway")
            if spans is not None and self.context.sampled:
                self.span = OpenSpan(spans, name, SpanKind.SERVER,
                                     span_context(caller) if caller else None,
                                     int(self.context.trace_id, 16),
                                     weighted(attributes, self.context))
                self.context = self.context.child(f"{self.span.span_id:016x}")
        except Exception:  # tracing never fails a request
            log.warning("could not start the stage span", exc_info=True)
        self._token = INBOUND.set(self.context)
        return self

    def answered(self, status: int) -> None:
        if self.span is None:
            return
        self.span.attributes["http.response.status_code"] = status
        if status >= 500:
            self.span.status = Status(StatusCode.ERROR)

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        INBOUND.reset(self._token)
        if self.span is None:
            return
        if error is not None:
            self.span.record_exception(error)
        self.span.end()
