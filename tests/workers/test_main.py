"""`run_worker`: with RIPPLE_TASK_EVENTS a worker sends Celery task events (what Flower shows),
and `ripple up --redis-port` puts the embedded Redis on that port, which `ripple status` prints
with its password masked."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import boto3
import yaml
from botocore.config import Config

from orchestrator.settings import Settings
from tests.conftest import clean_environment, free_port, start_ripple, stop_ripple
from workers.celery_app import configure


def test_a_worker_started_with_task_events_sends_them_on_the_same_redis(tmp_path: Path) -> None:
    # Given a stack on a fixed Redis port whose workers send task events, and a function
    redis_port = free_port()
    stack = start_ripple(tmp_path, "--workers", "1", "--redis-port", str(redis_port),
                         RIPPLE_TASK_EVENTS="true")
    try:
        (tmp_path / "fn").mkdir()
        (tmp_path / "fn" / "app.py").write_text("def handler(event, context):\n    return 1\n")
        (tmp_path / "spec.yaml").write_text(yaml.safe_dump(
            {"functions": {"evented": {"handler": "app.handler", "code": "./fn"}}}))
        assert stack.cli("deploy", str(tmp_path / "spec.yaml")).returncode == 0
        password = (tmp_path / "redis" / "password").read_text().strip()
        redis_url = f"redis://:{password}@127.0.0.1:{redis_port}/0"
        # And Celery's event receiver listening on that Redis
        seen: list[str] = []
        listening = threading.Event()
        app = configure(Settings(redis_url=redis_url))

        def receive() -> None:
            with app.connection() as connection:
                receiver = app.events.Receiver(
                    connection, handlers={"*": lambda event: seen.append(event["type"])})
                listening.set()
                for _ in receiver.itercapture(limit=None, timeout=20, wakeup=False):
                    if "task-succeeded" in seen:
                        return

        thread = threading.Thread(target=receive, daemon=True)
        thread.start()
        assert listening.wait(10)
        # When the function is invoked
        client: Any = boto3.client(
            "lambda", endpoint_url=stack.url, region_name="us-east-1",
            aws_access_key_id="test", aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        assert client.invoke(FunctionName="evented")["Payload"].read() == b"1"
        thread.join(25)
        # Then the worker announced the task's start and success
        assert {"task-received", "task-started", "task-succeeded"} <= set(seen)
        # And `ripple status` prints the Redis URL on the fixed port, its password masked
        printed = stack.cli("status").stdout
        assert f"127.0.0.1:{redis_port}" in printed
        assert password not in printed
        # And with --show-secrets (from the stack's data directory) the URL works as printed
        shown = subprocess.run(
            [sys.executable, "-m", "orchestrator.cli", "status", "--show-secrets"],
            env=clean_environment(RIPPLE_ENDPOINT=stack.url, RIPPLE_DATA_DIR=str(tmp_path)),
            capture_output=True, text=True, timeout=60)
        assert f"redis: {redis_url}" in shown.stdout, shown.stdout + shown.stderr
    finally:
        stop_ripple(stack)
