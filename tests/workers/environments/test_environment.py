"""Execution environments on their own: a real awslambdaric process, no Redis, no Celery.

Every behaviour is checked on both ways an environment starts: forked from the template
environment, and `python -m awslambdaric` (RIPPLE_ENV_TEMPLATE=false)."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from tests.conftest import wait_for
from tests.workers.environments.conftest import running
from workers.environments.environment import Environment
from workers.environments.output import LOG_EVENT_BYTES
from workers.environments.variables import sandbox_environment

HANDLER = """
import os, time
print("imported")
def handler(event, context):
    if "echo" in event:
        return event
    print("event", event)
    if event.get("raise"):
        raise KeyError("missing")
    if event.get("sleep"):
        time.sleep(event["sleep"])
    if event.get("exit"):
        os._exit(3)
    if event.get("mb"):
        hog = bytearray(event["mb"] * 1024 * 1024)
        hog[::4096] = b"x" * len(hog[::4096])
        time.sleep(0.5)
    return {"pid": os.getpid(), "request_id": context.aws_request_id,
            "remaining_ms": context.get_remaining_time_in_millis()}
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(HANDLER))
    return tmp_path


@pytest.fixture(params=[True, False], ids=["template", "popen"])
def settings(request: pytest.FixtureRequest) -> Settings:
    return Settings(endpoint="http://127.0.0.1:4566", env_template=request.param)


@pytest.fixture
def environment(code: Path, settings: Settings) -> Iterator[Environment]:
    function = FunctionConfig(name="env-test", handler="app.handler", code_sha256="x", timeout=1)
    env = Environment(function, code, settings)
    yield env
    env.stop()


def test_cold_then_warm(environment: Environment) -> None:
    # Given a fresh environment
    # When it is invoked twice
    first = environment.invoke("req-1", b'{"a": 1}')
    second = environment.invoke("req-2", b"{}")
    # Then the first reports an Init Duration and the import output, the second neither
    assert first.ok and first.init_ms is not None and "imported" in first.init_output
    assert second.ok and second.init_ms is None and second.init_output == ""
    # And both ran in the same process, with Lambda's context
    assert json.loads(first.payload)["pid"] == json.loads(second.payload)["pid"]
    assert json.loads(second.payload)["request_id"] == "req-2"
    assert 0 < json.loads(second.payload)["remaining_ms"] <= 1000
    assert "event {}" in second.output and second.max_memory_mb > 0


def test_a_large_event_and_response_cross_the_runtime_api_whole(
        environment: Environment) -> None:
    # Given an event of 3 MB (the Runtime API reads it back in 64 KiB pieces)
    event = {"echo": "".join(f"{n:07d}," for n in range(375_000))}
    # When the handler returns it
    outcome = environment.invoke("req-big", json.dumps(event).encode())
    # Then the response is the event, whole
    assert outcome.ok, outcome.payload[:200]
    assert json.loads(outcome.payload) == event


def test_handler_exception_is_reported_and_environment_stays_warm(
        environment: Environment) -> None:
    outcome = environment.invoke("req-1", b'{"raise": true}')
    assert outcome.error_type == "KeyError"
    assert json.loads(outcome.payload)["errorMessage"] == "'missing'"
    assert environment.alive


def test_timeout_kills_the_environment(environment: Environment) -> None:
    outcome = environment.invoke("req-1", b'{"sleep": 3}')
    assert outcome.error_type == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in json.loads(outcome.payload)["errorMessage"]
    assert "Task timed out" in outcome.output
    assert not environment.alive


def test_runtime_exit_is_an_exit_error(environment: Environment) -> None:
    outcome = environment.invoke("req-1", b'{"exit": true}')
    assert outcome.error_type == "Runtime.ExitError"
    assert "exit status 3" in json.loads(outcome.payload)["errorMessage"]


def test_missing_handler_module_is_an_import_error(code: Path, settings: Settings) -> None:
    function = FunctionConfig(name="f", handler="missing.handler", code_sha256="x")
    env = Environment(function, code, settings)
    outcome = env.invoke("req-1", b"{}")
    assert outcome.error_type == "Runtime.ImportModuleError"
    assert "Unable to import module 'missing'" in json.loads(outcome.payload)["errorMessage"]
    assert not env.alive


def test_memory_over_the_size_is_out_of_memory(code: Path, settings: Settings) -> None:
    # Given a 128 MB function
    function = FunctionConfig(name="f", handler="app.handler", code_sha256="x", memory=128)
    env = Environment(function, code, settings)
    try:
        # When an invocation stays well inside it, then one allocates 400 MB
        fine = env.invoke("req-1", b"{}")
        hog = env.invoke("req-2", b'{"mb": 400}')
    finally:
        env.stop()
    # Then the first fits (the template's shared pages included) and the second is stopped
    assert fine.ok and 0 < fine.max_memory_mb < 128
    assert hog.error_type == "Runtime.OutOfMemory" and not env.alive
    assert "signal: killed" in json.loads(hog.payload)["errorMessage"]


def test_killed_by_a_signal_is_an_exit_error(environment: Environment) -> None:
    # Given a warm environment
    environment.invoke("req-1", b"{}")
    # When something kills its process while it waits for the next event
    os.kill(environment.pid, signal.SIGKILL)
    outcome = environment.invoke("req-2", b"{}")
    # Then the invocation reports Lambda's exit error with the signal
    assert outcome.error_type == "Runtime.ExitError"
    assert "signal: killed" in json.loads(outcome.payload)["errorMessage"]


def test_sandbox_environment_holds_lambdas_variables_and_nothing_else(code: Path,
                                                                     monkeypatch) -> None:
    # Given an orchestrator with secrets in its own environment
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    monkeypatch.setenv("RIPPLE_TOKEN", "secret")
    function = FunctionConfig(name="f", handler="app.handler", code_sha256="x", memory=256,
                              environment={"MINE": "1"})
    # When the sandbox's variables are built
    env = sandbox_environment(function, code, "127.0.0.1:9", Settings(), "abc")
    # Then they are Lambda's, the function's own, and none of the orchestrator's
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/f"
    assert env["LAMBDA_TASK_ROOT"] == str(code) and env["MINE"] == "1"
    assert "REDIS_URL" not in env and "RIPPLE_TOKEN" not in env


IMPORTER = """
import importlib, sys
def handler(event, context):
    results = {}
    for name in event["names"]:
        try:
            importlib.import_module(name)
            results[name] = "ok"
        except ImportError as error:
            results[name] = str(error)
    return {"results": results, "path": sys.path}
"""
LAMBDA_RUNTIME = ["boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six", "urllib3",
                  "awslambdaric"]
WORKER_ONLY = ["celery", "redis", "fastapi", "pydantic", "kombu", "requests", "opentelemetry",
               "wrapt", "google.protobuf", "orchestrator", "tracing", "workers"]


def test_a_handler_imports_what_lambdas_runtime_has_and_not_the_workers_packages(
        code: Path, settings: Settings) -> None:
    # Given a function that vendors a package of its own
    (code / "mylib").mkdir()
    (code / "mylib" / "__init__.py").write_text("")
    (code / "app.py").write_text(textwrap.dedent(IMPORTER))
    function = FunctionConfig(name="f", handler="app.handler", code_sha256="x")
    env = Environment(function, code, settings)
    # When its handler tries to import the runtime's packages, its own, and the worker's
    names = [*LAMBDA_RUNTIME, "mylib", *WORKER_ONLY]
    try:
        outcome = env.invoke("req-1", json.dumps({"names": names}).encode())
    finally:
        env.stop()
    seen = json.loads(outcome.payload)
    # Then the runtime's packages and its own import, the worker's fail as on Lambda
    assert {name: seen["results"][name] for name in [*LAMBDA_RUNTIME, "mylib"]} == dict.fromkeys(
        [*LAMBDA_RUNTIME, "mylib"], "ok")
    for name in WORKER_ONLY:
        assert seen["results"][name] == f"No module named '{name.split('.')[0]}'"
    # And its sys.path is its code, the runtime's folder, the standard library
    runtime_dir = sandbox_environment(function, code, "127.0.0.1:9", settings, "x")["PYTHONPATH"]
    assert seen["path"][:2] == [str(code), runtime_dir]
    assert not any("site-packages" in entry for entry in seen["path"])


def test_importing_a_worker_package_at_init_is_lambdas_import_error(
        code: Path, settings: Settings) -> None:
    # Given a handler module that imports celery, which Lambda's runtime does not have
    (code / "app.py").write_text("import celery\ndef handler(event, context):\n    return 1\n")
    env = Environment(FunctionConfig(name="f", handler="app.handler", code_sha256="x"), code,
                      settings)
    # When it is invoked
    outcome = env.invoke("req-1", b"{}")
    env.stop()
    # Then it fails as on Lambda
    assert outcome.error_type == "Runtime.ImportModuleError"
    assert json.loads(outcome.payload)["errorMessage"] == (
        "Unable to import module 'app': No module named 'celery'")


SPAWNER = """
import subprocess, time
def handler(event, context):
    pids = [subprocess.Popen(["sleep", "60"]).pid for _ in range(3)]
    shell = subprocess.Popen("sleep 60 >/dev/null & sleep 60 >/dev/null & echo $!", shell=True,
                             stdout=subprocess.PIPE)
    pids.append(int(shell.communicate()[0]))
    time.sleep(event.get("sleep", 0))
    return pids
"""


@pytest.mark.parametrize("grace", [0.0, 3.0], ids=["killed", "clean-stop"])
def test_children_a_handler_forks_end_with_the_environment(
        code: Path, settings: Settings, grace: float) -> None:
    # Given a handler that leaves `sleep 60` processes behind
    (code / "app.py").write_text(textwrap.dedent(SPAWNER))
    env = Environment(FunctionConfig(name="f", handler="app.handler", code_sha256="x"), code,
                      settings)
    # When it is invoked twice
    pids = [pid for request in ("req-1", "req-2")
            for pid in json.loads(env.invoke(request, b"{}").payload)]
    assert len(pids) == 8 and all(running(pid) for pid in pids)
    # And the environment stops (killed, or asked to exit cleanly as an idle one is)
    env.stop(grace=grace)
    # Then none of its children remain (a killed process takes a moment to be gone)
    wait_for(lambda: not any(running(pid) for pid in pids), timeout=5)


def test_children_a_handler_forks_end_when_the_invocation_times_out(
        code: Path, settings: Settings) -> None:
    # Given a handler that leaves `sleep 60` processes behind, then outlives its timeout
    (code / "app.py").write_text(textwrap.dedent(SPAWNER.replace(
        "    time.sleep(", "    print(*pids, flush=True)\n    time.sleep(")))
    env = Environment(FunctionConfig(name="f", handler="app.handler", code_sha256="x",
                                     timeout=1), code, settings)
    # When it times out
    outcome = env.invoke("req-1", b'{"sleep": 5}')
    env.stop()
    # Then its children went with it
    assert outcome.error_type == "Sandbox.Timedout"
    pids = [int(pid) for pid in outcome.output.splitlines()[0].split()]
    assert len(pids) == 4
    wait_for(lambda: not any(running(pid) for pid in pids), timeout=5)


def test_fifty_megabytes_printed_in_one_invocation_are_capped_while_read(
        code: Path, settings: Settings) -> None:
    # Given a handler that prints 50 MB, then a last line
    (code / "app.py").write_text(textwrap.dedent("""
        import sys
        def handler(event, context):
            line = "x" * 1023 + "\\n"
            for _ in range(50 * 1024):
                sys.stdout.write(line)
            print("the last line")
            return "done"
        """))
    env = Environment(FunctionConfig(name="f", handler="app.handler", code_sha256="x",
                                     timeout=30), code, settings)
    # When it is invoked, with the worker's allocations traced
    tracemalloc.start()
    try:
        outcome = env.invoke("req-1", b"{}")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        env.stop()
    # Then the output kept is at most 256 KB and a marker, the last line included
    assert outcome.ok and outcome.payload == b'"done"'
    assert len(outcome.output.encode()) < LOG_EVENT_BYTES + 100
    assert outcome.output.endswith("the last line\n")
    dropped = 50 * 1024 * 1024 + len("the last line\n") - LOG_EVENT_BYTES
    assert f"... [ripple: output truncated, {dropped} bytes dropped] ...\n" in outcome.output
    # And the worker never held the 50 MB
    assert peak < 8 * 1024 * 1024
