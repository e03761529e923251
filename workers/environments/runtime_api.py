"""The Lambda Runtime API (`/2018-06-01/runtime/...`) for one execution environment.

There is no server thread: the thread that invokes the environment drives the sockets itself
(`poll`), because an environment runs one invocation at a time. That keeps a warm invoke to a
send and a receive on loopback. Two facts measured with awslambdaric 4.2.2 shape the writes:
the `/next` answer must carry a Content-Type, and every answer leaves in one `sendall` on a
TCP_NODELAY socket (otherwise Nagle and delayed ACKs add ~40 ms per invoke).
"""

from __future__ import annotations

import contextlib
import selectors
import socket
from collections.abc import Callable
from dataclasses import dataclass, field

API_PREFIX = "/2018-06-01/runtime"
RECV_BYTES = 1 << 16  # below malloc's mmap threshold; a bigger body takes several reads
_REASONS = {200: "OK", 202: "Accepted", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
            413: "Payload Too Large", 500: "Internal Server Error"}


@dataclass
class RuntimeRequest:
    """One HTTP request from the runtime client inside the environment."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    connection: RuntimeConnection

    def respond(self, status: int, body: bytes = b"",
                headers: dict[str, str] | None = None) -> None:
        self.connection.send(status, body, headers or {})


@dataclass
class RuntimeConnection:
    sock: socket.socket
    buffer: bytearray = field(default_factory=bytearray)

    def send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        head = [f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}",
                f"Content-Length: {len(body)}"]
        head += [f"{name}: {value}" for name, value in headers.items()]
        # If the environment went away, the caller notices its exit.
        with contextlib.suppress(OSError):
            self.sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)

    def parse(self) -> list[tuple[str, str, dict[str, str], bytes]]:
        """Complete requests at the front of the buffer, removed from it."""
        requests: list[tuple[str, str, dict[str, str], bytes]] = []
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return requests
            lines = bytes(self.buffer[:end]).decode("latin-1").split("\r\n")
            method, path, _ = (lines[0].split(" ", 2) + ["", ""])[:3]
            headers = {}
            for line in lines[1:]:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0") or 0)
            if len(self.buffer) < end + 4 + length:
                return requests
            body = bytes(self.buffer[end + 4 : end + 4 + length])
            del self.buffer[: end + 4 + length]
            requests.append((method, path, headers, body))


class RuntimeApiServer:
    """A loopback listener plus the connections the runtime client opens to it."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self._listener.setblocking(False)
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._listener, selectors.EVENT_READ, None)
        self._readers: dict[int, Callable[[], None]] = {}
        self.address = f"127.0.0.1:{self._listener.getsockname()[1]}"

    def add_reader(self, fileobj: int, on_readable: Callable[[], None]) -> None:
        """Call `on_readable` whenever `fileobj` (e.g. the environment's stdout) has data."""
        self._readers[fileobj] = on_readable
        self._selector.register(fileobj, selectors.EVENT_READ, "reader")

    def remove_reader(self, fileobj: int) -> None:
        if self._readers.pop(fileobj, None) is not None:
            self._selector.unregister(fileobj)

    def poll(self, timeout: float) -> list[RuntimeRequest]:
        """Wait up to `timeout` seconds; return the requests that arrived complete."""
        requests: list[RuntimeRequest] = []
        for key, _ in self._selector.select(timeout):
            if key.fileobj is self._listener:
                self._accept()
            elif key.data == "reader":
                self._readers[key.fd]()
            else:
                connection: RuntimeConnection = key.data
                try:  # 64 KiB: a 1 MiB recv buffer is an mmap per call (~12 µs)
                    chunk = connection.sock.recv(RECV_BYTES)
                except OSError:
                    chunk = b""
                if not chunk:
                    self._drop(connection)
                    continue
                connection.buffer += chunk
                for method, path, headers, body in connection.parse():
                    requests.append(RuntimeRequest(method, path, headers, body, connection))
        return requests

    def _accept(self) -> None:
        try:
            sock, _ = self._listener.accept()
        except BlockingIOError:
            return
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.setblocking(True)
        self._selector.register(sock, selectors.EVENT_READ, RuntimeConnection(sock))

    def _drop(self, connection: RuntimeConnection) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._selector.unregister(connection.sock)
        connection.sock.close()

    def close(self) -> None:
        for key in list(self._selector.get_map().values()):
            if isinstance(key.data, RuntimeConnection):
                key.data.sock.close()
        self._selector.close()
        self._listener.close()
