"""Targets and payload templates: what one event's request is."""

from __future__ import annotations

import json

import pytest

from orchestrator.load import LoadError
from orchestrator.load.targets import Builder, Target, render, trace_header
from tracing.propagation import from_xray


def test_targets_parse_in_each_form() -> None:
    # When each target form is parsed, Then its parts are kept
    assert Target.parse("invoke:resize") == Target("invoke", "resize")
    assert Target.parse("s3:uploads/in/") == Target("s3", "uploads", prefix="in/")
    assert Target.parse("ddb:orders") == Target("ddb", "orders")
    assert Target.parse("http:get /items/{n}") == Target("http", "/items/{n}", method="GET")
    assert str(Target.parse("s3:uploads/in/")) == "s3:uploads/in/"


@pytest.mark.parametrize("text", ["resize", "lambda:x", "invoke:", "http:/items", "http:FETCH /x"])
def test_a_bad_target_names_the_forms(text: str) -> None:
    with pytest.raises(LoadError, match="target .*: use"):
        Target.parse(text)


def test_templates_fill_per_event_variables_and_leave_json_braces() -> None:
    # Given a JSON template, When rendered for event 7 at a fixed time
    text = render('{"n": {n}, "id": "{uuid}", "at": {now}, "ms": {now_ms}, "x": {"y": 1}}', 7,
                  now=1700000000.25)
    # Then the variables are filled and the JSON's own braces kept
    event = json.loads(text)
    assert event["n"] == 7 and len(event["id"]) == 32 and event["at"] == 1700000000.25
    assert event["ms"] == 1700000000250 and event["x"] == {"y": 1}


def test_each_target_builds_the_request_aws_would_get() -> None:
    # Given builders for an invoke, an S3 put and a DynamoDB put
    header = "Root=1-00000001-000000000000000000000001;Sampled=1"
    invoke = Builder(Target.parse("invoke:f"), "http://127.0.0.1:1").build(3, header)
    put = Builder(Target.parse("s3:b/p/"), "http://127.0.0.1:1", key="k{n}").build(3, header)
    item = Builder(Target.parse("ddb:t"), "http://127.0.0.1:1",
                   payload='{"id": "x{n}", "n": {n}, "ok": true}').build(3, header)
    # Then each is what the service expects, carrying the trace header
    assert invoke.url.endswith("/2015-03-31/functions/f/invocations")
    assert invoke.headers["X-Amz-Invocation-Type"] == "Event"
    assert put.method == "PUT" and put.url.endswith("/b/p/k3")
    assert "/s3/aws4_request" in put.headers["Authorization"]
    assert json.loads(item.body) == {"TableName": "t", "Item": {
        "id": {"S": "x3"}, "n": {"N": "3"}, "ok": {"BOOL": True}}}
    assert all(request.headers["X-Amzn-Trace-Id"] == header for request in (invoke, put, item))


def test_a_dynamodb_payload_must_be_an_object() -> None:
    with pytest.raises(LoadError, match="JSON object"):
        Builder(Target.parse("ddb:t"), "http://127.0.0.1:1", payload="[1, 2]")


def test_each_event_starts_a_trace_whose_sampling_ripple_decides() -> None:
    # When a run's event gets its trace header
    root, header = trace_header(now=1_700_000_000)
    # Then it names a new X-Ray root and leaves sampling to ripple's sampler
    context = from_xray(header)
    assert context is not None and context.xray_trace_id == root
    assert root.startswith("1-6553f100-") and not context.decided
