"""An object's body as it arrives: decoded from aws-chunked framing on the fly, hashed (MD5 for
the ETag, and the additional checksums the client named) and kept in memory while small, else
spilled to a temporary file, so a 5 GB PUT costs the endpoint about one chunk of memory."""

from __future__ import annotations

import base64
import hashlib
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import crc32c

from orchestrator.services.s3.blobs import BlobStore
from orchestrator.services.s3.errors import IncompleteBody, InvalidArgument

# The additional checksums S3 computes itself; CRC64NVME is taken as given.
COMPUTED = ("crc32", "crc32c", "sha1", "sha256")


class _Crc:
    def __init__(self, function: Callable[[bytes, int], int]) -> None:
        self.function, self.value = function, 0

    def update(self, data: bytes) -> None:
        self.value = self.function(data, self.value)

    def digest(self) -> bytes:
        return self.value.to_bytes(4, "big")


def hasher(algorithm: str) -> Any:
    """An incremental hash with `update` and `digest` for one of COMPUTED."""
    if algorithm == "crc32":
        return _Crc(zlib.crc32)
    if algorithm == "crc32c":
        return _Crc(lambda data, value: crc32c.crc32c(data, value=value))
    return hashlib.new(algorithm)


def checksum(algorithm: str, parts: Iterable[bytes]) -> str:
    """The base64 checksum S3 answers with, of the concatenated `parts`."""
    digest = hasher(algorithm)
    for part in parts:
        digest.update(part)
    return base64.b64encode(digest.digest()).decode()


@dataclass
class Payload:
    """A received body: `data` when small, else `temp` (a file in the blob store's tmp/)."""

    size: int
    md5: bytes
    checksums: dict[str, str] = field(default_factory=dict)  # computed, base64
    data: bytes | None = None
    temp: Path | None = None

    @classmethod
    def of(cls, data: bytes, algorithms: Iterable[str] = COMPUTED) -> Payload:
        return cls(len(data), hashlib.md5(data).digest(),
                   {name: checksum(name, [data]) for name in algorithms}, data)


class ChunkedDecoder:
    """aws-chunked framing removed incrementally; `trailers` once the zero chunk has come."""

    def __init__(self) -> None:
        self.buffer = b""
        self.left = 0  # bytes of the current chunk still to come
        self.done = False
        self.trailers: dict[str, str] = {}

    def feed(self, data: bytes) -> bytes:
        self.buffer += data
        out: list[bytes] = []
        while self.buffer and not self.done:
            if self.left:
                taken = self.buffer[:self.left]
                out.append(taken)
                self.left -= len(taken)
                self.buffer = self.buffer[len(taken):]
                continue
            if self.buffer.startswith(b"\r\n"):
                self.buffer = self.buffer[2:]
                continue
            end = self.buffer.find(b"\r\n")
            if end < 0:
                if len(self.buffer) > 4096:
                    raise InvalidArgument("Invalid aws-chunked chunk header")
                break
            size_text = self.buffer[:end].split(b";", 1)[0].strip()
            try:
                self.left = int(size_text, 16)
            except ValueError:
                raise InvalidArgument(f"Invalid aws-chunked chunk size {size_text!r}") from None
            self.buffer = self.buffer[end + 2:]
            self.done = self.left == 0
        return b"".join(out)

    def finish(self) -> dict[str, str]:
        if not self.done:
            raise IncompleteBody("The aws-chunked body ended inside a chunk")
        for line in self.buffer.split(b"\r\n"):
            name, colon, value = line.partition(b":")
            name_text = name.decode("latin-1").strip().lower()
            if colon and name_text != "x-amz-trailer-signature":
                self.trailers[name_text] = value.decode("latin-1").strip()
        return self.trailers


class PayloadWriter:
    """Receives a body chunk by chunk; `finish` gives the Payload, `discard` drops it."""

    def __init__(self, blobs: BlobStore, inline_max: int, algorithms: Iterable[str]) -> None:
        self.blobs, self.inline_max = blobs, inline_max
        self.md5 = hashlib.md5()
        self.hashers = {name: hasher(name) for name in algorithms if name in COMPUTED}
        self.memory: list[bytes] = []
        self.size = 0
        self.temp: Path | None = None
        self.file: BinaryIO | None = None

    def write(self, data: bytes) -> None:
        self.md5.update(data)
        for digest in self.hashers.values():
            digest.update(data)
        self.size += len(data)
        if self.file is not None:
            self.file.write(data)
            return
        self.memory.append(data)
        if self.size > self.inline_max:
            self.temp, self.file = self.blobs.temp()
            for held in self.memory:
                self.file.write(held)
            self.memory = []

    def finish(self) -> Payload:
        checksums = {name: base64.b64encode(digest.digest()).decode()
                     for name, digest in self.hashers.items()}
        if self.file is not None:
            self.file.close()
            return Payload(self.size, self.md5.digest(), checksums, temp=self.temp)
        return Payload(self.size, self.md5.digest(), checksums, data=b"".join(self.memory))

    def discard(self) -> None:
        if self.file is not None:
            self.file.close()
        if self.temp is not None:
            self.blobs.discard(self.temp)
