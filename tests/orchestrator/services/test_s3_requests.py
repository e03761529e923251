"""Properties of S3's request handling on arbitrary input: addressing, aws-chunked bodies,
ranges, preconditions, integrity checks and routing raise nothing but S3's own errors (which
the endpoint answers as `<Error>` documents with a 4xx), whatever a client sends."""

from __future__ import annotations

import contextlib
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.services.s3 import chunked
from orchestrator.services.s3.app import route
from orchestrator.services.s3.errors import InvalidRange, S3Error
from orchestrator.services.s3.headers import (
    byte_range,
    check_preconditions,
    meta_from_request,
    object_headers,
    requested_checksums,
    verify_integrity,
)
from orchestrator.services.s3.payload import ChunkedDecoder, Payload
from orchestrator.services.s3.records import ObjectMeta
from orchestrator.services.s3.requests import BEYOND, S3Request, decimal, from_scope

BOUNDED = settings(max_examples=200, deadline=1_000, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

# Header values as they arrive: latin-1 text, so any byte.
latin1 = st.text(st.characters(max_codepoint=255), max_size=30)
digits = st.text("0123456789", min_size=1, max_size=30) | st.sampled_from(["9" * 5_000,
                                                                           "0" * 5_000 + "1"])
range_headers = st.one_of(
    latin1,
    st.builds(lambda first, last: f"bytes={first}-{last}", digits | st.just("") | latin1,
              digits | st.just("") | latin1),
    st.sampled_from(["bytes=\u00b2-", "bytes=1_0-", "bytes=+1-2", "bytes=0-1,3-4", "bytes=-"]))
HEADER_NAMES = ["range", "if-match", "if-none-match", "if-modified-since", "if-unmodified-since",
                "content-md5", "x-amz-checksum-crc32", "x-amz-checksum-sha1",
                "x-amz-checksum-sha256", "content-type", "content-encoding",
                "x-amz-decoded-content-length", "x-amz-content-sha256", "x-amz-copy-source",
                "x-amz-meta-a", "host", "authorization", "cache-control"]
header_maps = st.dictionaries(st.sampled_from(HEADER_NAMES), latin1 | digits | st.sampled_from(
    ["aws-chunked", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "*", '"etag"', "AAAA",
     "Wed, 21 Oct 2015 07:28:00 GMT", "photos.s3.localhost:4566", "[::1]:4566"]), max_size=6)
queries = st.dictionaries(st.sampled_from(["list-type", "max-keys", "uploads", "tagging", "acl",
                                           "notification", "delete", "X-Amz-Credential",
                                           "response-content-type", "versionId"]),
                          latin1, max_size=3)
chunked_bodies = st.one_of(
    st.binary(max_size=80),
    st.lists(st.tuples(st.text("0123456789abcdefABCDEF;=xz ", max_size=8),
                       st.binary(max_size=12)), max_size=4).map(
        lambda chunks: b"".join(size.encode() + b"\r\n" + data + b"\r\n"
                                for size, data in chunks) + b"0\r\nx-amz-checksum-crc32:AAAA\r\n"))


def request_of(method: str, headers: dict[str, str], query: dict[str, str],
               body: bytes = b"") -> S3Request:
    return S3Request(method=method, bucket="bucket", key="key", query=query, headers=headers,
                     body=body)


@BOUNDED
@given(st.sampled_from(["GET", "PUT", "HEAD", "DELETE", "POST", "PATCH", "BREW"]),
       st.text(max_size=30), st.binary(max_size=30), header_maps, chunked_bodies)
def test_any_request_is_addressed_and_decoded_or_is_an_s3_error(
        method: str, path: str, query: bytes, headers: dict[str, str], body: bytes) -> None:
    scope: dict[str, Any] = {
        "type": "http", "method": method, "path": "/" + path, "query_string": query,
        "headers": [(name.encode(), value.encode("latin-1")) for name, value in headers.items()],
        "client": ("127.0.0.1", 5000)}
    try:
        request = from_scope(scope, body, "us-east-1", "localhost")
    except S3Error:
        return
    with contextlib.suppress(S3Error):
        route(request)


@BOUNDED
@given(range_headers, st.integers(0, 10**6))
def test_any_range_is_bytes_of_the_object_ignored_or_unsatisfiable(header: str,
                                                                   size: int) -> None:
    try:
        selected = byte_range(header, size)
    except InvalidRange:
        return
    if selected is not None:
        first, last = selected
        assert 0 <= first <= last < size


@BOUNDED
@given(st.integers(0, 10**30), st.integers(0, 5_000), st.integers(0, 10**6))
def test_a_well_formed_range_selects_what_http_says(first: int, zeros: int, size: int) -> None:
    # Given bytes=first- with leading zeros, Then the bytes from `first` to the end, or 416
    header = "bytes=" + "0" * zeros + str(first) + "-"
    try:
        assert byte_range(header, size) == (first, size - 1)
    except InvalidRange:
        assert first >= size


@BOUNDED
@given(latin1 | digits)
def test_a_decimal_header_is_its_ascii_digits(text: str) -> None:
    number = decimal(text)
    if number is None:
        assert not (text.isascii() and text.isdigit())
    elif len(text.lstrip("0")) <= 19:
        assert number == int(text.lstrip("0") or "0")
    else:
        assert number == BEYOND


@BOUNDED
@given(st.sampled_from(["GET", "HEAD", "PUT"]), header_maps, queries, st.binary(max_size=40))
def test_conditions_integrity_and_metadata_raise_only_s3_errors(
        method: str, headers: dict[str, str], query: dict[str, str], body: bytes) -> None:
    request = request_of(method, headers, query, body)
    meta = ObjectMeta(size=len(body), etag="0123456789abcdef0123456789abcdef",
                      last_modified=1_700_000_000.5)
    payload = Payload.of(body, requested_checksums(request.headers))
    for check in (lambda: check_preconditions(request, meta),
                  lambda: verify_integrity(request, payload),
                  lambda: object_headers(meta_from_request(request, len(body), "e"), request),
                  lambda: byte_range(request.header("range"), len(body))):
        with contextlib.suppress(S3Error):
            check()


@BOUNDED
@given(chunked_bodies)
def test_any_aws_chunked_body_decodes_or_is_an_s3_error(body: bytes) -> None:
    try:
        payload, trailers = chunked.decode(body)
    except S3Error:
        return
    assert len(payload) <= len(body)
    assert all(name == name.lower() for name in trailers)


@BOUNDED
@given(chunked_bodies, st.lists(st.integers(min_value=0, max_value=200), max_size=6))
def test_the_streaming_decoder_matches_the_whole_body_decoder(body: bytes,
                                                              cuts: list[int]) -> None:
    # Given an aws-chunked body that arrives in pieces cut anywhere
    points = sorted({min(cut, len(body)) for cut in cuts})
    pieces = [body[start:end] for start, end in zip([0, *points], [*points, len(body)],
                                                     strict=True)]
    # When it is decoded piece by piece
    decoder = ChunkedDecoder()
    try:
        streamed = b"".join(decoder.feed(piece) for piece in pieces)
        trailers = decoder.finish()
    except S3Error:
        return
    # Then it gives what decoding the whole body gives, where that decodes (the streaming one
    # also skips a stray CRLF before a chunk header)
    with contextlib.suppress(S3Error):
        assert (streamed, trailers) == chunked.decode(body)
