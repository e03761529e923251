"""The template environment (zygote): real template and environment processes, no Redis."""

from __future__ import annotations

import json
import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestrator.functions.config import FunctionConfig
from orchestrator.settings import Settings
from tests.conftest import wait_for
from tests.workers.environments.conftest import OtlpSink, running
from workers.environments import launcher as templates
from workers.environments.environment import Environment
from workers.environments.launcher import ForkedProcess, PopenProcess, Template, shared_template

READER = """
import os, sys
def handler(event, context):
    return {"environ": dict(os.environ), "cwd": os.getcwd(), "path0": sys.path[0],
            "pid": os.getpid(), "sid": os.getsid(0)}
"""


@pytest.fixture
def code(tmp_path: Path) -> Path:
    (tmp_path / "app.py").write_text(textwrap.dedent(READER))
    return tmp_path


@pytest.fixture
def fresh_template(monkeypatch: pytest.MonkeyPatch) -> Iterator[Template]:
    """This test process's template, started anew for the test and stopped after it."""
    template = Template()
    monkeypatch.setattr(templates, "_shared", (os.getpid(), template))
    yield template
    template.stop()


def start(code: Path, **config: object) -> Environment:
    function = FunctionConfig(name="tmpl", handler="app.handler", code_sha256="x",
                              **config)  # type: ignore[arg-type]
    return Environment(function, code, Settings(endpoint="http://127.0.0.1:4566"))


def test_an_environment_forked_from_the_template_sees_only_its_own_variables(
        code: Path, fresh_template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker with secrets in its own environment
    monkeypatch.setenv("REDIS_URL", "redis://secret")
    monkeypatch.setenv("RIPPLE_TOKEN", "secret")
    # When an environment is forked from the template
    env = start(code, environment={"MINE": "1"})
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop()
    seen = json.loads(outcome.payload)
    # Then it came from the template, in a session of its own, in its code directory
    assert isinstance(env.process, ForkedProcess) and seen["sid"] == seen["pid"]
    assert seen["cwd"] == str(code) and seen["path0"] == str(code)
    # And it sees Lambda's variables and its own, none of the worker's
    environ = seen["environ"]
    assert environ["MINE"] == "1" and environ["AWS_LAMBDA_FUNCTION_NAME"] == "tmpl"
    assert environ["LAMBDA_TASK_ROOT"] == str(code) and "_X_AMZN_TRACE_ID" not in environ
    assert not any(key.startswith("RIPPLE_") or key == "REDIS_URL" for key in environ)
    # And so does the template itself
    assert fresh_template.pid is not None
    template_environ = Path(f"/proc/{fresh_template.pid}/environ").read_bytes()
    assert b"REDIS_URL" not in template_environ and b"RIPPLE_" not in template_environ


def test_the_template_starts_no_thread_and_its_children_are_not_the_workers(
        code: Path, fresh_template: Template) -> None:
    # Given a running template environment
    fresh_template.ensure_started()
    # When an environment is forked
    env = start(code)
    try:
        env.invoke("req-1", b"{}")
        # Then the template still has one thread, and the environment is its child
        assert len(os.listdir(f"/proc/{fresh_template.pid}/task")) == 1
        status = Path(f"/proc/{env.pid}/status").read_text()
        assert f"PPid:\t{fresh_template.pid}\n" in status
    finally:
        env.stop()


def test_a_dead_template_is_restarted_and_its_environments_keep_working(
        code: Path, fresh_template: Template) -> None:
    # Given a warm environment forked from the template
    first = start(code)
    first.invoke("req-1", b"{}")
    old_pid = fresh_template.pid
    assert old_pid is not None
    # When the template dies
    os.kill(old_pid, signal.SIGKILL)
    time.sleep(0.1)
    # Then the warm environment still answers, and the next cold start restarts the template
    assert first.invoke("req-2", b"{}").ok
    second = start(code)
    try:
        assert second.invoke("req-3", b"{}").ok
        assert isinstance(second.process, ForkedProcess) and fresh_template.pid != old_pid
        # And an orphaned environment's death is still noticed (its status went with the
        # template, so it reads as killed)
        os.kill(first.pid, signal.SIGKILL)
        outcome = first.invoke("req-4", b"{}")
        assert outcome.error_type == "Runtime.ExitError"
    finally:
        first.stop()
        second.stop()


def test_environments_start_with_popen_when_the_template_cannot_start(
        code: Path, fresh_template: Template, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a template that exits as soon as it starts
    monkeypatch.setattr(templates, "TEMPLATE_MODULE", "workers.sandbox.no_such_module")
    # When an environment starts
    env = start(code)
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop()
    # Then it runs all the same, through `python -m awslambdaric`
    assert outcome.ok and isinstance(env.process, PopenProcess)


def test_the_template_can_be_turned_off(code: Path, fresh_template: Template) -> None:
    function = FunctionConfig(name="tmpl", handler="app.handler", code_sha256="x")
    env = Environment(function, code, Settings(env_template=False))
    try:
        assert env.invoke("req-1", b"{}").ok and isinstance(env.process, PopenProcess)
    finally:
        env.stop()
    assert fresh_template.pid is None  # never started


def test_a_function_that_ships_its_own_boto3_does_not_use_the_template(
        code: Path, fresh_template: Template) -> None:
    # Given a function whose code vendors boto3
    (code / "boto3").mkdir()
    (code / "boto3" / "__init__.py").write_text("VENDORED = True\n")
    (code / "app.py").write_text("import boto3\ndef handler(e, c):\n    return boto3.VENDORED\n")
    # When it starts
    env = start(code)
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop()
    # Then it imports its own copy, as on Lambda
    assert outcome.payload == b"true" and isinstance(env.process, PopenProcess)


@pytest.mark.parametrize("module", ["tracing.py", "workers.py", "pydantic/__init__.py"])
def test_a_function_that_ships_a_module_named_like_ripples_own_runs_it_from_the_template(
        module: str, code: Path, fresh_template: Template) -> None:
    # Given a function whose code has a top-level module named like one of ripple's packages
    # (or like pydantic, which the template no longer imports)
    path = code / module
    path.parent.mkdir(exist_ok=True)
    path.write_text("MARKER = 'shipped with the function'\n")
    name = module.split("/")[0].removesuffix(".py")
    (code / "app.py").write_text(f"import {name}\ndef handler(e, c):\n"
                                 f"    return [{name}.MARKER, {name}.__file__]\n")
    # When it starts
    env = start(code)
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop()
    # Then it is forked from the template all the same, and imports its own module
    assert json.loads(outcome.payload) == ["shipped with the function", str(path)]
    assert isinstance(env.process, ForkedProcess)


def test_a_function_with_its_own_tracing_module_still_exports_its_spans(
        code: Path, fresh_template: Template, otlp_sink: OtlpSink) -> None:
    # Given a function that ships its own tracing.py and makes a boto3 call
    (code / "tracing.py").write_text("MARKER = 'mine'\n")
    (code / "app.py").write_text("import boto3, tracing\ndef handler(e, c):\n"
                                 "    boto3.client('s3').list_buckets()\n"
                                 "    return tracing.MARKER\n")
    function = FunctionConfig(name="tmpl", handler="app.handler", code_sha256="x")
    env = Environment(function, code, Settings(endpoint=otlp_sink.url))
    # When it is invoked and then stopped cleanly
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop(grace=5.0)
    # Then it ran its own module from the template, and ripple's telemetry still sent its span
    assert outcome.payload == b'"mine"' and isinstance(env.process, ForkedProcess)
    assert ("tmpl", "S3.ListBuckets") in otlp_sink.spans


def test_each_worker_process_has_its_own_template() -> None:
    assert shared_template() is shared_template()


def test_the_template_preloads_none_of_the_workers_own_packages(
        fresh_template: Template) -> None:
    # When the template starts
    fresh_template.ensure_started()
    # Then it has imported the runtime and telemetry, not the worker's own stack
    assert {"awslambdaric", "boto3", "opentelemetry"} <= fresh_template.preloaded
    assert not {"celery", "kombu", "redis", "fastapi", "starlette", "pydantic",
                "pydantic_settings"} & fresh_template.preloaded


def test_telemetry_hidden_from_the_handler_still_imports_lazily(
        code: Path, fresh_template: Template, otlp_sink: OtlpSink) -> None:
    # Given a handler that cannot import OpenTelemetry, calling a service whose instrumentation
    # extension the template did not import (SNS)
    (code / "app.py").write_text(textwrap.dedent("""
        import boto3
        def handler(event, context):
            try:
                import opentelemetry
            except ImportError as error:
                hidden = str(error)
            try:
                boto3.client("sns").publish(TopicArn="arn:aws:sns:us-east-1:1:topic", Message="m")
            except Exception:
                pass  # the sink's empty answer is no SNS reply
            return hidden
        """))
    function = FunctionConfig(name="tmpl", handler="app.handler", code_sha256="x")
    env = Environment(function, code, Settings(endpoint=otlp_sink.url))
    # When it is invoked and stopped cleanly
    try:
        outcome = env.invoke("req-1", b"{}")
    finally:
        env.stop(grace=5.0)
    # Then the handler saw no OpenTelemetry, and ripple's telemetry loaded the extension
    assert json.loads(outcome.payload) == "No module named 'opentelemetry'"
    assert isinstance(env.process, ForkedProcess)
    assert ("tmpl", "topic send") in otlp_sink.spans


def test_an_environment_whose_worker_is_gone_takes_its_childrens_group_with_it(
        code: Path, fresh_template: Template) -> None:
    # Given a forked environment whose handler left a `sleep 60` behind
    (code / "app.py").write_text("import subprocess\ndef handler(e, c):\n"
                                 "    return subprocess.Popen(['sleep', '60']).pid\n")
    env = start(code)
    try:
        sleeper = json.loads(env.invoke("req-1", b"{}").payload)
        # When its lifeline closes without the worker killing anything (as when the worker dies)
        env.request_stop()
        assert env.process.wait(5) is not None
        # Then the child is gone too
        wait_for(lambda: not running(sleeper), timeout=5)
    finally:
        env.stop()
