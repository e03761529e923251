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
from orchestrator.services.s3 import (
    acl,
    buckets,
    listing,
    multipart,
    objects,
    tagging,
    versioning,
)
from orchestrator.services.s3.blobs import BlobStore
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import (
    InternalError,
    MethodNotAllowed,
    NotImplementedOperation,
    S3Error,
)
from orchestrator.services.s3.notifications import S3Notifications
from orchestrator.services.s3.requests import (
    S3Request,
    S3Response,
    from_scope,
)
from orchestrator.services.s3.store import Store
from orchestrator.services.s3.uploads import Uploads
from orchestrator.services.s3.wire import read_body, receive_payload, respond
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
    "GetBucketVersioning": versioning.get_bucket_versioning,
    "PutBucketVersioning": versioning.put_bucket_versioning,
    "ListObjectVersions": versioning.list_object_versions,
    "GetBucketNotificationConfiguration": buckets.get_notifications,
    "PutBucketNotificationConfiguration": buckets.put_notifications,
    "GetBucketTagging": tagging.get_bucket_tagging,
    "PutBucketTagging": tagging.put_bucket_tagging,
    "DeleteBucketTagging": tagging.delete_bucket_tagging,
    "GetBucketAcl": acl.get_bucket_acl,
    "PutBucketAcl": acl.put_bucket_acl,
    "ListObjects": listing.list_objects,
    "ListObjectsV2": listing.list_objects_v2,
    "ListMultipartUploads": multipart.list_multipart_uploads,
    "DeleteObjects": objects.delete_objects,
    "GetObject": objects.get_object,
    "HeadObject": objects.head_object,
    "PutObject": objects.put_object,
    "CopyObject": objects.copy_object,
    "DeleteObject": objects.delete_object,
    "GetObjectTagging": tagging.get_object_tagging,
    "PutObjectTagging": tagging.put_object_tagging,
    "DeleteObjectTagging": tagging.delete_object_tagging,
    "GetObjectAcl": acl.get_object_acl,
    "PutObjectAcl": acl.put_object_acl,
    "CreateMultipartUpload": multipart.create_multipart_upload,
    "UploadPart": multipart.upload_part,
    "UploadPartCopy": multipart.upload_part_copy,
    "ListParts": multipart.list_parts,
    "CompleteMultipartUpload": multipart.complete_multipart_upload,
    "AbortMultipartUpload": multipart.abort_multipart_upload,
}
# (method, subresource) -> operation; "" is the bucket or object itself.
BUCKET_ROUTES: dict[tuple[str, str], str] = {
    ("PUT", ""): "CreateBucket",
    ("HEAD", ""): "HeadBucket",
    ("DELETE", ""): "DeleteBucket",
    ("GET", "location"): "GetBucketLocation",
    ("GET", "versioning"): "GetBucketVersioning",
    ("PUT", "versioning"): "PutBucketVersioning",
    ("GET", "versions"): "ListObjectVersions",
    ("GET", "notification"): "GetBucketNotificationConfiguration",
    ("PUT", "notification"): "PutBucketNotificationConfiguration",
    ("GET", "tagging"): "GetBucketTagging",
    ("PUT", "tagging"): "PutBucketTagging",
    ("DELETE", "tagging"): "DeleteBucketTagging",
    ("GET", "acl"): "GetBucketAcl",
    ("PUT", "acl"): "PutBucketAcl",
    ("GET", "uploads"): "ListMultipartUploads",
    ("POST", "delete"): "DeleteObjects",
}
OBJECT_ROUTES: dict[tuple[str, str], str] = {
    ("GET", ""): "GetObject",
    ("HEAD", ""): "HeadObject",
    ("DELETE", ""): "DeleteObject",
    ("GET", "tagging"): "GetObjectTagging",
    ("PUT", "tagging"): "PutObjectTagging",
    ("DELETE", "tagging"): "DeleteObjectTagging",
    ("GET", "acl"): "GetObjectAcl",
    ("PUT", "acl"): "PutObjectAcl",
    ("POST", "uploads"): "CreateMultipartUpload",
    ("POST", "uploadId"): "CompleteMultipartUpload",
    ("GET", "uploadId"): "ListParts",
    ("DELETE", "uploadId"): "AbortMultipartUpload",
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
# Operations whose body is an object's data, received as a stream (payload.py).
STREAMED = frozenset({"PutObject", "UploadPart"})


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
    elif (method, subresource) in (("PUT", ""), ("PUT", "partNumber")):
        copy = "x-amz-copy-source" in request.headers
        operation = ("CopyObject" if copy else "PutObject") if not subresource else (
            "UploadPartCopy" if copy else "UploadPart")
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
        return S3Response(error.status, {"content-length": "0", **error.headers})
    body = error_document(error, request.resource, request.request_id, request.host_id)
    return S3Response(error.status, {"content-type": "application/xml", **error.headers}, body)


class S3App:
    """ASGI app for the endpoint's service router."""

    def __init__(self, redis: Redis, settings: Settings) -> None:
        self.region = settings.region
        self.endpoint_host = urlsplit(settings.endpoint).hostname or ""
        self.blobs = BlobStore(settings.data_dir / "s3")
        self.inline_max = settings.s3_inline_max
        self.context = S3Context(Store(redis, self.blobs, settings.s3_inline_max),
                                 S3Notifications(redis, settings.region), settings.region,
                                 Uploads(redis, self.blobs))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        request = from_scope(scope, b"", self.region, self.endpoint_host)
        try:
            operation = route(request)
            if operation in STREAMED:
                request.payload = await receive_payload(request, scope, receive, self.blobs,
                                                        self.inline_max)
            else:
                request = from_scope(scope, await read_body(scope, receive), self.region,
                                     self.endpoint_host)
        except S3Error as error:
            response = error_response(error, request)
            # The body may be partly unread: the connection cannot carry another request.
            response.headers["connection"] = "close"
        else:
            try:
                response = await anyio.to_thread.run_sync(handle, self.context, request)
            finally:
                if request.payload is not None and request.payload.temp is not None:
                    self.blobs.discard(request.payload.temp)  # unless committed (renamed)
        await respond(send, request, response)


def create_app(redis: Redis, settings: Settings) -> S3App:
    return S3App(redis, settings)
