"""The OTLP/JSON exporter ripple's processes use: it says what the protobuf exporter says,
reaches a real receiver over kept-alive connections, and never raises when nobody listens."""

from __future__ import annotations

import os
from unittest import mock

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.conftest import free_port
from tests.tracing.otlp.test_protobuf_format import sdk_spans
from tests.tracing.test_receiver import receiver_app, serving
from tracing.export.http_json import JsonSpanExporter
from tracing.otlp import json_format as otlp_json
from tracing.otlp.protobuf_format import decode_protobuf
from tracing.setup import span_exporter
from tracing.store.database import SpanStore


def test_json_says_exactly_what_protobuf_says() -> None:
    # Given SDK spans with links, events, an error status and every attribute type
    finished = sdk_spans()
    # When they are encoded both ways and read back
    as_json = otlp_json.decode(otlp_json.encode(finished))
    as_protobuf = decode_protobuf(encode_spans(finished).SerializeToString())
    # Then the spans are identical
    assert as_json == as_protobuf
    assert {span.name for span in as_json} == {"seed", "resize", "S3.PutObject"}


def test_exports_reach_the_receiver_over_one_connection(store: SpanStore) -> None:
    # Given a receiver on a real socket
    with serving(receiver_app(store)) as url:
        exporter = JsonSpanExporter(f"{url}/v1/traces", timeout=2)
        # When three exports are sent
        results = [exporter.export(sdk_spans()) for _ in range(3)]
        connection = exporter._connection
        exporter.shutdown()
    # Then all are stored, through one kept-alive connection
    assert results == [SpanExportResult.SUCCESS] * 3
    assert store.count() == 9
    assert connection is not None


def test_nobody_listening_is_a_failure_not_an_exception() -> None:
    # Given an exporter pointed at a closed port
    exporter = JsonSpanExporter(f"http://127.0.0.1:{free_port()}/v1/traces", timeout=1)
    # When it exports, then it reports a failure and raises nothing
    assert exporter.export(sdk_spans()) is SpanExportResult.FAILURE


def test_a_rejected_export_is_a_failure(store: SpanStore) -> None:
    with serving(receiver_app(store)) as url:
        exporter = JsonSpanExporter(f"{url}/nowhere", timeout=2)
        assert exporter.export(sdk_spans()) is SpanExportResult.FAILURE
        exporter.shutdown()


@pytest.mark.parametrize(("variables", "expected"), [
    ({}, JsonSpanExporter),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, OTLPSpanExporter),
    ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318",
      "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, JsonSpanExporter),
    ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf"}, OTLPSpanExporter),
])
def test_json_to_ripple_protobuf_to_anyone_else(variables: dict[str, str],
                                                expected: type) -> None:
    # Given the standard OTEL_* variables, when the exporter is chosen
    clean = {key: value for key, value in os.environ.items() if not key.startswith("OTEL_")}
    with mock.patch.dict(os.environ, {**clean, **variables}, clear=True):
        chosen = span_exporter("http://127.0.0.1:4566")
    # Then ripple's own receiver gets OTLP/JSON and others the protocol they asked for
    assert type(chosen) is expected
