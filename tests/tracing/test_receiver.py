"""The OTLP/HTTP receiver on a real socket: what the OTel SDK exports is stored intact,
OTLP/JSON too, garbage is refused, a broken store never fails the exporter, and raw OTLP is
forwarded without ever holding a request up."""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from google.rpc.status_pb2 import Status
from opentelemetry.exporter.otlp.proto.http import Compression
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link
from opentelemetry.trace import SpanKind as OtelKind
from starlette.types import ASGIApp

from tests.conftest import free_port, wait_for
from tests.tracing import FOREVER
from tests.tracing.otlp.test_protobuf_format import spec_example
from tracing import receiver
from tracing.export.forward import Export, Forwarder
from tracing.spans import SpanKind
from tracing.store.database import SpanStore

SPEC_TRACE = "5b8efff798038103d269b633813fc60c"


@contextmanager
def serving(app: ASGIApp) -> Iterator[str]:
    """Run `app` with uvicorn on a free loopback port in a thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="off",
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, timeout=10)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def receiver_app(store: SpanStore, forwarder: Forwarder | None = None) -> FastAPI:
    """The receiver as the endpoint mounts it."""
    app = FastAPI()
    app.state.span_store = app.state.span_sink = store
    app.state.otlp_forwarder = forwarder
    app.include_router(receiver.router)
    return app


@pytest.fixture
def app(store: SpanStore) -> FastAPI:
    return receiver_app(store)


@pytest.fixture
def url(app: FastAPI) -> Iterator[str]:
    with serving(app) as base:
        yield base


def post(url: str, body: bytes, content_type: str, **headers: str) -> httpx.Response:
    return httpx.post(url + "/v1/traces", content=body,
                      headers={"Content-Type": content_type, **headers}, timeout=10)


def json_body(**span: Any) -> bytes:
    return json.dumps(spec_example(**span)).encode()


@pytest.mark.parametrize("compression", [Compression.NoCompression, Compression.Gzip])
def test_the_otel_sdk_exports_spans_that_come_back_intact(
        url: str, app: FastAPI, store: SpanStore, compression: Compression) -> None:
    # Given a plain OpenTelemetry SDK program exporting protobuf to the receiver
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout",
                                                        "deployment.environment": "test"}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(
        endpoint=url + "/v1/traces", compression=compression)))
    tracer = provider.get_tracer("shop")

    # When it records a SERVER span with an event and a CLIENT child linking to another trace
    with tracer.start_as_current_span("seed") as seed:
        pass
    with tracer.start_as_current_span("POST /orders", kind=OtelKind.SERVER,
                                      attributes={"faas.name": "orders", "items": 3}) as server:
        server.add_event("validated", {"rules": ["a", "b"]})
        with tracer.start_as_current_span(
                "DynamoDB.PutItem", kind=OtelKind.CLIENT,
                links=[Link(seed.get_span_context(), {"why": "batch"})],
                attributes={"aws.dynamodb.table_names": ["orders"], "ok": True}) as client:
            pass
    assert provider.force_flush(10_000)
    provider.shutdown()

    # Then the store holds them with ids, kinds, attributes, resource, events and links
    trace_id = f"{server.get_span_context().trace_id:032x}"
    stored = {span.name: span for span in store.trace(trace_id)}
    handler, call = stored["POST /orders"], stored["DynamoDB.PutItem"]
    assert handler.span_id == f"{server.get_span_context().span_id:016x}"
    assert call.span_id == f"{client.get_span_context().span_id:016x}"
    assert call.parent_span_id == handler.span_id
    assert (handler.kind, call.kind) == (SpanKind.SERVER, SpanKind.CLIENT)
    assert handler.attributes == {"faas.name": "orders", "items": 3}
    assert call.attributes == {"aws.dynamodb.table_names": ["orders"], "ok": True}
    assert handler.resource["service.name"] == "checkout"
    assert handler.resource["deployment.environment"] == "test"
    assert [(event.name, event.attributes) for event in handler.events] == [
        ("validated", {"rules": ["a", "b"]})]
    (link,) = call.links
    assert link.trace_id == f"{seed.get_span_context().trace_id:032x}"
    assert link.span_id == f"{seed.get_span_context().span_id:016x}"
    assert link.attributes == {"why": "batch"}
    assert receiver.stats(app)["spans_stored"] == 3


def test_otlp_json_with_hex_ids_is_stored(url: str, store: SpanStore) -> None:
    # Given an OTLP/JSON body written as the specification shows it
    body = json_body()

    # When it is posted
    answer = post(url, body, "application/json")

    # Then OTLP/JSON's success answer comes back and the span is stored
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {}
    (span,) = store.trace(SPEC_TRACE)
    assert (span.name, span.kind, span.parent_span_id) == (
        "I'm a server span", SpanKind.SERVER, "eee19b7ec3c1b173")
    assert span.attributes == {"my.span.attr": "some value"}


def test_gzipped_json_with_a_charset_is_stored(url: str, store: SpanStore) -> None:
    answer = post(url, gzip.compress(json_body()), "application/json; charset=utf-8",
                  **{"Content-Encoding": "gzip"})
    assert answer.status_code == 200
    assert len(store.trace(SPEC_TRACE)) == 1


def test_protobuf_success_is_an_empty_export_response(url: str) -> None:
    answer = post(url, b"", "application/x-protobuf")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    assert ExportTraceServiceResponse.FromString(answer.content) == ExportTraceServiceResponse()


@pytest.mark.parametrize(("body", "content_type", "headers"), [
    (b"\xff\xff\xff\xffgarbage", "application/x-protobuf", {}),
    (b"{not json", "application/json", {}),
    (json_body(traceId="xyz"), "application/json", {}),
    (b"plainly not gzip", "application/json", {"Content-Encoding": "gzip"}),
])
def test_garbage_is_refused_with_a_status_and_nothing_is_stored(
        url: str, app: FastAPI, store: SpanStore, body: bytes, content_type: str,
        headers: dict[str, str]) -> None:
    # When an undecodable body is posted
    answer = post(url, body, content_type, **headers)

    # Then it gets a 400 with a google.rpc.Status in the request's encoding, and no spans
    assert answer.status_code == 400
    if content_type == "application/x-protobuf":
        status = Status.FromString(answer.content)
        assert (status.code, "not an OTLP" in status.message) == (3, True)
    else:
        assert answer.json()["code"] == 3
        assert answer.json()["message"]
    assert store.count() == 0
    assert receiver.stats(app)["requests_rejected"] == 1


def test_another_content_type_is_unsupported(url: str, store: SpanStore) -> None:
    answer = post(url, b"hello", "text/plain")
    assert answer.status_code == 415
    assert "application/x-protobuf" in answer.json()["message"]
    assert post(url, json_body(), "application/json", **{"Content-Encoding": "br"}
                ).status_code == 415
    assert store.count() == 0


def test_a_broken_store_never_fails_the_exporter(url: str, app: FastAPI,
                                                 store: SpanStore) -> None:
    # Given a store that fails (closed under the receiver's feet)
    store.close()

    # When spans arrive, as JSON and as protobuf
    as_json = post(url, json_body(), "application/json")
    as_protobuf = post(url, b"", "application/x-protobuf")

    # Then the exporter hears success with every span rejected, and the drop is counted
    assert as_json.status_code == 200
    partial = as_json.json()["partialSuccess"]
    assert int(partial["rejectedSpans"]) == 1
    assert "closed" in partial["errorMessage"]
    assert as_protobuf.status_code == 200
    assert receiver.stats(app)["spans_dropped"] == 1


def test_raw_otlp_is_forwarded_to_another_receiver(tmp_path: Path, url: str,
                                                   store: SpanStore) -> None:
    # Given a second receiver (a stand-in for Jaeger or a Collector) as the forward target
    target_store = SpanStore(tmp_path / "target.db", max_spans=1_000, max_age_hours=FOREVER)
    with serving(receiver_app(target_store)) as target:
        forwarder = Forwarder(target)
        with serving(receiver_app(store, forwarder)) as forwarding:
            # When gzipped JSON reaches the first receiver
            answer = post(forwarding, gzip.compress(json_body()), "application/json",
                          **{"Content-Encoding": "gzip"})

            # Then both stores end up with the span, the target decoding the same bytes
            assert answer.status_code == 200
            assert len(store.trace(SPEC_TRACE)) == 1
            wait_for(lambda: target_store.trace(SPEC_TRACE), timeout=10)
            wait_for(lambda: forwarder.forwarded == 1, timeout=10)
            assert forwarder.dropped == 0
        forwarder.close()
    target_store.close()


def test_a_dead_forward_target_does_not_fail_the_request(store: SpanStore) -> None:
    # Given a forward target where nothing listens
    forwarder = Forwarder(f"http://127.0.0.1:{free_port()}", timeout=1)
    app = receiver_app(store, forwarder)
    with serving(app) as url:
        # When spans arrive
        started = time.monotonic()
        answer = post(url, json_body(), "application/json")

        # Then the request succeeds at once, the span is stored, and the failure is counted
        assert answer.status_code == 200
        assert time.monotonic() - started < 1
        assert len(store.trace(SPEC_TRACE)) == 1
        wait_for(lambda: receiver.stats(app)["forward_dropped"] == 1, timeout=10)
    forwarder.close()


def test_a_full_forward_queue_drops_instead_of_blocking() -> None:
    # Given a forwarder with room for one export, towards a dead target
    forwarder = Forwarder(f"http://127.0.0.1:{free_port()}", queue_size=1, timeout=1)

    # When fifty exports are submitted at once
    started = time.monotonic()
    for _ in range(50):
        forwarder.submit(Export(b"{}", "application/json"))

    # Then submitting never waited, and every export is eventually counted as dropped
    assert time.monotonic() - started < 0.5
    wait_for(lambda: forwarder.dropped == 50, timeout=10)
    assert forwarder.forwarded == 0
    forwarder.close()
