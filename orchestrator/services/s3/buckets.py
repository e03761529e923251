"""Bucket operations: Create/Head/Delete/ListBuckets, GetBucketLocation and
Put/GetBucketNotificationConfiguration."""

from __future__ import annotations

import base64
import binascii
import hashlib

from orchestrator.services.s3 import notification_config
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import InvalidArgument, InvalidBucketName
from orchestrator.services.s3.headers import canned_acl
from orchestrator.services.s3.records import valid_bucket_name
from orchestrator.services.s3.requests import S3Request, S3Response, decimal
from orchestrator.services.s3.xml import Content, document, iso_time, parse, text
from orchestrator.settings import ACCOUNT_ID

# The canonical user id S3 names the owner by, and its display name.
OWNER_ID = hashlib.sha256(ACCOUNT_ID.encode()).hexdigest()
OWNER_NAME = "ripple"
XML = {"content-type": "application/xml"}
MAX_BUCKETS = 10_000


def owner() -> list[tuple[str, Content]]:
    return [("ID", OWNER_ID), ("DisplayName", OWNER_NAME)]


def create_bucket(context: S3Context, request: S3Request) -> S3Response:
    """CreateBucket; the body's LocationConstraint, if any, is the bucket's region."""
    if not valid_bucket_name(request.bucket):
        raise InvalidBucketName(BucketName=request.bucket)
    region = context.region
    if request.body.strip():
        configuration = parse(request.body, "CreateBucketConfiguration")
        region = text(configuration, "LocationConstraint") or region
    context.store.create_bucket(request.bucket, region)
    if request.header("x-amz-acl"):
        context.store.set_bucket_field(request.bucket, "acl", canned_acl(request.headers))
    return S3Response(200, {"location": f"/{request.bucket}"})


def head_bucket(context: S3Context, request: S3Request) -> S3Response:
    bucket = context.store.bucket(request.bucket)
    return S3Response(200, {"x-amz-bucket-region": bucket.region})


def delete_bucket(context: S3Context, request: S3Request) -> S3Response:
    """DeleteBucket (BucketNotEmpty unless empty); its notification rules go with it."""
    context.store.delete_bucket(request.bucket)
    context.notifications.drop_bucket(request.bucket)
    return S3Response(204)


def list_buckets(context: S3Context, request: S3Request) -> S3Response:
    """ListBuckets, all at once or a page of `max-buckets` at a time (`continuation-token`
    is the last bucket listed), optionally under a `prefix`."""
    query = request.query
    prefix = query.get("prefix", "")
    limit = _max_buckets(query.get("max-buckets"))
    token = query.get("continuation-token")
    after = _after(token) if token else ""
    chosen = [bucket for bucket in context.store.buckets()
              if bucket.name.startswith(prefix) and bucket.name > after]
    page = chosen[:limit] if limit else chosen
    buckets: list[tuple[str, Content]] = [
        ("Bucket", [("Name", bucket.name), ("CreationDate", iso_time(bucket.created)),
                    ("BucketRegion", bucket.region)])
        for bucket in page]
    content: list[tuple[str, Content]] = [("Owner", owner()), ("Buckets", buckets)]
    if limit and len(chosen) > limit:
        content.append(("ContinuationToken",
                        base64.urlsafe_b64encode(page[-1].name.encode()).decode()))
    if prefix:
        content.append(("Prefix", prefix))
    return S3Response(200, XML, document("ListAllMyBucketsResult", content))


def _max_buckets(raw: str | None) -> int:
    if raw is None:
        return 0
    value = decimal(raw)
    if value is None or not 1 <= value <= MAX_BUCKETS:
        raise InvalidArgument("Argument max-buckets must be an integer between 1 and 10000",
                              ArgumentName="max-buckets", ArgumentValue=raw)
    return value


def _after(token: str) -> str:
    try:
        return base64.urlsafe_b64decode(token.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidArgument("The continuation token provided is incorrect",
                              ArgumentName="continuation-token") from None


def get_bucket_location(context: S3Context, request: S3Request) -> S3Response:
    """us-east-1 answers an empty LocationConstraint, as S3 does."""
    region = context.store.bucket(request.bucket).region
    constraint = None if region == "us-east-1" else region
    return S3Response(200, XML, document("LocationConstraint", constraint))


def put_notifications(context: S3Context, request: S3Request) -> S3Response:
    """PutBucketNotificationConfiguration: replaces the bucket's rules; a malformed or invalid
    body changes nothing."""
    context.store.bucket(request.bucket)
    configuration = notification_config.from_xml(request.body)
    context.notifications.put_configuration(request.bucket, configuration)
    return S3Response(200)


def get_notifications(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    configuration = context.notifications.configuration(request.bucket)
    return S3Response(200, XML, notification_config.to_xml(configuration))
