"""An X-Ray daemon-compatible UDP receiver: what Powertools' Tracer and the X-Ray SDKs send to
`AWS_XRAY_DAEMON_ADDRESS` (127.0.0.1:2000 by default) reaches ripple's span store.

Each datagram is the daemon protocol's header line, `{"format": "json", "version": 1}`, a
newline, then one segment or independent subsegment document. The receiver runs in the
endpoint's event loop (an asyncio datagram endpoint) and never blocks it: datagrams are queued
and handed to `SegmentIngest` in batches on a worker thread, so a burst is one store commit.
Nothing is answered (the SDKs send and forget); refused documents are counted and logged at
debug level, and a port already taken turns the receiver off with a warning instead of failing
the endpoint.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections import deque

import orjson

from tracing.xray.ingest import SegmentIngest

log = logging.getLogger("ripple.tracing.xray")
MAX_QUEUED = 10_000  # datagrams waiting for the store; beyond this they are dropped
RECEIVE_BUFFER = 4 * 1024 * 1024  # bytes the kernel may hold for us (capped by rmem_max)


class DaemonProtocol(asyncio.DatagramProtocol):
    """Queues datagrams in the loop; one task drains them to the ingest off the loop."""

    def __init__(self, ingest: SegmentIngest) -> None:
        self.ingest = ingest
        self.queue: deque[bytes] = deque()
        self.draining: asyncio.Task[None] | None = None
        self.datagrams_dropped = 0

    def datagram_received(self, data: bytes, addr: object) -> None:
        if len(self.queue) >= MAX_QUEUED:
            self.datagrams_dropped += 1
            self.ingest.count_rejected()
            return
        self.queue.append(data)
        if self.draining is None or self.draining.done():
            self.draining = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        while self.queue:
            batch = list(self.queue)
            self.queue.clear()
            await loop.run_in_executor(None, self._ingest, batch)

    def _ingest(self, datagrams: list[bytes]) -> None:
        documents, unframed = [], 0
        for datagram in datagrams:
            body = document_of(datagram)
            if body is None:
                unframed += 1
            else:
                documents.append(body)
        if unframed:
            self.ingest.count_rejected(unframed)
            log.debug("%d datagrams without the daemon's header line", unframed)
        for refused in self.ingest.put(documents):
            log.debug("segment %s refused: %s", refused.id, refused.message)


def document_of(datagram: bytes) -> bytes | None:
    """The document after the header line, or None when the header is not X-Ray's."""
    header, newline, body = datagram.partition(b"\n")
    if not newline:
        return None
    try:
        fields = orjson.loads(header)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(fields, dict) or fields.get("format") != "json" or fields.get(
            "version") != 1:
        return None
    return body


class XRayDaemon:
    """The receiver's socket and protocol, started and stopped with the endpoint."""

    def __init__(self, transport: asyncio.DatagramTransport, protocol: DaemonProtocol) -> None:
        self.transport = transport
        self.protocol = protocol

    @property
    def port(self) -> int:
        return int(self.transport.get_extra_info("sockname")[1])

    @classmethod
    async def start(cls, ingest: SegmentIngest, host: str, port: int) -> XRayDaemon | None:
        """Listen on host:port (UDP); None, with a warning, if that cannot be done."""
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                             socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
            sock.bind((host, port))
        except OSError as error:
            sock.close()
            log.warning("X-Ray daemon receiver off: cannot listen on UDP %s:%d (%s)", host, port,
                        error.strerror or error)
            return None
        transport, protocol = await loop.create_datagram_endpoint(
            lambda: DaemonProtocol(ingest), sock=sock)
        return cls(transport, protocol)

    async def stop(self) -> None:
        """Close the socket and store what was queued (what is in progress stays with the
        ingest, whose `flush` the endpoint calls last)."""
        self.transport.close()
        draining = self.protocol.draining
        if draining is not None:
            await draining
