"""Keeps per-customer order totals in another table, fed by the orders table's stream."""

import os
from decimal import Decimal

import boto3

totals = boto3.resource("dynamodb").Table(os.environ["TOTALS_TABLE"])


def handler(event, context):
    for record in event["Records"]:
        change = record["dynamodb"]
        new = change.get("NewImage", {})
        old = change.get("OldImage", {})
        customer = (new or old)["customer"]["S"]
        delta = Decimal(new.get("amount", {}).get("N", "0")) - Decimal(
            old.get("amount", {}).get("N", "0"))
        totals.update_item(
            Key={"customer": customer},
            # TOTAL is one of DynamoDB's reserved words: it needs a placeholder.
            UpdateExpression="ADD #total :delta, orders :count",
            ExpressionAttributeNames={"#total": "total"},
            ExpressionAttributeValues={
                ":delta": delta,
                ":count": {"INSERT": 1, "REMOVE": -1}.get(record["eventName"], 0),
            },
        )
    print(f"applied {len(event['Records'])} order change(s)")
    return {"applied": len(event["Records"])}
