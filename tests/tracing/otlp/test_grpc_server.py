"""The OTLP/gRPC receiver on 4317's stand-in port of a real ripple: the OpenTelemetry SDK's
gRPC exporter is heard, gzipped or plain, and its spans are stored, counted and forwarded;
undecodable input is INVALID_ARGUMENT. And the issue's "done when": a plain OTel program (a
service ripple does not run) calling a ripple function through boto3 shows up under its
`service.name` in the trace list, in BatchGetTraces and on the map."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from orchestrator.endpoint.auth import allows
from tests.conftest import Ripple, clean_environment, free_port, start_ripple, stop_ripple, wait_for
from tests.tracing import FOREVER
from tests.tracing.test_receiver import receiver_app, serving
from tracing import receiver
from tracing.otlp.grpc_server import Authorize, OtlpGrpcServer, Receive
from tracing.store.database import SpanStore

EXPORT = "/opentelemetry.proto.collector.trace.v1.TraceService/Export"


class Stack:
    def __init__(self, ripple: Ripple, grpc_port: int, forwarded: SpanStore) -> None:
        self.ripple = ripple
        self.grpc_port = grpc_port
        self.forwarded = forwarded  # what the forward target (a stand-in for Jaeger) received

    @property
    def grpc_url(self) -> str:
        return f"http://127.0.0.1:{self.grpc_port}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    folder = tmp_path_factory.mktemp("grpc")
    target_store = SpanStore(folder / "target.db", max_spans=10_000, max_age_hours=FOREVER)
    with serving(receiver_app(target_store)) as target:
        port = free_port()
        ripple = start_ripple(folder, "--workers", "1", RIPPLE_OTLP_GRPC_PORT=str(port),
                              RIPPLE_OTLP_FORWARD=target)
        try:
            yield Stack(ripple, port, target_store)
        finally:
            stop_ripple(ripple)
    target_store.close()


def recorded(service: str) -> tuple[list[ReadableSpan], str]:
    """One finished SERVER span of `service`, as the SDK hands it to its exporters; its trace."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("test").start_as_current_span(
            "GET /orders", kind=SpanKind.SERVER, attributes={"http.response.status_code": 200}
    ) as span:
        trace_id = format(span.get_span_context().trace_id, "032x")
    provider.shutdown()
    return list(memory.get_finished_spans()), trace_id


def segments(ripple: Ripple, trace_id: str) -> list[dict[str, Any]]:
    answer = ripple.api("GET", f"/_ripple/api/traces/{trace_id}")
    return [json.loads(part["Document"]) for part in answer["Traces"][0]["Segments"]]


@pytest.mark.parametrize("compression", [grpc.Compression.NoCompression, grpc.Compression.Gzip])
def test_the_grpc_exporter_is_heard_stored_and_forwarded(
        stack: Stack, compression: grpc.Compression) -> None:
    # Given a span of a plain OTel program and the SDK's own gRPC exporter
    service = f"svc-{uuid.uuid4().hex[:6]}"
    spans, trace_id = recorded(service)
    exporter = OTLPSpanExporter(endpoint=stack.grpc_url, insecure=True, compression=compression)
    before = stack.ripple.api("GET", "/_ripple/api/tracing")

    # When it exports to ripple over gRPC
    result = exporter.export(spans)
    exporter.shutdown()

    # Then the export succeeded, the span is a segment named by its service, it is counted,
    # and the forward target got the same export
    assert result == SpanExportResult.SUCCESS
    found = wait_for(lambda: segments(stack.ripple, trace_id), timeout=10)
    assert [(part["name"], part.get("origin")) for part in found] == [(service, None)]
    after = stack.ripple.api("GET", "/_ripple/api/tracing")
    assert after["spans_stored"] - before["spans_stored"] == 1
    wait_for(lambda: stack.forwarded.trace(trace_id), timeout=10)


def call_export(stack: Stack, body: bytes) -> grpc.RpcError:
    with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
        export = channel.unary_unary(EXPORT)  # raw bytes both ways
        with pytest.raises(grpc.RpcError) as raised:
            export(body, timeout=10)
    return raised.value


def test_undecodable_input_is_invalid_argument_and_counted(stack: Stack) -> None:
    # Given bytes that are no protobuf, and a protobuf whose span has a zero trace id
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = bytes(16), b"\x01" * 8, "zero"
    before = stack.ripple.api("GET", "/_ripple/api/tracing")

    # When each is sent to Export
    corrupt = call_export(stack, b"\xff\xff\xff")
    zero_id = call_export(stack, request.SerializeToString())

    # Then both are refused as INVALID_ARGUMENT, saying what was wrong, and counted
    assert corrupt.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "ExportTraceServiceRequest" in corrupt.details()  # type: ignore[attr-defined]
    assert zero_id.code() == grpc.StatusCode.INVALID_ARGUMENT  # type: ignore[attr-defined]
    assert "trace_id" in zero_id.details()  # type: ignore[attr-defined]
    after = stack.ripple.api("GET", "/_ripple/api/tracing")
    assert after["requests_rejected"] - before["requests_rejected"] == 2


def test_an_empty_export_is_an_empty_answer(stack: Stack) -> None:
    # Given an export with no spans (the SDK sends none, but a Collector may)
    with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
        export = channel.unary_unary(
            EXPORT, request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString)

        # When it is sent
        answer = export(ExportTraceServiceRequest(), timeout=10)

    # Then the answer is OTLP's success: no partial success
    assert not answer.HasField("partial_success")


CHECKOUT = textwrap.dedent("""
    import os, sys
    import boto3
    from opentelemetry import trace
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider()  # service.name from OTEL_SERVICE_NAME
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))  # OTEL_EXPORTER_OTLP_*
    trace.set_tracer_provider(provider)
    BotocoreInstrumentor().instrument()
    client = boto3.client("lambda", endpoint_url=sys.argv[1], region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")
    with trace.get_tracer("checkout").start_as_current_span(
            "POST /checkout", kind=trace.SpanKind.SERVER) as span:
        answer = client.invoke(FunctionName=sys.argv[2], Payload=b'{"order": 7}')
        assert answer["StatusCode"] == 200, answer
        print(format(span.get_span_context().trace_id, "032x"))
    provider.shutdown()
""")


def test_a_service_ripple_does_not_run_is_named_by_its_service_name(
        stack: Stack, tmp_path: Path) -> None:
    # Given a deployed function and a plain OTel program, `checkout`, exporting over gRPC
    function = f"pay-{uuid.uuid4().hex[:6]}"
    stack.ripple.deploy_one(function, "def handler(event, context):\n    return event\n",
                            tmp_path)
    program = tmp_path / "checkout.py"
    program.write_text(CHECKOUT)

    # When it runs (a real process) and its SERVER span calls the function through boto3
    ran = subprocess.run(
        [sys.executable, str(program), stack.ripple.url, function], capture_output=True,
        text=True, timeout=60, env=clean_environment(
            OTEL_SERVICE_NAME="checkout", OTEL_EXPORTER_OTLP_ENDPOINT=stack.grpc_url,
            OTEL_EXPORTER_OTLP_INSECURE="true"))
    assert ran.returncode == 0, ran.stderr
    trace_id = ran.stdout.strip()

    # Then the trace is found under service("checkout")
    def listed() -> bool:
        answer = stack.ripple.api("GET", "/_ripple/api/traces",
                                  params={"filter": 'service("checkout")'})
        return any(summary["Id"].replace("-", "")[1:] == trace_id
                   for summary in answer["TraceSummaries"])

    wait_for(listed, timeout=20)
    # and BatchGetTraces has a segment named `checkout` (no origin: it names no platform)
    # whose Lambda call the function's own segments continue
    found = wait_for(lambda: (parts := segments(stack.ripple, trace_id)) and len(parts) >= 3
                     and parts, timeout=20)
    checkout = [part for part in found if part["name"] == "checkout"]
    assert len(checkout) == 1 and "origin" not in checkout[0]
    assert {(part["name"], part.get("origin")) for part in found} >= {
        (function, "AWS::Lambda"), (function, "AWS::Lambda::Function")}
    # and the map has a node `checkout` with an edge to the function's Lambda service
    services = {(service["Name"], service["Type"]): service for service in stack.ripple.api(
        "GET", "/_ripple/api/servicemap", params={"since": "15m"})["Services"]}
    node = services[("checkout", "remote")]
    targets = {service["ReferenceId"]: key for key, service in services.items()}
    assert (function, "AWS::Lambda") in {targets[edge["ReferenceId"]] for edge in node["Edges"]}
    assert node["SummaryStatistics"]["TotalCount"] == 1


def in_process(store: SpanStore) -> Receive:
    """The receiver's path into `store`, as the endpoint hands it to the gRPC server."""
    app = SimpleNamespace(state=SimpleNamespace(span_sink=store, otlp_forwarder=None))
    return receiver.protobuf_receiver(app)


def trusting(token: str | None) -> Authorize:
    """The endpoint's rule: loopback, or the token."""
    return partial(allows, token=token)


def own_address() -> str | None:
    """This machine's address on its network (not loopback), if it has one."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: this only picks a route
        except OSError:
            return None
        address = str(probe.getsockname()[0])
    return None if ipaddress.ip_address(address).is_loopback else address


async def export_to(host: str, port: int, metadata: tuple[tuple[str, str], ...] = ()
                    ) -> ExportTraceServiceResponse:
    spans, _ = recorded("outside")
    request = encode_spans(spans)
    async with grpc.aio.insecure_channel(f"{host}:{port}") as channel:
        export = channel.unary_unary(
            EXPORT, request_serializer=ExportTraceServiceRequest.SerializeToString,
            response_deserializer=ExportTraceServiceResponse.FromString)
        answer: ExportTraceServiceResponse = await export(request, metadata=metadata,
                                                          timeout=10)
    return answer


def test_a_broken_store_is_a_partial_success(store: SpanStore) -> None:
    # Given a receiver whose store fails (closed under its feet)
    store.close()

    async def scenario() -> ExportTraceServiceResponse:
        server = await OtlpGrpcServer.start(in_process(store), "127.0.0.1", 0, trusting(None))
        assert server is not None
        try:
            # When a span is exported
            return await export_to("127.0.0.1", server.port)
        finally:
            await server.stop()

    answer = asyncio.run(scenario())

    # Then the exporter hears success with the span rejected, and why
    assert answer.partial_success.rejected_spans == 1
    assert "closed" in answer.partial_success.error_message


def test_a_peer_off_this_machine_needs_the_token(store: SpanStore) -> None:
    # Given a receiver on this machine's network address, with a token
    host = own_address()
    if host is None:
        pytest.skip("this machine has no network address besides loopback")

    async def scenario() -> tuple[grpc.StatusCode, str, int]:
        server = await OtlpGrpcServer.start(in_process(store), host, 0, trusting("s3cret"))
        assert server is not None
        try:
            # When a span comes from that address without the token, then with a wrong one,
            # then with it
            codes = []
            for metadata in ((), (("authorization", "Bearer nope"),)):
                with pytest.raises(grpc.aio.AioRpcError) as refused:
                    await export_to(host, server.port, metadata)
                codes.append(refused.value.code())
            assert codes[0] == codes[1]
            answer = await export_to(host, server.port, (("authorization", "Bearer s3cret"),))
            return codes[0], refused.value.details() or "", answer.partial_success.rejected_spans
        finally:
            await server.stop()

    code, details, rejected = asyncio.run(scenario())

    # Then only the one with the token is stored
    assert code == grpc.StatusCode.PERMISSION_DENIED and "token" in details
    assert rejected == 0 and store.count() == 1


def test_the_receiver_is_off_when_its_port_is_taken(
        store: SpanStore, caplog: pytest.LogCaptureFixture) -> None:
    # Given a port some other program already listens on
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        # When the receiver is started on it
        server = asyncio.run(OtlpGrpcServer.start(in_process(store), "127.0.0.1", port,
                                                  trusting(None)))

    # Then there is no receiver, and a warning says why (the endpoint serves on)
    assert server is None
    assert "OTLP/gRPC receiver off" in caplog.text


def test_an_otlp_outage_on_purpose_is_unavailable_over_grpc_too(stack: Stack) -> None:
    # Given an OTLP outage asked for, as `ripple chaos --drop-otlp` asks
    stack.ripple.api("PUT", "/_ripple/api/chaos", json={"drop_otlp": True, "seconds": 5})
    try:
        # When an export arrives over gRPC
        refused = call_export(stack, ExportTraceServiceRequest().SerializeToString())
    finally:
        stack.ripple.api("PUT", "/_ripple/api/chaos", json={"drop_otlp": False})
    # Then it is UNAVAILABLE (exporters count it dropped and go on), and heard again after
    assert refused.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
        assert channel.unary_unary(EXPORT)(ExportTraceServiceRequest().SerializeToString(),
                                           timeout=10) == b""
