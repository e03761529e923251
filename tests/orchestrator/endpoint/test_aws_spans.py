"""The endpoint's spans for AWS calls, with callers that record their own CLIENT span (boto3
in an environment with OpenTelemetry) and callers that do not (OTEL_SDK_DISABLED=true)."""

from __future__ import annotations

import json
import uuid
from typing import Any

from tests.conftest import Deploy, Ripple, wait_for
from tracing.propagation import from_xray
from tracing.spans import Span, SpanKind
from tracing.store.database import SpanStore

LISTER = """
import os
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    s3.list_objects_v2(Bucket=os.environ["BUCKET"])
    return os.environ["_X_AMZN_TRACE_ID"]
"""


def call_and_trace(ripple: Ripple, deploy: Deploy, lambda_client: Any,
                   **environment: str) -> tuple[str, dict[str, Span]]:
    """Deploy the lister, invoke it once; its name and the spans of the S3 call's trace,
    by span id, once the endpoint's SERVER span for the call has arrived."""
    bucket = f"mw-{uuid.uuid4().hex[:6]}"
    name = deploy(LISTER, environment={"BUCKET": bucket, **environment},
                  resources={"buckets": [bucket]})
    answer = lambda_client.invoke(FunctionName=name, Payload=b"{}")
    header = json.loads(answer["Payload"].read())
    context = from_xray(header)
    assert context is not None
    store = SpanStore(ripple.data_dir / "traces.db", 1_000_000, 24)

    def spans() -> dict[str, Span] | None:
        found = {span.span_id: span for span in store.trace(context.trace_id)}
        servers = [span for span in found.values()
                   if span.kind == SpanKind.SERVER and span.name == "S3.ListObjectsV2"]
        # Each process exports on its own schedule: wait for the call's server span, its
        # caller's span, the invocation and the handler around it.
        invocation = found.get(context.parent_id)
        complete = (servers and all(server.parent_span_id in found for server in servers)
                    and invocation is not None and invocation.parent_span_id in found)
        return found if complete else None

    try:
        return name, wait_for(spans, timeout=30)
    finally:
        store.close()


def test_a_boto3_call_is_the_environments_client_span_with_the_endpoints_server_span_below(
        ripple: Ripple, deploy: Deploy, lambda_client: Any) -> None:
    # Given a function whose handler lists a bucket with boto3
    # When it is invoked
    name, spans = call_and_trace(ripple, deploy, lambda_client)
    # Then the call has one CLIENT span, recorded by the environment under the function's name
    clients = [span for span in spans.values() if span.name == "S3.ListObjectsV2"
               and span.kind == SpanKind.CLIENT]
    assert len(clients) == 1
    client = clients[0]
    assert client.resource["service.name"] == name
    assert client.attributes["rpc.system"] == "aws-api"
    assert client.attributes["aws.s3.bucket"].startswith("mw-")
    # And its parent is the invocation inside the handler's SERVER span
    invocation = spans[str(client.parent_span_id)]
    handler = spans[str(invocation.parent_span_id)]
    assert invocation.name == "Invocation"
    assert handler.kind == SpanKind.SERVER and handler.attributes["faas.name"] == name
    # And the endpoint's SERVER span is the CLIENT span's child
    servers = [span for span in spans.values() if span.name == "S3.ListObjectsV2"
               and span.kind == SpanKind.SERVER]
    assert [server.parent_span_id for server in servers] == [client.span_id]


def test_without_opentelemetry_in_the_function_the_endpoint_records_the_client_span(
        ripple: Ripple, deploy: Deploy, lambda_client: Any) -> None:
    # Given a function that turned OpenTelemetry off
    # When it lists a bucket with boto3
    name, spans = call_and_trace(ripple, deploy, lambda_client, OTEL_SDK_DISABLED="true")
    # Then the endpoint records the CLIENT span on its behalf, under the invocation
    clients = [span for span in spans.values() if span.name == "S3.ListObjectsV2"
               and span.kind == SpanKind.CLIENT]
    assert len(clients) == 1
    client = clients[0]
    assert client.resource["service.name"] != name
    assert spans[str(client.parent_span_id)].name == "Invocation"
    servers = [span for span in spans.values() if span.name == "S3.ListObjectsV2"
               and span.kind == SpanKind.SERVER]
    assert [server.parent_span_id for server in servers] == [client.span_id]
