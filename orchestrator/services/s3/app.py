"""The S3 endpoint: an ASGI app speaking S3's REST/XML protocol, path-style (`/bucket/key`)
and virtual-hosted (`bucket.localhost:4566/key`), as boto3 and the AWS CLI use it.

The endpoint's service router sends a request here when its SigV4 credential scope (or a
presigned URL's X-Amz-Credential) names `s3`. The Redis work runs in worker threads, which
inherit the request's trace context, so the notifications a write triggers continue its trace.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from urllib.parse import urlsplit

import anyio.to_thread
from redis import Redis
from starlette.types import Receive, Scope, Send

from orchestrator.services.calls import name_operation
from orchestrator.services.s3 import buckets, listing, objects
from orchestrator.services.s3.chunked import is_aws_chunked
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import (
    EntityTooLarge,
    InternalError,
    MethodNotAllowed,
    NotImplementedOperation,
    S3Error,
)
from orchestrator.services.s3.notifications import S3Notifications
from orchestrator.services.s3.requests import S3Request, S3Response, decimal, from_scope
from orchestrator.services.s3.store import MAX_OBJECT_SIZE, Store
from orchestrator.services.s3.xml import error_document
from orchestrator.settings import Settings

log = logging.getLogger("ripple.s3")

Operation = Callable[[S3Context, S3Request], S3Response]
# Each operation by the name AWS gives it (the span's `rpc.method`).
OPERATIONS: dict[str, Operation] = {
    "ListBuckets": buckets.list_buckets,
    "CreateBucket": buckets.create_bucket,
    "HeadBucket": buckets.head_bucket,
    "DeleteBucket": buckets.delete_bucket,
    "GetBucketLocation": buckets.get_bucket_location,
    "GetBucketVersioning": buckets.get_bucket_versioning,
    "GetBucketNotificationConfiguration": buckets.get_notifications,
    "PutBucketNotificationConfiguration": buckets.put_notifications,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "DeleteObjects": objects.delete_objects,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "PutObject": objects.put_object,
    "CopyObject": objects.copy_object,
    "DeleteObject": objects.delete_object,
}
# (method, subresource) -> operation; "" is the bucket or object itself.
BUCKET_ROUTES: dict[tuple[str, str], str] = {
    ("PUT", ""): "CreateBucket",
    ("HEAD", ""): "HeadBucket",
    ("DELETE", ""): "DeleteBucket",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "versioning"): "GetBucketVersioning",
    ("GET", "notification"): "GetBucketNotificationConfiguration",
    ("PUT", "notification"): "PutBucketNotificationConfiguration",
    ("POST", "delete"): "DeleteObjects",
}
OBJECT_ROUTES: dict[tuple[str, str], str] = {
    ("GET", ""): "GetObject",
    ("HEAD", ""): "HeadObject",
    ("DELETE", ""): "DeleteObject",
}
# Query parameters that name a sub-resource (another operation), not an option.
SUBRESOURCES = frozenset({
    "accelerate", "acl", "analytics", "attributes", "cors", "delete", "encryption",
    "intelligent-tiering", "inventory", "legal-hold", "lifecycle", "location", "logging",
    "metadataConfiguration", "metrics", "notification", "object-lock", "ownershipControls",
    "partNumber", "policy", "policyStatus", "publicAccessBlock", "replication",
    "requestPayment", "restore", "retention", "select", "tagging", "torrent", "uploadId",
    "uploads", "versioning", "versions", "website",
})
METHODS = ("GET", "PUT", "HEAD", "DELETE", "POST")
# aws-chunked framing around an object at most this much bigger than the object itself.
FRAMING_ALLOWANCE = 1024 * 1024


def route(request: S3Request) -> str:
    """The name of the operation a request asks for; MethodNotAllowed or NotImplemented
    otherwise."""
    method = request.method
    if method not in METHODS:
        raise MethodNotAllowed(Method=method, ResourceType="OBJECT" if request.key else "BUCKET")
    if not request.bucket:
        if method == "GET":
            return "ListBuckets"
        raise MethodNotAllowed(Method=method, ResourceType="SERVICE")
    named = sorted(SUBRESOURCES & request.query.keys())
    subresource = named[0] if named else ""
    if not request.key:
        if (method, subresource) == ("GET", ""):
            v2 = request.query.get("list-type") == "2"
            return "ListObjectsV2" if v2 else "ListObjects"
        operation = BUCKET_ROUTES.get((method, subresource))
    elif (method, subresource) == ("PUT", ""):
        copy = "x-amz-copy-source" in request.headers
        operation = "CopyObject" if copy else "PutObject"
    else:
        operation = OBJECT_ROUTES.get((method, subresource))
    if operation is None:
        what = f"{method} ?{subresource}" if subresource else f"{method} (POST Object)"
        raise NotImplementedOperation(f"ripple's S3 does not implement {what} on "
                                      f"{'objects' if request.key else 'buckets'}",
                                      Method=method)
    return operation


def handle(context: S3Context, request: S3Request) -> S3Response:
    """One request, start to end; errors become S3's `<Error>` documents."""
    try:
        operation = route(request)
        name_operation("S3", operation, span_attributes(request))
        return OPERATIONS[operation](context, request)
    except S3Error as error:
        return error_response(error, request)
    except Exception as error:
        log.exception("S3 %s %s failed", request.method, request.resource)
        return error_response(InternalError(f"{type(error).__name__}: {error}"), request)


def span_attributes(request: S3Request) -> dict[str, str]:
    """The bucket and key a request names, as OpenTelemetry's `aws.s3.*` attributes."""
    attributes = {"aws.s3.bucket": request.bucket} if request.bucket else {}
    if request.key:
        attributes["aws.s3.key"] = request.key
    return attributes


def error_response(error: S3Error, request: S3Request) -> S3Response:
    """HEAD errors have no body (clients see only the status), as on S3."""
    if request.method == "HEAD":
        return S3Response(error.status, {"content-length": "0"})
    body = error_document(error, request.resource, request.request_id, request.host_id)
    return S3Response(error.status, {"content-type": "application/xml"}, body)


class S3App:
    """ASGI app for the endpoint's service router."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.region = settings.region
        self.endpoint_host = urlsplit(settings.endpoint).hostname or ""
        self.context = S3Context(Store(redis), S3Notifications(redis, settings.region),
                                 settings.region)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        try:
            raw = await read_body(scope, receive)
            request = from_scope(scope, raw, self.region, self.endpoint_host)
        except S3Error as error:
            request = from_scope(scope, b"", self.region, self.endpoint_host)
            response = error_response(error, request)
            # The body may be partly unread: the connection cannot carry another request.
            response.headers["connection"] = "close"
        else:
            response = await anyio.to_thread.run_sync(handle, self.context, request)
        await respond(send, request, response)


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """The raw body; EntityTooLarge as soon as it (or its declared size) is too big."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1")
               for name, value in scope["headers"]}
    declared = headers.get("x-amz-decoded-content-length", "")
    if not declared and not is_aws_chunked(headers):
        declared = headers.get("content-length", "")
    if (decimal(declared) or 0) > MAX_OBJECT_SIZE:
        raise EntityTooLarge(ProposedSize=declared, MaxSizeAllowed=str(MAX_OBJECT_SIZE))
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_OBJECT_SIZE + FRAMING_ALLOWANCE:
            raise EntityTooLarge(MaxSizeAllowed=str(MAX_OBJECT_SIZE))
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def respond(send: Send, request: S3Request, response: S3Response) -> None:
    headers = {**response.headers, "x-amz-request-id": request.request_id,
               "x-amz-id-2": request.host_id}
    body = response.body
    if response.status in (204, 304):
        headers.pop("content-length", None)
        body = b""
    else:
        headers.setdefault("content-length", str(len(body)))
    if request.method == "HEAD":
        body = b""
    await send({"type": "http.response.start", "status": response.status,
                "headers": [(name.encode("latin-1"), value.encode("latin-1"))
                            for name, value in headers.items()]})
    await send({"type": "http.response.body", "body": body})


def create_app(redis: Redis, settings: Settings) -> S3App:
    return S3App(redis, settings)
