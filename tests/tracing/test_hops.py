"""Lambda's recursion limit, enforced where every hop is dispatched."""

from __future__ import annotations

import json
import time

from tests.conftest import Deploy, Ripple, wait_for

SELF_INVOKER = """
import json, os
import boto3
client = boto3.client("lambda")
def handler(event, context):
    print("depth " + str(event["depth"]) + " trace " + os.environ.get("_X_AMZN_TRACE_ID", ""))
    client.invoke(FunctionName=context.function_name, InvocationType="Event",
                  Payload=json.dumps({"depth": event["depth"] + 1}))
"""


def stopped_at_16(ripple: Ripple, name: str, timeout: float) -> str:
    """Wait for the loop's stop; check it ran 16 times, no more, and said so. Returns the logs."""
    wait_for(lambda: ripple.counters(name)["recursion_stopped"] == 1, timeout=timeout)
    wait_for(lambda: ripple.counters(name)["invocations"] == 16)
    time.sleep(1.0)  # nothing more runs after the stop
    assert ripple.counters(name)["invocations"] == 16
    logs = ripple.logs(name)
    assert "depth 16" in logs and "depth 17" not in logs
    assert "Lambda stopped a recursive invocation" in logs
    return logs


def test_a_function_invoking_itself_is_stopped_at_16_and_says_so(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    # Given a function that invokes itself asynchronously, forever
    name = deploy(SELF_INVOKER, timeout=10)
    # When one event starts the loop
    lambda_client.invoke(FunctionName=name, InvocationType="Event",
                         Payload=json.dumps({"depth": 1}))
    # Then the 17th invocation is stopped, the logs say so, and the counter shows it
    logs = stopped_at_16(ripple, name, timeout=60)
    # And every invocation of the loop belongs to one trace
    roots = {line.split("Root=")[1].split(";")[0] for line in logs.splitlines()
             if line.startswith("depth ")}
    assert len(roots) == 1


def test_an_s3_loop_through_the_same_bucket_stops_at_16(
        ripple: Ripple, deploy: Deploy) -> None:
    import uuid

    import boto3

    # Given a function that writes a new object into the bucket that triggers it
    bucket = f"loop-{uuid.uuid4().hex[:8]}"
    name = deploy("""
        import boto3
        s3 = boto3.client("s3")
        def handler(event, context):
            record = event["Records"][0]["s3"]
            depth = int(record["object"]["key"].split("-")[-1])
            print("depth " + str(depth))
            s3.put_object(Bucket=record["bucket"]["name"], Key="obj-" + str(depth + 1), Body=b"x")
    """, timeout=10, events=[{"s3": {"bucket": bucket, "events": ["s3:ObjectCreated:*"]}}],
        resources={"buckets": [bucket]})
    s3 = boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                      aws_access_key_id="test", aws_secret_access_key="test")
    # When one object starts the loop
    s3.put_object(Bucket=bucket, Key="obj-1", Body=b"x")
    # Then the 17th invocation is stopped and the function's logs say so
    stopped_at_16(ripple, name, timeout=90)
