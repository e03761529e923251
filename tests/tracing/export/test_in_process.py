"""The endpoint's own spans: straight into its store, as the OTLP path would have stored
them, and on to the forwarder; a closed store is a failed export, never an exception."""

from __future__ import annotations

from pathlib import Path

from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export import SpanExportResult

from tests.tracing import FOREVER
from tests.tracing.otlp.test_protobuf_format import sdk_spans
from tests.tracing.test_receiver import receiver_app, serving
from tracing.export.forward import Forwarder
from tracing.export.in_process import StoreExporter
from tracing.otlp.protobuf_format import decode_protobuf
from tracing.spans import Span
from tracing.store.database import SpanStore


def test_the_endpoints_own_spans_go_straight_into_its_store(store: SpanStore,
                                                            tmp_path: Path) -> None:
    # Given the endpoint's store, and a forwarder to another receiver (as RIPPLE_OTLP_FORWARD)
    elsewhere = SpanStore(tmp_path / "elsewhere.db", max_spans=100_000, max_age_hours=FOREVER)
    with serving(receiver_app(elsewhere)) as url:
        forwarder = Forwarder(f"{url}/v1/traces")
        # When SDK spans are exported through the store exporter
        finished = sdk_spans()
        assert StoreExporter(store, forwarder).export(finished) is SpanExportResult.SUCCESS
        forwarder.close()
    # Then the store holds exactly what the OTLP path would have stored
    expected = decode_protobuf(encode_spans(finished).SerializeToString())
    stored = [span for trace_id in {span.trace_id for span in expected}
              for span in store.trace(trace_id)]
    assert sorted(stored, key=by_id) == sorted(expected, key=by_id)
    # And the forwarder carried them on
    assert elsewhere.count() == len(finished)
    elsewhere.close()


def by_id(span: Span) -> str:
    return span.span_id


def test_a_closed_store_is_a_failure_not_an_exception(store: SpanStore) -> None:
    store.close()
    assert StoreExporter(store).export(sdk_spans()) is SpanExportResult.FAILURE
