"""The X-Ray daemon's variables in an execution environment: set as Lambda sets them, pointing
at the endpoint's receiver, and left out when the receiver is off."""

from __future__ import annotations

from pathlib import Path

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from workers.environments.variables import sandbox_environment

FUNCTION = FunctionConfig(name="f", handler="app.handler", code_sha256="x")


def test_the_sdk_finds_the_endpoints_xray_daemon_receiver(tmp_path: Path) -> None:
    # Given an endpoint on 127.0.0.1 with its X-Ray daemon receiver on port 2999
    settings = Settings(endpoint="http://127.0.0.1:4566", xray_daemon_port=2999)
    # When an environment's variables are built
    env = sandbox_environment(FUNCTION, tmp_path, "127.0.0.1:9", settings, "abc")
    # Then they name the receiver as Lambda names its daemon
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "127.0.0.1:2999"
    assert (env["_AWS_XRAY_DAEMON_ADDRESS"], env["_AWS_XRAY_DAEMON_PORT"]) == ("127.0.0.1",
                                                                              "2999")
    assert env["AWS_XRAY_CONTEXT_MISSING"] == "LOG_ERROR"


def test_a_remote_workers_environments_send_to_the_endpoints_host(tmp_path: Path) -> None:
    # Given a worker on another machine, pointed at the endpoint by name
    settings = Settings(endpoint="http://ripple.internal:4566", xray_daemon_port=2000)
    # When an environment's variables are built, Then the daemon is on the endpoint's host
    env = sandbox_environment(FUNCTION, tmp_path, "127.0.0.1:9", settings, "abc")
    assert env["AWS_XRAY_DAEMON_ADDRESS"] == "ripple.internal:2000"


def test_no_xray_variables_when_the_receiver_is_off(tmp_path: Path) -> None:
    # Given the receiver turned off (port 0)
    settings = Settings(xray_daemon_port=0)
    # When an environment's variables are built, Then none of the daemon's are set
    env = sandbox_environment(FUNCTION, tmp_path, "127.0.0.1:9", settings, "abc")
    assert not {name for name in env if "XRAY" in name}
