"""What a handler can reach and leave behind, through a real ripple: boto3 → endpoint → Celery
→ worker → an environment forked from the template."""

from __future__ import annotations

import base64
import json
from typing import Any

from tests.conftest import Deploy, Ripple
from workers.environments.output import LOG_EVENT_BYTES


def test_a_handler_importing_celery_fails_as_on_lambda_and_boto3_imports(
        lambda_client: Any, deploy: Deploy) -> None:
    # Given one function that imports celery (ripple's workers run on it) and one importing boto3
    celery = deploy("import celery\ndef handler(event, context):\n    return 1\n")
    boto3 = deploy("import boto3\ndef handler(event, context):\n    return boto3.__name__\n")
    # When each is invoked
    failed = lambda_client.invoke(FunctionName=celery, Payload=b"{}")
    worked = lambda_client.invoke(FunctionName=boto3, Payload=b"{}")
    # Then the first fails as it would on Lambda, and the second runs
    error = json.loads(failed["Payload"].read())
    assert failed["FunctionError"] == "Unhandled"
    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'app': No module named 'celery'"
    assert "FunctionError" not in worked and json.loads(worked["Payload"].read()) == "boto3"


def test_fifty_megabytes_printed_in_one_invocation_make_one_capped_log_entry(
        lambda_client: Any, ripple: Ripple, deploy: Deploy) -> None:
    # Given a handler that prints 50 MB, then a last line
    name = deploy("""
        import sys
        def handler(event, context):
            line = "x" * 1023 + "\\n"
            for _ in range(50 * 1024):
                sys.stdout.write(line)
            print("the last line")
            return "done"
        """, timeout=60)
    # When it is invoked twice
    for _ in range(2):
        answer = lambda_client.invoke(FunctionName=name, Payload=b"{}", LogType="Tail")
        assert json.loads(answer["Payload"].read()) == "done"
    # Then each log entry is capped near 256 KB, marked, with Lambda's lines intact
    entries = ripple.api("GET", f"/_ripple/api/functions/{name}/logs",
                         params={"limit": 10})["entries"]
    assert len(entries) == 2
    for entry in entries:
        text = entry["text"]
        assert len(text.encode()) < LOG_EVENT_BYTES + 2048
        assert "START RequestId:" in text and "[ripple: output truncated, " in text
        assert "the last line\nEND RequestId:" in text and "\nREPORT RequestId:" in text
    # And the tail log the caller got still ends with the last line, END and REPORT
    tail = base64.b64decode(answer["LogResult"]).decode()
    assert "the last line\nEND RequestId:" in tail and "REPORT RequestId:" in tail
