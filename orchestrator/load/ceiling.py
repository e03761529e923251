"""The generator's own ceiling: how many requests/s it sends to a target that does nothing.

The no-op target is a raw asyncio protocol answering `202` with an empty body on keep-alive
connections (~20,000 answers/s on one core, well above what the generator sends), run in its
own process so the figure is the generator's, not the server's. A load run whose target rate is
near this ceiling is measuring the generator, not ripple.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import socket
from dataclasses import replace
from typing import Any

from orchestrator.load.generator import Generator, Plan, Sample

ANSWER = b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n"


class _NoOp(asyncio.Protocol):
    def __init__(self) -> None:
        self.buffer = b""

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while (end := self.buffer.find(b"\r\n\r\n")) >= 0:
            head = self.buffer[:end].lower()
            length = 0
            if b"content-length:" in head:
                length = int(head.split(b"content-length:", 1)[1].split(b"\r\n", 1)[0])
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length:]
            self.transport.write(ANSWER)


def _serve(sock: socket.socket) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_NoOp, sock=sock)
        await server.serve_forever()

    asyncio.run(main())


class NoOpServer:
    """A no-op HTTP target on 127.0.0.1, in a process of its own."""

    def __enter__(self) -> str:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(1024)
        self.process = multiprocessing.get_context("spawn").Process(
            target=_serve, args=(self.sock,), daemon=True)
        self.process.start()
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.join()
        self.sock.close()


def measure(processes: int = 2, concurrency: int = 32, seconds: float = 3.0) -> dict[str, float]:
    """Closed-loop async invokes against the no-op target: requests/s and latency p50/p99."""
    samples: list[Sample] = []
    with NoOpServer() as url:
        plan = replace(Plan(target="invoke:noop", endpoint=url), concurrency=concurrency,
                       duration=seconds, processes=processes)
        generator = Generator(plan)
        generator.run(samples.extend)
    ok = sorted(sample.latency_ms for sample in samples if not sample.error)
    if not samples:
        return {"requests_per_s": 0.0, "p50_ms": 0.0, "p99_ms": 0.0, "errors": 0}
    first = min(sample.sent for sample in samples)
    last = max(sample.sent + sample.latency_ms / 1000 for sample in samples)
    return {"requests_per_s": len(samples) / max(last - first, 1e-9),
            "p50_ms": ok[len(ok) // 2] if ok else 0.0,
            "p99_ms": ok[min(len(ok) - 1, int(len(ok) * 0.99))] if ok else 0.0,
            "errors": float(sum(1 for sample in samples if sample.error)),
            "processes": float(processes), "concurrency": float(concurrency)}
