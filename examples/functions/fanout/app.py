"""Fans out: one async invocation of TARGET per item, through plain boto3."""

import json
import os

import boto3

# On Lambda this reaches AWS; under ripple, AWS_ENDPOINT_URL points it at ripple.
lambda_client = boto3.client("lambda")


def handler(event, context):
    count = int(event.get("count", 10))
    target = os.environ["TARGET"]
    for item in range(count):
        lambda_client.invoke(
            FunctionName=target,
            InvocationType="Event",
            Payload=json.dumps({"item": item, "of": count, "parent": context.aws_request_id}),
        )
    print(f"dispatched {count} events to {target}")
    return {"dispatched": count, "target": target}
