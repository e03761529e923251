"""`ripple up --watch`: a saved handler is the next invocation's code within 1 s."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import boto3
from botocore.config import Config

from orchestrator.process.watch import watch
from tests.conftest import start_ripple, stop_ripple, wait_for

TEMPLATE = """\
Transform: AWS::Serverless-2016-10-31
Resources:
  Greeter:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: greeter/, Handler: app.handler, Runtime: python3.12}
"""
HANDLER = "def handler(event, context):\n    return {answer!r}\n"


def test_a_saved_handler_answers_the_next_invoke_within_a_second(tmp_path: Path) -> None:
    # Given ripple up --watch on a SAM template whose handler answers "first"
    app = tmp_path / "app"
    (app / "greeter").mkdir(parents=True)
    handler = app / "greeter" / "app.py"
    handler.write_text(HANDLER.format(answer="first"))
    (app / "template.yaml").write_text(TEMPLATE)
    data = tmp_path / "data"
    data.mkdir()
    ripple = start_ripple(data, "--template", str(app / "template.yaml"), "--watch")
    try:
        client = boto3.client("lambda", endpoint_url=ripple.url, region_name="us-east-1",
                              aws_access_key_id="test", aws_secret_access_key="test",
                              config=Config(retries={"max_attempts": 1}))

        def answer() -> str:
            return str(json.load(client.invoke(FunctionName="Greeter")["Payload"]))

        assert wait_for(lambda: "watching" in ripple.log.read_text())
        assert answer() == "first"  # warm now: the old version's environment is idle
        # When the handler's return value is edited and saved
        saved = time.monotonic()
        handler.write_text(HANDLER.format(answer="second"))
        while answer() != "second":
            assert time.monotonic() - saved < 5, "the new code never ran"
        elapsed = time.monotonic() - saved
        # Then the next invocations run the new code within 1 s of the save
        assert elapsed < 1.0, f"the new code answered {elapsed:.2f} s after the save"
        assert answer() == "second"
        # And the log says what was reloaded, in one line
        assert wait_for(lambda: "reloaded Greeter: greeter/app.py changed"
                        in ripple.log.read_text())
        # When the template is saved broken, Then the log says why and the code stays
        (app / "template.yaml").write_text(TEMPLATE.replace("python3.12", "nodejs20.x"))
        assert wait_for(lambda: "not reloaded after template.yaml changed" in
                        ripple.log.read_text())
        assert answer() == "second"
    finally:
        stop_ripple(ripple)


def test_ripples_own_files_inside_a_code_folder_are_not_a_change(tmp_path: Path) -> None:
    # Given a template whose code folder holds ripple's data folder, watched
    (tmp_path / "greeter" / ".ripple").mkdir(parents=True)
    (tmp_path / "greeter" / "app.py").write_text(HANDLER.format(answer="first"))
    (tmp_path / "template.yaml").write_text(TEMPLATE)
    deployed: list[Path] = []
    stop = threading.Event()
    watcher = threading.Thread(target=watch, args=(
        tmp_path / "template.yaml", lambda path: deployed.append(path) or [], stop,
        tmp_path / "greeter" / ".ripple"))
    watcher.start()
    try:
        # When the handler is saved (again, until the watch is up), Then the template deploys
        def save() -> list[Path]:
            (tmp_path / "greeter" / "app.py").write_text(HANDLER.format(answer="second"))
            time.sleep(0.1)
            return deployed

        assert set(wait_for(save, timeout=10)) == {(tmp_path / "template.yaml").resolve()}
        time.sleep(0.3)
        deployed.clear()
        # When ripple writes its data, Then nothing is deployed
        (tmp_path / "greeter" / ".ripple" / "appendonly.aof").write_text("SET a b")
        time.sleep(0.5)
        assert deployed == []
    finally:
        stop.set()
        watcher.join(timeout=5)
