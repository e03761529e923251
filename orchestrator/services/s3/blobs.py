"""Object bodies too big for Redis, as files under `<data_dir>/s3/`.

A body is written to `tmp/` as it arrives, renamed into `objects/` once whole, and only then
named by the object's metadata in Redis: a crash leaves at worst an unnamed file, never metadata
naming a missing or partial one. Files are immutable once committed, so a copy is a hard link,
and a GET that has opened one reads it whole even if the object is replaced meanwhile.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

# Reads and writes move this much at a time: the endpoint holds about this much per request.
CHUNK = 1024 * 1024


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.objects = root / "objects"
        self.tmp = root / "tmp"
        for folder in (self.objects, self.tmp):
            folder.mkdir(parents=True, exist_ok=True)

    def temp(self) -> tuple[Path, BinaryIO]:
        """A new temporary file, open for writing."""
        path = self.tmp / uuid.uuid4().hex
        return path, path.open("wb")

    def commit(self, temp: Path) -> str:
        """Move a whole temporary file into place; its blob name."""
        name = uuid.uuid4().hex
        os.replace(temp, self.path(name))
        return name

    def link(self, name: str) -> str:
        """A second name for a committed blob (a copy that costs nothing)."""
        copy = uuid.uuid4().hex
        os.link(self.path(name), self.path(copy))
        return copy

    def write(self, data: bytes) -> str:
        """A committed blob holding `data`."""
        temp, file = self.temp()
        with file:
            file.write(data)
        return self.commit(temp)

    def concatenate(self, names: Iterable[tuple[str, int, int]],
                    observe: Callable[[bytes], None] | None = None) -> Path:
        """A temporary file of the given (blob, first byte, length) slices, in order; each
        chunk is also shown to `observe` (a hash) on its way."""
        temp, output = self.temp()
        with output:
            for name, first, length in names:
                with self.path(name).open("rb") as part:
                    part.seek(first)
                    left = length
                    while left > 0:
                        data = part.read(min(CHUNK, left))
                        if not data:
                            break
                        output.write(data)
                        if observe is not None:
                            observe(data)
                        left -= len(data)
        return temp

    def path(self, name: str) -> Path:
        if not name or "/" in name or name.startswith("."):
            raise ValueError(f"not a blob name: {name!r}")
        return self.objects / name

    def open(self, name: str) -> BinaryIO:
        return self.path(name).open("rb")

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    def remove(self, *names: str) -> None:
        for name in names:
            if name:
                with contextlib.suppress(FileNotFoundError):
                    self.path(name).unlink()

    def discard(self, temp: Path) -> None:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()


def read_slices(file: BinaryIO, first: int, length: int) -> Iterable[bytes]:
    """`length` bytes of an open file from `first`, a chunk at a time; closes it at the end."""
    with file:
        file.seek(first)
        left = length
        while left > 0:
            data = file.read(min(CHUNK, left))
            if not data:
                return
            left -= len(data)
            yield data
