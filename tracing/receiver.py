"""The OTLP/HTTP trace receiver (`POST /v1/traces`, protobuf or JSON, gzipped or not), and
`receive`: the one path every OTLP export takes, over HTTP or gRPC (`tracing/otlp/grpc_server`).

Decoded spans go to the `SpanSink` at `app.state.span_sink` (the store, or its writer process);
the raw request is also handed to the `Forwarder` at `app.state.otlp_forwarder` when there is
one. Like every tracing
component, the receiver never fails its caller over its own trouble: a store error is logged,
counted (`spans_dropped`) and answered with `partial_success.rejected_spans`, and a forward
error is the forwarder's to count (`forward_dropped`). Only undecodable input is refused (HTTP
400, gRPC INVALID_ARGUMENT).

The endpoint (`orchestrator/endpoint/app.py`) makes the store (with the map rollup as its
listener) and the forwarder before it serves, includes `router`, and closes both at shutdown.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request, Response
from google.protobuf import json_format
from google.protobuf.message import Message
from google.rpc.status_pb2 import Status
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)
from starlette.concurrency import run_in_threadpool

from tracing.errors import TracingError
from tracing.export.forward import Export, Forwarder
from tracing.otlp import json_format as otlp_json
from tracing.otlp.protobuf_format import decode_protobuf
from tracing.spans import Span
from tracing.store.gc import collector_paused

log = logging.getLogger("ripple.tracing.receiver")
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DECODERS: dict[str, Callable[[bytes], list[Span]]] = {PROTOBUF: decode_protobuf,
                                                           JSON: otlp_json.decode}
ENCODINGS = ("", "identity", "gzip")
MAX_BODY = 64 * 1024 * 1024  # decompressed; a gzip bomb stops here
INVALID_ARGUMENT = 3  # google.rpc.Code

router = APIRouter()


class ReceiverCounters:
    """What the receiver did, since the endpoint started."""

    NAMES = ("spans_stored", "spans_dropped", "requests_rejected")

    def __init__(self) -> None:
        self.spans_stored = 0
        self.spans_dropped = 0  # decoded, but the store failed
        self.requests_rejected = 0  # undecodable, or of an unsupported type
        self._lock = threading.Lock()
        self._warned_at = 0.0

    def count(self, **deltas: int) -> None:
        with self._lock:
            for name, delta in deltas.items():
                setattr(self, name, getattr(self, name) + delta)

    def should_warn(self) -> bool:
        """True at most once a minute, so a broken store does not flood the log."""
        with self._lock:
            if time.monotonic() - self._warned_at < 60:
                return False
            self._warned_at = time.monotonic()
            return True


_counters_lock = threading.Lock()


def counters(app: Any) -> ReceiverCounters:
    """The receiver's counters for `app` (made on first use)."""
    with _counters_lock:
        found: ReceiverCounters | None = getattr(app.state, "otlp_counters", None)
        if found is None:
            found = app.state.otlp_counters = ReceiverCounters()
        return found


def stats(app: Any) -> dict[str, int]:
    """The receiver's and the forwarder's counters, for the control API."""
    tally = counters(app)
    figures = {name: int(getattr(tally, name)) for name in ReceiverCounters.NAMES}
    forwarder: Forwarder | None = getattr(app.state, "otlp_forwarder", None)
    figures["forwarded"] = forwarder.forwarded if forwarder else 0
    figures["forward_dropped"] = forwarder.dropped if forwarder else 0
    return figures


@router.post("/v1/traces", summary="OTLP/HTTP trace export (protobuf or JSON)")
async def export_traces(request: Request) -> Response:
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    encoding = request.headers.get("content-encoding", "").strip().lower()
    if media_type not in DECODERS or encoding not in ENCODINGS:
        counters(request.app).count(requests_rejected=1)
        return _status(415, f"unsupported Content-Type {media_type!r} or Content-Encoding "
                            f"{encoding!r}: send {PROTOBUF} or {JSON}, plain or gzip", JSON)
    export = Export(await request.body(), media_type, encoding or None)
    return await run_in_threadpool(ingest, request.app, export)


def ingest(app: Any, export: Export) -> Response:
    """One OTLP/HTTP export received; the HTTP answer for it."""
    try:
        answer = receive(app, export)
    except TracingError as error:
        return _status(400, str(error), export.content_type)
    return _message(200, answer, export.content_type)


def receive(app: Any, export: Export) -> ExportTraceServiceResponse:
    """Decode, forward and store one export (blocking: call it off the event loop); the OTLP
    answer for it. Raises `TracingError`, counted as rejected, when the export is undecodable."""
    tally = counters(app)
    try:
        with collector_paused():  # thousands of small objects per export
            spans = DECODERS[export.content_type](_decompressed(export))
    except TracingError:
        tally.count(requests_rejected=1)
        raise
    forwarder: Forwarder | None = getattr(app.state, "otlp_forwarder", None)
    if forwarder is not None:
        forwarder.submit(export)
    answer = ExportTraceServiceResponse()
    try:
        with collector_paused():
            tally.count(spans_stored=app.state.span_sink.add(spans))
    except Exception as error:  # the exporter must never see the store's trouble
        tally.count(spans_dropped=len(spans))
        if tally.should_warn():
            log.warning("span store failed, %d spans dropped so far: %r",
                        tally.spans_dropped, error)
        answer.partial_success.CopyFrom(ExportTracePartialSuccess(
            rejected_spans=len(spans), error_message=f"spans not stored: {error}"))
    return answer


def protobuf_receiver(app: Any) -> Callable[[bytes], ExportTraceServiceResponse]:
    """`receive` for `app`, for exports that arrive as plain protobuf bytes (OTLP/gRPC's)."""
    return lambda body: receive(app, Export(body, PROTOBUF))


def _decompressed(export: Export) -> bytes:
    if export.content_encoding != "gzip":
        return export.body
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        body = inflater.decompress(export.body, MAX_BODY)
    except zlib.error as error:
        raise TracingError(f"Content-Encoding is gzip but the body is not ({error})") from None
    if inflater.unconsumed_tail:
        raise TracingError(f"the body is larger than {MAX_BODY} bytes once decompressed")
    if not inflater.eof:
        raise TracingError("the gzip body is truncated")
    return body


def _status(code: int, message: str, media_type: str) -> Response:
    """An OTLP error answer: a `google.rpc.Status` in the request's encoding."""
    return _message(code, Status(code=INVALID_ARGUMENT, message=message), media_type)


def _message(code: int, message: Message, media_type: str) -> Response:
    if media_type == PROTOBUF:
        return Response(message.SerializeToString(), status_code=code, media_type=PROTOBUF)
    body = json_format.MessageToJson(message, indent=None).encode()
    return Response(body, status_code=code, media_type=JSON)
