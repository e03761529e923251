"""Object and bucket tagging: Put/Get/DeleteObjectTagging and Put/Get/DeleteBucketTagging.
Tags are kept with the object's version (or the bucket's record)."""

from __future__ import annotations

from orchestrator.services.s3.buckets import XML
from orchestrator.services.s3.context import S3Context
from orchestrator.services.s3.errors import InvalidTag, MalformedXML, NoSuchTagSet
from orchestrator.services.s3.headers import check_tags
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import S3Request, S3Response
from orchestrator.services.s3.xml import Content, document, parse, text

MAX_BUCKET_TAGS = 50


def tags_from_xml(body: bytes) -> dict[str, str]:
    root = parse(body, "Tagging")
    tag_set = root.find("TagSet")
    if tag_set is None:
        raise MalformedXML()
    tags: dict[str, str] = {}
    for tag in tag_set.findall("Tag"):
        key, value = text(tag, "Key"), text(tag, "Value")
        if key is None or value is None:
            raise MalformedXML()
        if key in tags:
            raise InvalidTag("Cannot provide multiple Tags with the same key", TagKey=key)
        tags[key] = value
    return tags


def tagging_document(tags: dict[str, str]) -> bytes:
    tag_set: list[tuple[str, Content]] = [("Tag", [("Key", key), ("Value", value)])
                                          for key, value in tags.items()]
    return document("Tagging", [("TagSet", tag_set)])


def _version_headers(meta: ObjectMeta) -> dict[str, str]:
    return {"x-amz-version-id": meta.version_id} if meta.version_id != "null" else {}


def _set_object_tags(context: S3Context, request: S3Request, tags: dict[str, str]) -> ObjectMeta:
    def change(meta: ObjectMeta) -> None:
        meta.tags = tags

    return context.store.update_meta(request.bucket, request.key,
                                     request.query.get("versionId"), change)


def put_object_tagging(context: S3Context, request: S3Request) -> S3Response:
    tags = tags_from_xml(request.body)
    check_tags(tags)
    meta = _set_object_tags(context, request, tags)
    return S3Response(200, _version_headers(meta))


def get_object_tagging(context: S3Context, request: S3Request) -> S3Response:
    meta = context.store.head_object(request.bucket, request.key,
                                     request.query.get("versionId"))
    return S3Response(200, {**XML, **_version_headers(meta)}, tagging_document(meta.tags))


def delete_object_tagging(context: S3Context, request: S3Request) -> S3Response:
    meta = _set_object_tags(context, request, {})
    return S3Response(204, _version_headers(meta))


def put_bucket_tagging(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    tags = tags_from_xml(request.body)
    if len(tags) > MAX_BUCKET_TAGS:
        raise InvalidTag("Bucket tag count cannot be greater than 50")
    for key, value in tags.items():
        if not key or len(key) > 128 or len(value) > 256 or key.startswith("aws:"):
            raise InvalidTag(TagKey=key, TagValue=value)
    context.store.set_bucket_field(request.bucket, "tags", tags)
    return S3Response(204)


def get_bucket_tagging(context: S3Context, request: S3Request) -> S3Response:
    tags = context.store.bucket(request.bucket).tags
    if not tags:
        raise NoSuchTagSet(BucketName=request.bucket)
    return S3Response(200, XML, tagging_document(tags))


def delete_bucket_tagging(context: S3Context, request: S3Request) -> S3Response:
    context.store.bucket(request.bucket)
    context.store.set_bucket_field(request.bucket, "tags", None)
    return S3Response(204)
