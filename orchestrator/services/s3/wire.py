"""The S3 endpoint's side of the wire: bodies read (documents whole and bounded, object data a
chunk at a time, decoded, hashed and spilled to a file as it arrives) and answers sent (streamed
from a file when they are an object's data)."""

from __future__ import annotations

from collections.abc import Iterable

import anyio.to_thread
from starlette.types import Receive, Scope, Send

from orchestrator.services.s3.blobs import CHUNK, BlobStore
from orchestrator.services.s3.chunked import is_aws_chunked
from orchestrator.services.s3.errors import EntityTooLarge
from orchestrator.services.s3.headers import requested_checksums
from orchestrator.services.s3.payload import ChunkedDecoder, Payload, PayloadWriter
from orchestrator.services.s3.records import MAX_OBJECT_SIZE
from orchestrator.services.s3.requests import (
    S3Request,
    S3Response,
    check_decoded_length,
    decimal,
)

# aws-chunked framing around a document at most this much bigger than the document itself.
FRAMING_ALLOWANCE = 1024 * 1024
# The largest body read whole into memory: XML documents (an object's data streams instead).
MAX_DOCUMENT_SIZE = 16 * 1024 * 1024


def _declared_size(headers: dict[str, str]) -> int:
    declared = headers.get("x-amz-decoded-content-length", "")
    if not declared and not is_aws_chunked(headers):
        declared = headers.get("content-length", "")
    size = decimal(declared) or 0
    if size > MAX_OBJECT_SIZE:
        raise EntityTooLarge(ProposedSize=declared, MaxSizeAllowed=str(MAX_OBJECT_SIZE))
    return size


async def read_body(scope: Scope, receive: Receive) -> bytes:
    """A whole body that is not an object's data (XML documents); EntityTooLarge over
    MAX_DOCUMENT_SIZE."""
    headers = _raw_headers(scope)
    if _declared_size(headers) > MAX_DOCUMENT_SIZE:
        raise EntityTooLarge(MaxSizeAllowed=str(MAX_DOCUMENT_SIZE))
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_DOCUMENT_SIZE + FRAMING_ALLOWANCE:
            raise EntityTooLarge(MaxSizeAllowed=str(MAX_DOCUMENT_SIZE))
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


async def receive_payload(request: S3Request, scope: Scope, receive: Receive,
                          blobs: BlobStore, inline_max: int) -> Payload:
    """An object's data, decoded, hashed and spilled to a file as it arrives (a chunk at a
    time: the endpoint never holds a large object)."""
    raw_headers = _raw_headers(scope)
    _declared_size(raw_headers)
    decoder = ChunkedDecoder() if is_aws_chunked(raw_headers) else None
    writer = PayloadWriter(blobs, inline_max, requested_checksums(request.headers))
    pending: list[bytes] = []
    held = 0
    try:
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            if decoder is not None:
                chunk = decoder.feed(chunk)
            pending.append(chunk)
            held += len(chunk)
            more = message.get("more_body", False)
            if held >= CHUNK or not more:
                data, pending, held = b"".join(pending), [], 0
                await anyio.to_thread.run_sync(writer.write, data)
                if writer.size > MAX_OBJECT_SIZE:
                    raise EntityTooLarge(MaxSizeAllowed=str(MAX_OBJECT_SIZE))
            if not more:
                break
        if decoder is not None:
            request.headers.update(decoder.finish())
            check_decoded_length(request.headers, writer.size)
        return writer.finish()
    except BaseException:
        writer.discard()
        raise


def _raw_headers(scope: Scope) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1")
            for name, value in scope["headers"]}


async def respond(send: Send, request: S3Request, response: S3Response) -> None:
    headers = {**response.headers, "x-amz-request-id": request.request_id,
               "x-amz-id-2": request.host_id}
    body = response.body
    if response.status in (204, 304):
        headers.pop("content-length", None)
        body = b""
    else:
        headers.setdefault("content-length", str(len(body)))
    stream = response.stream
    if request.method == "HEAD" or response.status in (204, 304):
        _closed(stream)
        body, stream = b"", None
    await send({"type": "http.response.start", "status": response.status,
                "headers": [(name.encode("latin-1"), value.encode("latin-1"))
                            for name, value in headers.items()]})
    if stream is None:
        await send({"type": "http.response.body", "body": body})
        return
    chunks = iter(stream)
    try:
        while True:
            data = await anyio.to_thread.run_sync(next, chunks, None)
            if data is None:
                break
            await send({"type": "http.response.body", "body": data, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
    finally:
        _closed(chunks)


def _closed(stream: Iterable[bytes] | None) -> None:
    """Close a stream that is not (or no more) read: its file with it."""
    close = getattr(stream, "close", None)
    if close is not None:
        close()
