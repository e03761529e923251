"""Backs up every object created in the bucket that triggers it into BACKUP_BUCKET."""

import os
from urllib.parse import unquote_plus

import boto3

s3 = boto3.client("s3")


def handler(event, context):
    target = os.environ["BACKUP_BUCKET"]
    copied = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # keys arrive URL-encoded
        s3.copy_object(Bucket=target, Key=key, CopySource={"Bucket": bucket, "Key": key})
        print(f"backed up s3://{bucket}/{key} to s3://{target}/{key}")
        copied.append(key)
    return {"copied": copied}
