"""`aws-chunked` request bodies, which SDKs send for streaming uploads.

Each chunk is `<hex size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n`; a zero-size chunk ends the
data and may be followed by trailing headers (`x-amz-checksum-crc32:<base64>\\r\\n`) and an
empty line. Signatures are not checked (ripple checks no signature); they are stripped.
"""

from __future__ import annotations

from collections.abc import Mapping

from orchestrator.services.s3.errors import IncompleteBody, InvalidArgument


def is_aws_chunked(headers: Mapping[str, str]) -> bool:
    """True when the body is framed as aws-chunked (by its content encoding or signature)."""
    encodings = [part.strip() for part in headers.get("content-encoding", "").split(",")]
    return ("aws-chunked" in encodings
            or headers.get("x-amz-content-sha256", "").startswith("STREAMING-"))


def decode(raw: bytes) -> tuple[bytes, dict[str, str]]:
    """The payload and the trailing headers (lower-case names) of an aws-chunked body."""
    chunks: list[bytes] = []
    position = 0
    while True:
        end = raw.find(b"\r\n", position)
        if end < 0:
            raise IncompleteBody("The aws-chunked body ended inside a chunk header")
        size_text = raw[position:end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise InvalidArgument(f"Invalid aws-chunked chunk size {size_text!r}") from None
        position = end + 2
        if size == 0:
            break
        chunk = raw[position:position + size]
        if len(chunk) < size:
            raise IncompleteBody("The aws-chunked body ended inside a chunk")
        chunks.append(chunk)
        position += size
        if raw[position:position + 2] == b"\r\n":
            position += 2
    return b"".join(chunks), _trailers(raw[position:])


def _trailers(rest: bytes) -> dict[str, str]:
    trailers: dict[str, str] = {}
    for line in rest.split(b"\r\n"):
        if b":" not in line:
            continue
        name, value = line.split(b":", 1)
        name_text = name.decode("latin-1").strip().lower()
        if name_text != "x-amz-trailer-signature":
            trailers[name_text] = value.decode("latin-1").strip()
    return trailers


def content_encoding_without_chunking(value: str) -> str:
    """The object's own Content-Encoding: the header minus the `aws-chunked` framing."""
    kept = [part.strip() for part in value.split(",")
            if part.strip() and part.strip() != "aws-chunked"]
    return ",".join(kept)
