"""Async semantics: 1 + retries attempts, then the dead-letter list or a destination function."""

from __future__ import annotations

import json
import uuid

from tests.conftest import Deploy, Ripple, wait_for

FAILING = """
def handler(event, context):
    raise RuntimeError("cannot process " + str(event.get("order")))
"""


def dead_letters_of(ripple: Ripple, name: str) -> list[dict]:  # type: ignore[type-arg]
    return [entry for entry in ripple.api("GET", "/_ripple/api/dlq") if entry["function"] == name]


def test_failing_async_event_is_tried_three_times_then_dead_lettered(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    # Given a function that always fails, with 2 retries into the dead-letter list
    name = deploy(FAILING, retries=2, on_failure="dlq")
    # When an async event fails
    lambda_client.invoke(FunctionName=name, InvocationType="Event",
                         Payload=json.dumps({"order": 42}))
    # Then it was tried 1 + 2 times and sits in the dead-letter list with its payload and error
    entries = wait_for(lambda: dead_letters_of(ripple, name), timeout=30)
    assert ripple.counters(name)["invocations"] == 3
    record = entries[0]["record"]
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestPayload"] == {"order": 42}
    assert record["responsePayload"]["errorType"] == "RuntimeError"
    assert record["responsePayload"]["errorMessage"] == "cannot process 42"


def test_zero_retries_means_one_attempt(lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    name = deploy(FAILING, retries=0)
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b"{}")
    wait_for(lambda: dead_letters_of(ripple, name))
    assert ripple.counters(name)["invocations"] == 1


def test_dlq_replay_runs_the_event_again(lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    # Given a dead-lettered event of a function that has since been fixed
    name = deploy(FAILING, retries=0)
    lambda_client.invoke(FunctionName=name, InvocationType="Event",
                         Payload=json.dumps({"order": 7}))
    entry = wait_for(lambda: dead_letters_of(ripple, name))[0]
    deploy("def handler(event, context):\n    print('fixed', event['order'])\n", name=name,
           retries=0)
    # When `ripple dlq replay` replays it
    result = ripple.cli("dlq", "replay", entry["id"])
    # Then it runs again, succeeds, and leaves the list
    assert result.returncode == 0, result.stderr
    wait_for(lambda: "fixed 7" in ripple.logs(name))
    assert dead_letters_of(ripple, name) == []


def test_dlq_ls_shows_the_entry(lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    name = deploy(FAILING, retries=0)
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 1}')
    wait_for(lambda: dead_letters_of(ripple, name))
    listing = json.loads(ripple.cli("dlq", "ls", "--json", check=True).stdout)
    assert any(entry["function"] == name for entry in listing)


def test_on_failure_function_receives_lambdas_destination_record(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    catcher = f"catcher-{uuid.uuid4().hex[:6]}"
    name = deploy(FAILING, retries=1, on_failure=catcher, others={catcher: """
        import json
        def handler(event, context):
            print("CAUGHT " + json.dumps(event))
    """})
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 9}')
    wait_for(lambda: "CAUGHT" in ripple.logs(catcher))
    caught = json.loads(ripple.logs(catcher).split("CAUGHT ", 1)[1].splitlines()[0])
    assert caught["requestContext"]["condition"] == "RetriesExhausted"
    assert caught["requestContext"]["approximateInvokeCount"] == 2
    assert caught["requestPayload"] == {"order": 9}
    assert caught["responseContext"]["functionError"] == "Unhandled"


def test_handler_fans_out_50_async_invocations_through_boto3(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    # Given a fan-out function that invokes a worker function through plain boto3
    target = f"leaf-{uuid.uuid4().hex[:6]}"
    name = deploy("""
        import json, os
        import boto3
        client = boto3.client("lambda")
        def handler(event, context):
            for item in range(event["count"]):
                client.invoke(FunctionName=os.environ["TARGET"], InvocationType="Event",
                              Payload=json.dumps({"item": item}))
            return event["count"]
    """, environment={"TARGET": target}, timeout=30, others={target: """
        def handler(event, context):
            return event["item"]
    """})
    # When it fans out 50 events
    answer = lambda_client.invoke(FunctionName=name, Payload=b'{"count": 50}')
    assert json.loads(answer["Payload"].read()) == 50
    # Then all 50 run
    wait_for(lambda: ripple.counters(target)["invocations"] >= 50, timeout=60)
    assert ripple.counters(target) == {**ripple.counters(target), "invocations": 50, "errors": 0}


def test_event_older_than_its_maximum_age_is_given_up(
        lambda_client, ripple: Ripple, deploy: Deploy) -> None:
    # Given a failing function whose events may live 60 s (0.1 s on the 600x clock), while its
    # retries wait 1 and 2 minutes
    name = deploy(FAILING, retries=2, max_event_age=60)
    # When an event fails
    lambda_client.invoke(FunctionName=name, InvocationType="Event", Payload=b'{"order": 3}')
    # Then the retry finds it too old and it is dead-lettered as EventAgeExceeded
    entry = wait_for(lambda: dead_letters_of(ripple, name), timeout=30)[0]
    assert entry["record"]["requestContext"]["condition"] == "EventAgeExceeded"
    assert ripple.counters(name)["invocations"] == 1
