"""The issue's "done when": a handler traced with Powertools' Tracer, deployed on a real ripple
with Powertools and the X-Ray SDK shipped in its code folder (as a user ships them: neither is
in Lambda's runtime), shows its `work` subsegment under its invocation in BatchGetTraces."""

from __future__ import annotations

import json
import shutil
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

from tests.conftest import Deploy, Ripple, wait_for

HANDLER = """
import os
from aws_lambda_powertools import Tracer

tracer = Tracer(service="shop")

@tracer.capture_lambda_handler
def handler(event, context):
    with tracer.provider.in_subsegment("work") as work:
        work.put_annotation("order", event["order"])
    return {"trace": os.environ["_X_AMZN_TRACE_ID"]}
"""
# What Powertools' Tracer needs beyond Lambda's runtime (boto3, jmespath are there).
PACKAGES = ("aws_lambda_powertools", "aws_xray_sdk", "wrapt", "typing_extensions.py")


def ship_packages(code: Path) -> None:
    """Copy the packages into the function's code folder, as `pip install -t` would."""
    site = Path(next(path for path in sys.path if path.endswith("site-packages")))
    code.mkdir(parents=True)
    for name in PACKAGES:
        source = site / name
        if source.is_dir():
            shutil.copytree(source, code / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, code / name)


def find(part: dict[str, Any], name: str) -> dict[str, Any] | None:
    """The first subsegment named `name` at or below `part`."""
    if part.get("name") == name:
        return part
    return next(filter(None, (find(sub, name) for sub in part.get("subsegments", []))), None)


def test_powertools_work_subsegment_shows_under_its_invocation(
        ripple: Ripple, deploy: Deploy, lambda_client: Any, tmp_path: Path) -> None:
    # Given a Powertools-traced handler with its packages in its code folder
    name = f"pt-{uuid.uuid4().hex[:8]}"
    ship_packages(tmp_path / name)
    deploy(HANDLER, name=name, timeout=10)

    # When it is invoked
    answer = lambda_client.invoke(FunctionName=name, Payload=json.dumps({"order": "o-1"}))
    assert "FunctionError" not in answer, answer["Payload"].read()
    header = json.loads(answer["Payload"].read())["trace"]
    trace_id = dict(part.split("=", 1) for part in header.split(";"))["Root"]

    # Then BatchGetTraces (ripple's route) shows "work" inside Powertools' handler subsegment,
    # inside the function's Invocation
    def work_in_trace() -> dict[str, Any] | None:
        try:
            found = ripple.api("GET", f"/_ripple/api/traces/{trace_id}")
        except Exception:
            return None  # not stored yet
        for segment in found["Traces"][0]["Segments"]:
            document = json.loads(segment["Document"])
            invocation = find(document, "Invocation")
            if document.get("origin") == "AWS::Lambda::Function" and invocation and find(
                    invocation, "work"):
                return document
        return None

    function = wait_for(work_in_trace, timeout=15, interval=0.2)
    assert function["name"] == name
    invocation = find(function, "Invocation")
    assert invocation is not None
    handler = find(invocation, "## handler")
    assert handler is not None and handler["annotations"]["ColdStart"] is True
    work = find(handler, "work")
    assert work is not None and work["annotations"] == {"order": "o-1"}
    assert invocation["start_time"] <= work["start_time"] <= work["end_time"] <= invocation[
        "end_time"]
    # And boto3's X-Ray client reads the same trace
    xray = boto3.client("xray", endpoint_url=ripple.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}))
    (trace,) = xray.batch_get_traces(TraceIds=[trace_id])["Traces"]
    names = {part["name"] for segment in trace["Segments"]
             for part in _walk(json.loads(segment["Document"]))}
    assert {"Invocation", "## handler", "work"} <= names
    # And the viewer's waterfall data has "work" under "## handler" under the Invocation
    spans = ripple.api("GET", f"/_ripple/api/traces/{trace_id}/spans")["spans"]
    by_id = {span["span_id"]: span for span in spans}
    (shown,) = [span for span in spans if span["name"] == "work"]
    ancestors = []
    parent = by_id.get(shown["parent_id"])
    while parent is not None:
        ancestors.append(parent["name"])
        parent = by_id.get(parent["parent_id"])
    assert ancestors[:2] == ["## handler", "Invocation"], ancestors
    # And the endpoint counted what its X-Ray daemon receiver stored
    assert ripple.api("GET", "/_ripple/api/tracing")["xray_spans_stored"] >= 2


def _walk(part: dict[str, Any]) -> list[dict[str, Any]]:
    return [part, *(found for sub in part.get("subsegments", []) for found in _walk(sub))]
