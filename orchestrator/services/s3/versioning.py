"""Bucket versioning: Put/GetBucketVersioning and ListObjectVersions (versions and delete
markers, newest first within each key, keys in byte order)."""

from __future__ import annotations

from orchestrator.services.s3.buckets import XML, owner
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import IllegalVersioningConfiguration
from orchestrator.services.s3.headers import quoted
from orchestrator.services.s3.listing import MAX_KEYS, common_prefix
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response, decimal
from orchestrator.services.s3.xml import Content, document, iso_time, parse, text

_BATCH = 256


def put_bucket_versioning(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    status = text(parse(request.body, "VersioningConfiguration"), "Status") or ""
    if status not in ("Enabled", "Suspended"):
        raise IllegalVersioningConfiguration()
    context.store.set_bucket_field(request.bucket, "versioning", status)
    return S3Response(200)


def get_bucket_versioning(context: S3Context, request: S3Request) -> S3Response:
    """No Status until versioning was once enabled, as on S3."""
    status = context.store.bucket(request.bucket).versioning
    content: list[tuple[str, Content]] = [("Status", status)] if status else []
    return S3Response(200, XML, document("VersioningConfiguration", content))


def _keys(context: S3Context, bucket: str, prefix: str, marker: str,
          inclusive: bool) -> list[str]:
    """Every key with a current object or a history, from `marker` on, in byte order."""
    start = (b"[" if inclusive else b"(") + marker.encode() if marker >= prefix else \
        b"[" + prefix.encode()
    found: set[str] = set()
    for versioned in (False, True):
        bound = start
        while True:
            batch = context.store.keys_after(bucket, bound, _BATCH, versioned=versioned)
            found.update(key for key in batch if key.startswith(prefix))
            if len(batch) < _BATCH or not batch[-1].startswith(prefix):
                break
            bound = b"(" + batch[-1].encode()
    return sorted(found, key=lambda key: key.encode())


def list_object_versions(context: S3Context, request: S3Request) -> S3Response:
    query = request.query
    prefix, delimiter = query.get("prefix", ""), query.get("delimiter", "")
    key_marker, id_marker = query.get("key-marker", ""), query.get("version-id-marker", "")
    max_keys = min(decimal(query.get("max-keys", str(MAX_KEYS))) or 0, MAX_KEYS)
    context.store.bucket(request.bucket)
    entries: list[tuple[str, Content]] = []
    prefixes: list[str] = []
    truncated, next_key, next_id = False, "", ""
    for key in _keys(context, request.bucket, prefix, key_marker, bool(id_marker)):
        common = common_prefix(key, prefix, delimiter)
        if common is not None:
            if common not in prefixes and common > key_marker:
                if len(entries) + len(prefixes) >= max_keys:
                    truncated, next_key = True, prefixes[-1] if prefixes else next_key
                    break
                prefixes.append(common)
            continue
        versions = _versions(context, request.bucket, key)
        latest = versions[0].version_id if versions else ""
        if key == key_marker and id_marker:
            ids = [meta.version_id for meta in versions]
            versions = versions[ids.index(id_marker) + 1:] if id_marker in ids else []
        elif key <= key_marker:
            continue
        for meta in versions:
            if len(entries) + len(prefixes) >= max_keys:
                truncated = True
                break
            entries.append(_entry(key, meta, latest=meta.version_id == latest))
            next_key, next_id = key, meta.version_id
        if truncated:
            break
    content: list[tuple[str, Content]] = [
        ("Name", request.bucket), ("Prefix", prefix), ("KeyMarker", key_marker),
        ("VersionIdMarker", id_marker), ("MaxKeys", max_keys)]
    if delimiter:
        content.append(("Delimiter", delimiter))
    content.append(("IsTruncated", truncated))
    if truncated:
        content += [("NextKeyMarker", next_key), ("NextVersionIdMarker", next_id)]
    content += entries
    content += [("CommonPrefixes", [("Prefix", common)]) for common in prefixes]
    return S3Response(200, XML, document("ListVersionsResult", content))


def _versions(context: S3Context, bucket: str, key: str) -> list[ObjectMeta]:
    current = context.store.metas(bucket, [key])[0]
    return ([current] if current else []) + context.store.history(bucket, key)


def _entry(key: str, meta: ObjectMeta, latest: bool) -> tuple[str, Content]:
    common: list[tuple[str, Content]] = [("Key", key), ("VersionId", meta.version_id),
                                         ("IsLatest", latest),
                                         ("LastModified", iso_time(int(meta.last_modified)))]
    if meta.delete_marker:
        return "DeleteMarker", [*common, ("Owner", owner())]
    return "Version", [*common, ("ETag", quoted(meta.etag)), ("Size", meta.size),
                       ("StorageClass", meta.storage_class), ("Owner", owner())]
