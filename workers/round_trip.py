"""The round trip an invocation's writes leave in: a redis-py pipeline, sent and read leaner.

Each invocation queues 10-12 commands (its log and record, counters, ledger, warm token, ack,
the next take) and sends them at once. redis-py 8 spends more on that than Redis does: each
command is checked for HIMPORT SET on the way out and each reply goes through the response
callbacks on the way back. This pipeline packs the commands with hiredis in one go and hands
the replies back as Redis sent them (no callbacks: EXPIRE answers 1, not True; nothing in the
worker reads them but the drain's take). The rest is redis-py's own: the connection pool,
retries on a dropped connection, and an error reply raised once every reply is read.
Measured here with redis-py 8.1: 9 commands and an EVAL took 101-117 µs of CPU through
`Pipeline.execute`, 62-69 µs this way.
"""

from __future__ import annotations

from typing import Any

import hiredis
from redis import Redis
from redis.client import Pipeline
from redis.exceptions import DataError, ResponseError


class RoundTrip(Pipeline):
    """A non-transactional pipeline whose replies are Redis's own."""

    def _execute_pipeline(self, connection: Any, commands: list[tuple[tuple[Any, ...], Any]],
                          raise_on_error: bool) -> list[Any]:
        connection.send_packed_command([b"".join([_packed(args) for args, _ in commands])])
        replies: list[Any] = []
        for _ in commands:
            try:
                replies.append(connection.read_response())
            except ResponseError as error:  # read every reply before raising: the socket
                replies.append(error)       # goes back to the pool in step
        if raise_on_error:
            self.raise_first_error(commands, replies)  # type: ignore[no-untyped-call]
        return replies


def round_trip(redis: Redis) -> RoundTrip:
    """An empty round trip on `redis`'s connection pool."""
    return RoundTrip(redis.connection_pool, redis.response_callbacks, transaction=False,
                     shard_hint=None)


def _packed(args: tuple[Any, ...]) -> bytes:
    """One command as redis-py would send it: a two-word name ("SCRIPT LOAD") split, a
    bytearray as bytes, anything else Redis cannot take refused with redis-py's DataError."""
    name = args[0]
    if (b" " if isinstance(name, bytes) else " ") in name:
        args = (*name.split(), *args[1:])
    packed: bytes
    try:
        packed = hiredis.pack_command(args)
        return packed
    except TypeError:
        pass
    try:  # hiredis takes bytes and memoryviews, not bytearrays
        converted: Any = tuple(bytes(arg) if isinstance(arg, bytearray) else arg for arg in args)
        packed = hiredis.pack_command(converted)
        return packed
    except TypeError as error:
        raise DataError(f"{args[0]!r}: {error}") from error
