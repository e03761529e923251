"""The keep-alive HTTP/1.1 connection each of a load run's sending threads holds.

`http.client` and not `httpx.Client`: against a no-op target one process sends ~10,800
requests/s with it and ~2,000/s with httpx (see generator.py).
"""

from __future__ import annotations

import http.client
import select
import time
from urllib.parse import urlsplit

REQUEST_TIMEOUT = 120.0  # s: a sync invoke may run for minutes; a load run's handlers should not


class Connection:
    """One keep-alive HTTP/1.1 connection, opened again after any failure.

    A server closes a kept-alive connection that sat idle (uvicorn after 5 s), and a slow
    stretch of an open-loop profile leaves connections idle that long: after a 60/s burst,
    at 1/s each of 32 threads sends every 32 s. Sent on such a connection, a request never
    reached ripple (BrokenPipeError), yet counted as failed. So a connection idle for
    `IDLE_CHECK_SECONDS` is first checked for the server's close, and a request whose sending
    fails on a reused connection, before any answer, is sent once more on a new one.
    """

    IDLE_CHECK_SECONDS = 1.0

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.http: http.client.HTTPConnection | None = None
        self.used = 0.0  # monotonic s of the last answer on this connection

    def request(self, method: str, path: str, headers: dict[str, str],
                body: bytes) -> tuple[int, str | None]:
        if self.http is not None and time.monotonic() - self.used >= self.IDLE_CHECK_SECONDS \
                and self.closed_by_server():
            self.close()
        reused = self.http is not None
        try:
            connection = self.open()
            try:
                connection.request(method, path, body=body, headers=headers)
            except OSError:
                if not reused:
                    raise
                self.close()  # the server let it go meanwhile: nothing of it was answered
                connection = self.open()
                connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            self.used = time.monotonic()
            return response.status, response.getheader("x-amz-function-error")
        except (OSError, http.client.HTTPException):
            self.close()
            raise

    def open(self) -> http.client.HTTPConnection:
        if self.http is None:
            self.http = http.client.HTTPConnection(self.host, self.port, timeout=REQUEST_TIMEOUT)
        return self.http

    def closed_by_server(self) -> bool:
        """An idle keep-alive socket that reads as ready holds the server's close (EOF): no
        answer is due on it."""
        sock = self.http.sock if self.http is not None else None
        if sock is None:
            return True
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))

    def close(self) -> None:
        if self.http is not None:
            self.http.close()
            self.http = None
