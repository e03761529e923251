"""Lambda's Invoke API end to end: boto3 → endpoint → Celery → worker → awslambdaric."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import pytest
from botocore.exceptions import ClientError

from tests.conftest import Deploy, Ripple, wait_for

ECHO = """
import os
def handler(event, context):
    print("hello from", context.function_name)
    return {"event": event, "pid": os.getpid(), "version": 1}
"""


def invoke(client, name: str, payload: object = None, **kwargs):  # type: ignore[no-untyped-def]
    answer = client.invoke(FunctionName=name, Payload=json.dumps(payload or {}), **kwargs)
    return answer, json.loads(answer["Payload"].read() or b"null")


def test_boto3_invoke_returns_the_result_and_a_tail_log(lambda_client, deploy: Deploy) -> None:
    # Given a deployed handler
    name = deploy(ECHO)
    # When boto3 invokes it with LogType=Tail
    answer, body = invoke(lambda_client, name, {"n": 1}, LogType="Tail")
    # Then the result comes back and the decoded log holds START, the output, END and REPORT
    assert answer["StatusCode"] == 200
    assert body["event"] == {"n": 1}
    log = base64.b64decode(answer["LogResult"]).decode()
    assert "START RequestId:" in log and f"hello from {name}" in log and "END RequestId:" in log
    assert "REPORT RequestId:" in log and "Billed Duration:" in log and "Init Duration:" in log


def test_second_invocation_is_warm_and_redeploy_makes_it_cold(
        lambda_client, deploy: Deploy) -> None:
    # Given a function invoked once (cold)
    name = deploy(ECHO)
    _, first = invoke(lambda_client, name)
    # When it is invoked again
    answer, second = invoke(lambda_client, name, LogType="Tail")
    # Then the same environment process answers, with no Init Duration
    assert second["pid"] == first["pid"]
    assert "Init Duration" not in base64.b64decode(answer["LogResult"]).decode()
    # And after redeploying changed code the next invocation is cold and runs the new code
    deploy(ECHO.replace('"version": 1', '"version": 2'), name=name)
    answer, third = invoke(lambda_client, name, LogType="Tail")
    assert third["version"] == 2 and third["pid"] != first["pid"]
    assert "Init Duration" in base64.b64decode(answer["LogResult"]).decode()


def test_timeout_returns_sandbox_timedout_and_the_next_call_works(
        lambda_client, deploy: Deploy) -> None:
    # Given a handler that sleeps past its 1 s timeout when asked to
    name = deploy("""
        import time
        def handler(event, context):
            time.sleep(event.get("sleep", 0))
            return "done"
    """, timeout=1)
    # When it oversleeps
    answer, body = invoke(lambda_client, name, {"sleep": 5})
    # Then the caller gets Sandbox.Timedout as a function error
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Sandbox.Timedout"
    assert "Task timed out after 1.00 seconds" in body["errorMessage"]
    # And the next invocation works
    assert invoke(lambda_client, name)[1] == "done"


def test_raising_handler_returns_lambdas_error_shape(lambda_client, deploy: Deploy) -> None:
    name = deploy("""
        def handler(event, context):
            raise ValueError("bad order " + str(event["id"]))
    """)
    answer, body = invoke(lambda_client, name, {"id": 7})
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "ValueError"
    assert body["errorMessage"] == "bad order 7"
    assert any("raise ValueError" in frame for frame in body["stackTrace"])


def test_module_that_fails_to_import_is_an_import_module_error(
        lambda_client, deploy: Deploy) -> None:
    name = deploy("import no_such_module\ndef handler(event, context):\n    return 1\n")
    answer, body = invoke(lambda_client, name)
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.ImportModuleError"
    assert "no_such_module" in body["errorMessage"]


def test_unknown_function_is_resource_not_found(lambda_client) -> None:
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName="no-such-function", Payload=b"{}")
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_payload_over_6_mb_is_request_too_large(lambda_client, deploy: Deploy) -> None:
    name = deploy(ECHO)
    payload = json.dumps({"blob": "x" * (7 * 1024 * 1024)})
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Payload=payload)
    assert caught.value.response["Error"]["Code"] == "RequestTooLargeException"
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_payload_over_1_mb_async_is_request_too_large(lambda_client, deploy: Deploy) -> None:
    name = deploy(ECHO)
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=json.dumps({"blob": "x" * (1024 * 1024 + 10)}))
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 413


def test_invalid_json_payload_is_rejected(lambda_client, deploy: Deploy) -> None:
    name = deploy(ECHO)
    with pytest.raises(ClientError) as caught:
        lambda_client.invoke(FunctionName=name, Payload=b"{not json")
    assert caught.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_event_and_dry_run_invocation_types(lambda_client, ripple: Ripple,
                                            deploy: Deploy) -> None:
    name = deploy(ECHO)
    assert lambda_client.invoke(FunctionName=name, InvocationType="DryRun")["StatusCode"] == 204
    assert lambda_client.invoke(FunctionName=name, InvocationType="Event")["StatusCode"] == 202
    wait_for(lambda: ripple.counters(name)["invocations"] == 1)


def test_handler_over_its_memory_size_is_stopped_and_the_worker_survives(
        lambda_client, deploy: Deploy) -> None:
    # Given a 128 MB function that allocates 400 MB when asked to
    name = deploy("""
        import time
        def handler(event, context):
            if event.get("mb"):
                hog = bytearray(event["mb"] * 1024 * 1024)
                hog[::4096] = b"x" * len(hog[::4096])
                time.sleep(0.5)
            return "fine"
    """, memory=128)
    # When it allocates past its memory size
    answer, body = invoke(lambda_client, name, {"mb": 400}, LogType="Tail")
    # Then it is stopped and reported as out of memory
    assert answer["FunctionError"] == "Unhandled"
    assert body["errorType"] == "Runtime.OutOfMemory"
    # And the worker still serves the next invocation
    assert invoke(lambda_client, name)[1] == "fine"


def test_a_function_sees_only_its_own_variables(lambda_client, deploy: Deploy) -> None:
    reader = """
        import os
        def handler(event, context):
            return dict(os.environ)
    """
    a = deploy(reader, environment={"SECRET_A": "alpha"})
    b = deploy(reader, environment={"SECRET_B": "beta"})
    env_a = invoke(lambda_client, a)[1]
    env_b = invoke(lambda_client, b)[1]
    assert env_a["SECRET_A"] == "alpha" and "SECRET_B" not in env_a
    assert env_b["SECRET_B"] == "beta" and "SECRET_A" not in env_b
    for env in (env_a, env_b):
        assert "REDIS_URL" not in env
        assert not [key for key in env if key.startswith("RIPPLE_")]
        assert env["AWS_ENDPOINT_URL"].startswith("http://127.0.0.1:")
        assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
        assert env["_HANDLER"] == "app.handler"
    assert env_a["AWS_LAMBDA_FUNCTION_NAME"] == a


def test_reserved_concurrency_1_throttles_the_second_sync_call(
        lambda_client, deploy: Deploy) -> None:
    # Given a function limited to one concurrent execution that takes 1.5 s
    name = deploy("""
        import time
        def handler(event, context):
            time.sleep(1.5)
            return "slow"
    """, reserved_concurrency=1, timeout=5)

    def call() -> str:
        try:
            invoke(lambda_client, name)
            return "ok"
        except ClientError as error:
            return error.response["Error"]["Code"]

    # When two sync calls arrive at once
    with ThreadPoolExecutor(2) as pool:
        results = sorted(pool.map(lambda _: call(), range(2)))
    # Then one runs and the other gets 429 TooManyRequestsException
    assert results == ["TooManyRequestsException", "ok"]


def test_async_events_over_the_limit_all_complete_later(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    name = deploy("""
        import time
        def handler(event, context):
            time.sleep(0.2)
            return event
    """, reserved_concurrency=1)
    for item in range(6):
        lambda_client.invoke(FunctionName=name, InvocationType="Event",
                             Payload=json.dumps({"item": item}))
    wait_for(lambda: ripple.counters(name)["invocations"] == 6, timeout=60)
    counters = ripple.counters(name)
    assert counters["errors"] == 0
    assert counters["throttles"] > 0
