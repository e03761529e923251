"""A sending thread's keep-alive connection: a server that closes it while idle (uvicorn after
5 s) costs no event. The quiet spell after a burst left each thread's connection idle that long;
every event sent on one then failed with BrokenPipeError, never reaching ripple, and the load
summary counted it as failed while the ledger and the records said all was well."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from orchestrator.load.connection import Connection

IDLE_CLOSE_SECONDS = 0.3


class Answers(BaseHTTPRequestHandler):
    """Answers 202 with keep-alive, and closes a connection idle for IDLE_CLOSE_SECONDS."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_CLOSE_SECONDS
    received: list[bytes] = []

    def do_POST(self) -> None:
        self.received.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(202)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # "Request timed out" on each idle close is the point, not noise


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    Answers.received = []
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def post(connection: Connection, body: bytes) -> int:
    status, _ = connection.request("POST", "/invocations", {"Content-Type": "text/plain"}, body)
    return status


def test_a_connection_the_server_closed_while_idle_is_opened_again(
        server: ThreadingHTTPServer) -> None:
    # Given a connection that has sent one event
    connection = Connection(f"http://127.0.0.1:{server.server_address[1]}")
    assert post(connection, b"1") == 202
    first_socket = connection.http.sock if connection.http else None
    # When it sits idle past the server's keep-alive and then sends two more
    time.sleep(IDLE_CLOSE_SECONDS * 4)
    statuses = [post(connection, b"2"), post(connection, b"3")]
    # Then both are answered on a new connection, and the server got each event once
    assert statuses == [202, 202]
    assert connection.http is not None and connection.http.sock is not first_socket
    assert Answers.received == [b"1", b"2", b"3"]
    connection.close()


def test_sending_fails_once_on_a_stale_connection_and_goes_again(
        server: ThreadingHTTPServer) -> None:
    # Given a connection the server closed, used again before the idle check would look
    connection = Connection(f"http://127.0.0.1:{server.server_address[1]}")
    connection.IDLE_CHECK_SECONDS = 3600.0
    assert post(connection, b"1") == 202
    time.sleep(IDLE_CLOSE_SECONDS * 4)
    # When the next events are sent
    statuses = [post(connection, b"2"), post(connection, b"3")]
    # Then they are answered, each received once
    assert statuses == [202, 202]
    assert Answers.received == [b"1", b"2", b"3"]
    connection.close()


def test_a_server_that_is_gone_is_still_an_error(server: ThreadingHTTPServer) -> None:
    # Given a connection to a server that then stops listening
    connection = Connection(f"http://127.0.0.1:{server.server_address[1]}")
    assert post(connection, b"1") == 202
    server.shutdown()
    server.server_close()
    time.sleep(IDLE_CLOSE_SECONDS * 4)
    # When an event is sent, Then it fails as a connection error, not silently
    with pytest.raises(OSError):
        post(connection, b"2")
    assert connection.http is None
