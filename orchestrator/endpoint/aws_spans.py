"""Spans for the AWS calls that reach the endpoint (Lambda, S3, DynamoDB), as plain ASGI.

A caller that records its own CLIENT span (an instrumented client, such as boto3 inside an
environment with OpenTelemetry) names it in `traceparent`, and the endpoint's SERVER span hangs
under it. A caller that only sent `X-Amzn-Trace-Id` (botocore's recursion-detection header, from
an environment without OpenTelemetry) gets its CLIENT span recorded here on its behalf first.
A header that names no `Parent` (`Root=…;Sampled=?`, as `ripple load` sends) has no caller's
span to hang one under: the SERVER span is the trace's root, as X-Ray makes the first segment
of such a trace its root, and the map counts it on the client's edge
(`tracing.topology.invoked_by_client`).
While the service handles the call, `INBOUND` holds the context under that SERVER span, so
whatever the call triggers (a notification, an async invoke, a stream record) continues the
same trace — and carries its Lineage. The spans start named after the service alone; the
service names the operation once it has routed the call (`orchestrator.services.calls`), and
the spans take that name and its attributes when the call ends.

S3's spans carry the bucket and key (`aws.s3.bucket`, `aws.s3.key`, named by the S3 service).
A DynamoDB write's spans carry the keys of the items it wrote (`ripple.dynamodb.item_keys`:
OpenTelemetry names no attribute for them), read here from the request once it succeeded, so
`ripple why ddb://table/key` finds the write: each a JSON text `[table, [[name, value], …]]`,
the partition key first.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

import anyio.to_thread
from opentelemetry.trace import SpanKind, Status, StatusCode
from redis import Redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.endpoint.routing import service_of
from orchestrator.services.calls import CURRENT, Call
from tracing.hops import INBOUND, decided, new_trace, span_context, weighted
from tracing.propagation import TraceContext, from_headers, from_traceparent
from tracing.recorder import OpenSpan, recorder
from tracing.store.lineage import DYNAMODB_WRITES as WRITES
from tracing.store.lineage import ITEM_KEYS

log = logging.getLogger("ripple.tracing")
LAMBDA_PREFIX = "/2015-03-31/functions/"
# The simulated services whose calls are traced, by the name `service_of` gives them; each
# names the operation once it has routed the request (`orchestrator.services.calls`).
SERVICES = {"s3": "S3", "dynamodb": "DynamoDB"}
MAX_ITEM_KEYS = 100  # TransactWriteItems' own limit
KeyNames = Callable[[str], list[str]]  # a table's key attribute names, the partition key first


def _scalar(value: Any) -> str:
    """A key attribute's value as text: DynamoDB's `{"S": "v"}` is `v`."""
    if isinstance(value, dict) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _item_key(table: str, item: Any, names: KeyNames) -> str | None:
    if not isinstance(item, dict):
        return None
    pairs = [[name, _scalar(item[name])] for name in names(table) if name in item]
    return json.dumps([table, pairs], separators=(",", ":"), ensure_ascii=False) if pairs else None


def item_keys(operation: str, body: bytes, names: KeyNames) -> list[str]:
    """The keys of the items a successful DynamoDB write wrote, as `ITEM_KEYS` holds them."""
    request = json.loads(body or b"{}")
    writes: list[tuple[str, Any]] = []
    if operation in ("PutItem", "UpdateItem"):
        writes.append((request["TableName"], request.get("Item", request.get("Key"))))
    elif operation == "BatchWriteItem":
        writes += [(table, entry["PutRequest"]["Item"])
                   for table, entries in request.get("RequestItems", {}).items()
                   for entry in entries if "PutRequest" in entry]
    elif operation == "TransactWriteItems":
        writes += [(action["TableName"], action.get("Item", action.get("Key")))
                   for entry in request.get("TransactItems", [])
                   for kind, action in entry.items() if kind in ("Put", "Update")]
    found = [_item_key(str(table), item, names) for table, item in writes[:MAX_ITEM_KEYS]]
    return [key for key in found if key]


class TableKeys:
    """Tables' key attribute names, read from the DynamoDB service's store and remembered a
    few seconds (a write's span is named after the write: one read per table at most)."""

    def __init__(self, read: KeyNames, ttl_seconds: float = 10.0) -> None:
        self.read = read
        self.ttl = ttl_seconds
        self._known: dict[str, tuple[float, list[str]]] = {}

    def __call__(self, table: str) -> list[str]:
        now = time.monotonic()
        known = self._known.get(table)
        if known is None or now - known[0] > self.ttl:
            known = self._known[table] = (now, self.read(table))
        return known[1]


def open_call(scope: Scope) -> Call | None:
    """The AWS call a request is, as far as it is known before any service routes it; None for
    ripple's own routes (and X-Ray's, whose spans are ripple's own plumbing)."""
    if scope["path"].startswith(LAMBDA_PREFIX):  # Lambda's API: its routes name the operation
        return Call("Lambda")
    service = SERVICES.get(service_of(dict(scope["headers"]), scope.get("query_string", b""))
                           or "")
    return Call(service) if service else None


class TracingMiddleware:
    def __init__(self, app: ASGIApp, key_names: KeyNames | None = None) -> None:
        self.app = app
        self.key_names = key_names  # None: DynamoDB writes' spans name no item keys

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
        xray = unquote(headers.get("x-amzn-trace-id", ""))
        caller = decided(from_headers({"x-amzn-trace-id": xray,
                                       "traceparent": headers.get("traceparent", "")}))
        client, server, inbound = _open(call, caller, headers.get("traceparent", ""),
                                        "Parent=" in xray)
        status = {"code": 500}
        body: list[bytes] = []  # a DynamoDB write's request, for the keys it wrote
        target = headers.get("x-amz-target", "").rpartition(".")[2]
        if (server is not None and call.service == "DynamoDB" and target in WRITES
                and self.key_names is not None):
            receive = _keeping(receive, body)

        async def send_status(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        token, call_token = INBOUND.set(inbound), CURRENT.set(call)
        try:
            await self.app(scope, receive, send_status)
        finally:
            INBOUND.reset(token)
            CURRENT.reset(call_token)
            code, ended = status["code"], time.time_ns()
            if body and code == 200:
                await self._name_items((server, client), target, b"".join(body))
            for span in (server, client):
                if span is None:
                    continue
                span.name = call.span_name  # as the service that routed the call named it
                span.attributes.update(call.span_attributes())
                span.attributes["http.response.status_code"] = code
                if code >= 500:
                    span.status = Status(StatusCode.ERROR)
                span.end(ended)

    async def _name_items(self, spans: tuple[OpenSpan | None, ...], operation: str,
                          body: bytes) -> None:
        """Set the written items' keys on the spans (tracing never fails the call)."""
        names = self.key_names
        assert names is not None
        try:
            found = await anyio.to_thread.run_sync(item_keys, operation, body, names)
        except Exception:
            log.warning("could not read the item keys of a DynamoDB %s", operation,
                        exc_info=True)
            return
        if found:
            for span in spans:
                if span is not None:
                    span.attributes[ITEM_KEYS] = found


def _open(call: Call, caller: TraceContext | None, traceparent: str, parented: bool
          ) -> tuple[OpenSpan | None, OpenSpan | None, TraceContext]:
    """The CLIENT span recorded on the caller's behalf (when it sent X-Ray's header alone,
    naming its span as `Parent`), the SERVER span, and the context the call continues under.
    A caller whose header names no parent starts the trace here: the SERVER span is its root.
    No spans when tracing is off or the trace is not sampled."""
    context = caller or new_trace()
    spans = recorder("ripple.endpoint")
    if spans is None or not context.sampled:
        return None, None, context
    trace_id, started = int(context.trace_id, 16), time.time_ns()
    w3c = from_traceparent(traceparent) is not None
    parent = span_context(caller) if caller is not None and (w3c or parented) else None
    attributes = call.span_attributes()
    client = None
    if parent is not None and not w3c:
        client = OpenSpan(spans, call.span_name, SpanKind.CLIENT, parent, trace_id,
                          dict(attributes), start_ns=started)
        parent = client.context
    server = OpenSpan(spans, call.span_name, SpanKind.SERVER, parent, trace_id,
                      weighted(dict(attributes), context), start_ns=started)
    return client, server, context.child(f"{server.span_id:016x}")


def _keeping(receive: Receive, chunks: list[bytes]) -> Receive:
    """`receive` that also keeps the request body's chunks (references, no copies)."""

    async def keep() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            chunks.append(message.get("body", b""))
        return message

    return keep


def dynamodb_key_names(redis: Redis, region: str) -> TableKeys:
    """Key names from the DynamoDB service's tables on `redis`."""
    from orchestrator.services.dynamodb.store import Store  # as `service_apps` loads it

    store = Store(redis, region)
    return TableKeys(lambda table: store.table(table).key_names)
