"""What a handler can reach, through a real ripple: boto3 → endpoint → Celery → worker →
an environment forked from the template."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import Deploy


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
