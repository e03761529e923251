"""The issue's "done when": a LocalStack-style deploy script, unchanged, against ripple with
the AWS CLI (`--endpoint-url`, dummy credentials): zip, create-function, wait, invoke,
publish-version, create-alias, invoke the alias, create-event-source-mapping from a stream,
update the code, and the alias still runs the old version."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Ripple, clean_environment

SCRIPT = Path(__file__).with_name("deploy_with_aws_cli.sh")


def test_localstack_style_script_runs_unchanged(ripple: Ripple, tmp_path: Path) -> None:
    # Given the AWS CLI from this environment, dummy credentials and ripple's endpoint
    venv_bin = str(Path(sys.executable).parent)
    env = clean_environment(ENDPOINT=ripple.url, AWS_ACCESS_KEY_ID="test",
                            AWS_SECRET_ACCESS_KEY="test", AWS_DEFAULT_REGION="us-east-1",
                            PATH=f"{venv_bin}{os.pathsep}{os.environ['PATH']}",
                            AWS_CONFIG_FILE=str(tmp_path / "none"),
                            AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
    # When the script runs in an empty folder
    done = subprocess.run(["sh", str(SCRIPT)], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=300)
    # Then every step succeeded
    assert done.returncode == 0, done.stdout + done.stderr
    assert "deployed hello version 1 behind alias live" in done.stdout

    def read(name: str) -> Any:
        return json.loads((tmp_path / name).read_text())

    # and each answer is the one Lambda gives
    assert read("identity.json") == {"UserId": "000000000000", "Account": "000000000000",
                                     "Arn": "arn:aws:iam::000000000000:root"}
    assert read("created.json")["Role"] == "arn:aws:iam::000000000000:role/lambda-ex"
    assert read("first.json") == {"version": "one", "got": {"name": "first"}}
    assert read("live.json") == {"version": "one", "got": {}}
    assert read("alias.json")["FunctionVersion"] == "1"
    stream = "arn:aws:dynamodb:us-east-1:000000000000:table/orders/stream/"
    assert read("mapping.json")["EventSourceArn"].startswith(stream)
    # and after the code update the alias still runs version 1, $LATEST the new code
    assert read("after-update-live.json") == {"version": "one", "got": {}}
    assert read("after-update-latest.json") == {"version": "two", "got": {}}
