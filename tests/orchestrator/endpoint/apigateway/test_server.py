"""Where the stage listens, and how `ripple up` / `ripple status` report it."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import psutil

from orchestrator.endpoint.apigateway.server import bind_stage
from orchestrator.settings import Settings
from tests.conftest import Deploy, Ripple, free_port, start_ripple, stop_ripple, wait_for


def test_the_stage_listens_on_loopback_only(ripple: Ripple) -> None:
    # Given the session's ripple, started with no --host
    port = urlsplit(ripple.stage_url).port
    # When we look for the stage's listening socket
    listening = [conn.laddr for conn in psutil.net_connections(kind="tcp")
                 if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port]
    # Then it is bound to 127.0.0.1 and nothing else
    assert listening and {address.ip for address in listening} == {"127.0.0.1"}


def test_status_and_the_cli_name_the_stage_and_its_routes(ripple: Ripple,
                                                          deploy: Deploy) -> None:
    # Given a function with a route
    name = deploy("def handler(event, context):\n    return 'ok'\n",
                  events=[{"http": {"method": "GET", "path": "/status-check/{id}"}}])
    # When the status API and `ripple status` are asked
    stage = ripple.api("GET", "/_ripple/api/status")["apigateway"]
    printed = ripple.cli("status", check=True).stdout
    # Then both give the stage's URL and the route
    assert stage["url"] == ripple.stage_url and stage["reason"] is None
    assert {"route": "GET /status-check/{id}", "function": name,
            "payload_format": "2.0"} in stage["routes"]
    assert f"API Gateway stage at {ripple.stage_url}" in printed
    assert "GET /status-check/{id}" in printed


def test_api_port_0_turns_the_stage_off(tmp_path: Path) -> None:
    # Given ripple started with --api-port 0
    stack = start_ripple(tmp_path, "--api-port", "0")
    try:
        # Then the status says the stage is off and why, and `ripple up` said so too
        stage = stack.api("GET", "/_ripple/api/status")["apigateway"]
        assert stage["url"] is None and "api_port is 0" in stage["reason"]
        wait_for(lambda: "API Gateway stage: off" in stack.log.read_text())
    finally:
        stop_ripple(stack)


def test_a_taken_port_leaves_the_stage_off_and_says_why() -> None:
    # Given a port something else already listens on
    settings = Settings(api_port=free_port())
    taken, _ = bind_stage(settings)
    assert taken is not None
    try:
        # When the stage tries to bind it
        sock, status = bind_stage(settings)
        # Then there is no stage, and the reason names the port and the way out
        assert sock is None and status.url is None
        assert str(settings.api_port) in status.reason and "--api-port" in status.reason
    finally:
        taken.close()
