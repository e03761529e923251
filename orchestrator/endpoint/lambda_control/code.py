"""A function's code as CreateFunction and UpdateFunctionCode carry it: zip bytes, or an
object in ripple's own S3. Either is checked as `unpack_archive` would unpack it (no member
may land outside its folder) and stored under its hash, like the code `ripple deploy` uploads."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import Request

from orchestrator.errors import ArchiveError, InvalidParameterValue
from orchestrator.functions.packaging import check_archive, code_sha256
from orchestrator.services.s3.blobs import BlobStore
from orchestrator.services.s3.errors import S3Error
from orchestrator.services.s3.store import Store

UNZIP_FAILED = "Could not unzip uploaded file. Please check your file, then try to upload again."


def store_code(request: Request, code: dict[str, Any]) -> tuple[str, int]:
    """Store the code a `Code` structure (or UpdateFunctionCode's body) names; its SHA-256
    in hex and its size."""
    if code.get("ImageUri"):
        raise InvalidParameterValue("ripple runs .zip file archives only: PackageType Image "
                                    "and ImageUri are not supported")
    if code.get("ZipFile") is not None:
        blob = _zip_bytes(code["ZipFile"])
    elif code.get("S3Bucket") and code.get("S3Key"):
        blob = _s3_object(request, str(code["S3Bucket"]), str(code["S3Key"]),
                          code.get("S3ObjectVersion"))
    else:
        raise InvalidParameterValue("Please provide a source for function code: ZipFile, or "
                                    "S3Bucket and S3Key")
    try:
        check_archive(blob)
    except ArchiveError as error:
        raise InvalidParameterValue(f"{UNZIP_FAILED} ({error})") from None
    sha256 = code_sha256(blob)
    request.app.state.registry.put_code(sha256, blob)
    return sha256, len(blob)


def _zip_bytes(value: Any) -> bytes:
    if not isinstance(value, str):
        raise InvalidParameterValue(UNZIP_FAILED)
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidParameterValue(f"{UNZIP_FAILED} (ZipFile is not base64)") from None


def _s3_object(request: Request, bucket: str, key: str, version: Any) -> bytes:
    settings = request.app.state.settings
    store = Store(request.app.state.registry.redis, BlobStore(settings.data_dir / "s3"),
                  settings.s3_inline_max)
    try:
        _, body = store.get_object(bucket, key, str(version) if version else None)
    except S3Error as error:
        raise InvalidParameterValue(f"Error occurred while GetObject. S3 Error Code: "
                                    f"{error.code}. S3 Error Message: {error.message}") from None
    if isinstance(body, bytes):
        return body
    with body:
        return body.read()
