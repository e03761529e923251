"""Traces from real invocations: context across every hop, read back through X-Ray's API."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import boto3
import jsonschema

from tests.conftest import Deploy, Ripple, wait_for

SCHEMA = json.loads(Path(__file__).with_name("xray-segmentdocument-schema-v1.0.0.json")
                    .read_text())
FAN_OUT = """
import json, os
import boto3
client = boto3.client("lambda")
def handler(event, context):
    for item in range(10):
        client.invoke(FunctionName=os.environ["TARGET"], InvocationType="Event",
                      Payload=json.dumps({"item": item, "fail": item == 1}))
"""
WRITER = """
import os
import boto3
table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
def handler(event, context):
    table.put_item(Item={"pk": str(event["item"])})
    if event["fail"]:
        raise ValueError("B failed on purpose")
"""


def _calls_into(graph: dict[str, Any], function: str, source: str | None = None) -> int:
    """Requests on the edges into `function`'s Lambda service node (from `source` only)."""
    services = graph["Services"]
    target = next((s["ReferenceId"] for s in services
                   if s["Name"] == function and s["Type"] == "AWS::Lambda"), None)
    return sum(edge["SummaryStatistics"]["TotalCount"] for service in services
               if source in (None, service["Name"]) for edge in service["Edges"]
               if edge["ReferenceId"] == target)


def test_a_chain_is_one_trace_and_the_map_shows_every_node(
        ripple: Ripple, deploy: Deploy) -> None:
    # Given S3 put → A → 10 × B (through boto3) → each B writes a table → its stream → C
    suffix = uuid.uuid4().hex[:6]
    a, b, c, table = f"a-{suffix}", f"b-{suffix}", f"c-{suffix}", f"t-{suffix}"
    bucket = f"in-{suffix}"
    deploy(FAN_OUT, name=a, environment={"TARGET": b}, timeout=10,
           events=[{"s3": {"bucket": bucket, "events": ["s3:ObjectCreated:*"]}}],
           resources={"buckets": [bucket]})
    deploy(WRITER, name=b, environment={"TABLE": table}, retries=0, timeout=10)
    deploy("def handler(event, context):\n    return len(event['Records'])\n", name=c,
           events=[{"dynamodb": {"table": table, "starting_position": "TRIM_HORIZON",
                                 "batching_window": 60}}],
           resources={"tables": {table: {"keys": {"pk": "S"}, "stream": "NEW_IMAGE"}}})
    # When one object is put into the bucket
    boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                 aws_access_key_id="test", aws_secret_access_key="test").put_object(
        Bucket=bucket, Key="start.json", Body=b"{}")
    wait_for(lambda: ripple.counters(b)["invocations"] >= 10, timeout=60)
    wait_for(lambda: ripple.counters(c)["invocations"] >= 1, timeout=60)

    # Then the map has A, B, the table and C, and the edges into B count its 10 calls, a fault on B
    def graph() -> dict[str, Any] | None:
        found = ripple.api("GET", "/_ripple/api/servicemap", params={"since": "5m"})
        names = {service["Name"] for service in found["Services"]}
        b_calls = sum(s["SummaryStatistics"]["TotalCount"] for s in found["Services"]
                      if s["Name"] == b and s["Type"] == "AWS::Lambda::Function")
        # spans arrive in batches from each process: wait for all ten B's, and for A's ten
        # calls (until A's own spans arrive, each attempt at a call counts from "client")
        return found if ({"client", bucket, a, b, table, c} <= names and b_calls == 10
                         and _calls_into(found, b, source=a) == 10) else None

    services = {(s["Name"], s["Type"]): s for s in wait_for(graph, timeout=60)["Services"]}
    assert (b, "AWS::Lambda::Function") in services and (table, "AWS::DynamoDB::Table") in services
    function_b = services[(b, "AWS::Lambda::Function")]
    assert function_b["SummaryStatistics"]["FaultStatistics"]["TotalCount"] >= 1
    assert _calls_into({"Services": list(services.values())}, b) == 10
    assert (bucket, "AWS::S3::Bucket") in services and ("client", "client") in services
    # And A's trace holds every B, as X-Ray segment documents that pass X-Ray's schema
    summaries = ripple.api("GET", "/_ripple/api/traces",
                           params={"since": "5m", "filter": f'service("{a}")'})["TraceSummaries"]
    assert len(summaries) == 1 and summaries[0]["HasFault"]
    trace = ripple.api("GET", f"/_ripple/api/traces/{summaries[0]['Id']}")["Traces"][0]
    documents = [json.loads(segment["Document"]) for segment in trace["Segments"]]
    for document in documents:
        jsonschema.Draft4Validator(SCHEMA).validate(document)
    assert sum(1 for d in documents if d.get("origin") == "AWS::Lambda::Function"
               and d["name"] == b) == 10
    # And boto3's own X-Ray client reads the same data
    xray = boto3.client("xray", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")
    assert xray.batch_get_traces(TraceIds=[summaries[0]["Id"]])["Traces"]
    # And the CLI draws it
    drawn = ripple.cli("trace", summaries[0]["Id"], check=True).stdout
    assert a in drawn and "fault" in drawn


def test_a_plain_opentelemetry_program_shows_up_in_the_traces(ripple: Ripple) -> None:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor

    # Given any OpenTelemetry program exporting OTLP/HTTP to ripple
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(SimpleSpanProcessor(
        OTLPSpanExporter(endpoint=f"{ripple.url}/v1/traces")))
    tracer = provider.get_tracer("interop")
    # When it records a call into an S3 bucket
    with tracer.start_as_current_span("S3.GetObject", kind=trace_kind_client(), attributes={
            "rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject",
            "aws.s3.bucket": "interop-bucket"}) as span:
        trace_id = f"{span.get_span_context().trace_id:032x}"
    provider.shutdown()
    # Then ripple has the trace, and the bucket is on the map
    xray_id = f"1-{trace_id[:8]}-{trace_id[8:]}"
    found = wait_for(lambda: _get(ripple, f"/_ripple/api/traces/{xray_id}"))
    assert found["Traces"][0]["Id"] == xray_id
    names = {s["Name"] for s in ripple.api("GET", "/_ripple/api/servicemap",
                                           params={"since": "5m"})["Services"]}
    assert "interop-bucket" in names


def test_invocations_succeed_while_the_receiver_is_unreachable(tmp_path: Path) -> None:
    from tests.conftest import free_port, start_ripple, stop_ripple

    # Given a ripple whose processes export spans to a port nobody listens on
    dead = f"http://127.0.0.1:{free_port()}"
    (tmp_path / "data").mkdir()
    stack = start_ripple(tmp_path / "data", OTEL_EXPORTER_OTLP_ENDPOINT=dead)
    try:
        code = tmp_path / "code"
        code.mkdir()
        (code / "app.py").write_text("def handler(event, context):\n    return 'fine'\n")
        spec = "functions:\n  f: {handler: app.handler, code: ./code}\n"
        (tmp_path / "spec.yaml").write_text(spec)
        assert stack.cli("deploy", str(tmp_path / "spec.yaml")).returncode == 0
        # When functions are invoked
        results = [stack.cli("invoke", "f").stdout.strip() for _ in range(5)]
        # Then every invocation succeeds
        assert results == ['"fine"'] * 5
    finally:
        stop_ripple(stack)


def trace_kind_client() -> Any:
    from opentelemetry.trace import SpanKind

    return SpanKind.CLIENT


def _get(ripple: Ripple, path: str) -> Any:
    import httpx

    answer = httpx.get(ripple.url + path, timeout=10)
    return answer.json() if answer.status_code == 200 else None
