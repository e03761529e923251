"""The endpoint's spans for AWS calls, with callers that record their own CLIENT span (boto3
in an environment with OpenTelemetry) and callers that do not (OTEL_SDK_DISABLED=true), named
after the operation the service routed the call to."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import boto3

from tests.conftest import Deploy, Ripple, wait_for
from tests.orchestrator.services.dynamodb.conftest import aws
from tracing.propagation import TraceContext, from_xray
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


def test_a_header_that_names_no_parent_starts_the_trace_at_the_endpoint(
        ripple: Ripple, deploy: Deploy) -> None:
    # Given a function, and a caller whose X-Ray header names a trace but no parent span (as
    # `ripple load` sends it, here with the decision taken)
    name = deploy("def handler(event, context):\n    return None\n")
    trace_id = TraceContext.new().trace_id
    header = f"Root=1-{trace_id[:8]}-{trace_id[8:]};Sampled=1"

    # When it invokes the function
    request = urllib.request.Request(f"{ripple.url}/2015-03-31/functions/{name}/invocations",
                                     data=b"{}", headers={"X-Amzn-Trace-Id": header})
    with urllib.request.urlopen(request) as answer:
        assert answer.status == 200

    # Then the endpoint's SERVER span is the trace's root, with no CLIENT span made up above it
    server = server_span(ripple, trace_id, "Lambda.Invoke")
    assert server.parent_span_id is None
    store = SpanStore(ripple.data_dir / "traces.db", 1_000_000, 24)
    try:
        assert [span for span in store.trace(trace_id) if span.kind == SpanKind.CLIENT] == []
    finally:
        store.close()


def traced(client: Any) -> str:
    """Send every call `client` makes under one new trace, as an instrumented caller names its
    CLIENT span in `traceparent`; the trace's id."""
    context = TraceContext.new()

    def add_traceparent(request: Any, **_: Any) -> None:
        request.headers["traceparent"] = context.to_traceparent()

    client.meta.events.register("before-send", add_traceparent)
    return context.trace_id


def server_span(ripple: Ripple, trace_id: str, name: str) -> Span:
    """The endpoint's SERVER span called `name` in the trace, once it has arrived."""
    store = SpanStore(ripple.data_dir / "traces.db", 1_000_000, 24)
    try:
        return wait_for(lambda: next((span for span in store.trace(trace_id)
                                      if span.kind == SpanKind.SERVER and span.name == name),
                                     None))
    finally:
        store.close()


def test_bucket_subresources_are_named_by_the_operation_s3_routed_them_to(
        ripple: Ripple) -> None:
    # Given a bucket, and a client whose calls carry a trace
    s3 = boto3.client("s3", **aws(ripple))
    bucket = f"mw-{uuid.uuid4().hex[:6]}"
    s3.create_bucket(Bucket=bucket)
    trace_id = traced(s3)
    # When it asks for the bucket's location and versioning (GET /bucket?location, ?versioning)
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] is None
    versioning = s3.get_bucket_versioning(Bucket=bucket)
    # Then a bucket without versioning answers as S3 does: no Status at all
    assert versioning["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert "Status" not in versioning
    # And each call's SERVER span is named after its operation, not ListObjects
    location = server_span(ripple, trace_id, "S3.GetBucketLocation")
    assert location.attributes["rpc.method"] == "GetBucketLocation"
    assert location.attributes["aws.s3.bucket"] == bucket
    assert location.attributes["http.response.status_code"] == 200
    assert server_span(ripple, trace_id, "S3.GetBucketVersioning").attributes[
        "aws.s3.bucket"] == bucket


def test_a_dynamodb_calls_span_names_its_tables(ripple: Ripple) -> None:
    # Given a table, and a client whose calls carry a trace
    dynamodb = boto3.client("dynamodb", **aws(ripple))
    table = f"t-{uuid.uuid4().hex[:10]}"
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                          AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
    trace_id = traced(dynamodb)
    # When it puts an item, and writes in a batch
    dynamodb.put_item(TableName=table, Item={"pk": {"S": "one"}})
    dynamodb.batch_write_item(RequestItems={table: [
        {"PutRequest": {"Item": {"pk": {"S": "two"}}}}]})
    # Then each SERVER span is named after the operation and carries the table's name
    put = server_span(ripple, trace_id, "DynamoDB.PutItem")
    assert put.attributes["rpc.service"] == "DynamoDB"
    assert put.attributes["rpc.method"] == "PutItem"
    assert list(put.attributes["aws.dynamodb.table_names"]) == [table]
    batch = server_span(ripple, trace_id, "DynamoDB.BatchWriteItem")
    assert list(batch.attributes["aws.dynamodb.table_names"]) == [table]
