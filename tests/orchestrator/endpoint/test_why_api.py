"""The viewer's why, compare and invocation-details API on a real stack: S3 put → A →
(boto3) put_item into a table → its stream → B → S3 put of `out/x`."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest

from tests.conftest import Deploy, Ripple, wait_for

WRITER = """
import json, os
import boto3
table = boto3.resource("dynamodb").Table(os.environ["TABLE"])
def handler(event, context):
    key = event["Records"][0]["s3"]["object"]["key"]
    count = int(key.split("-")[1].split(".")[0])  # run-3.json: three items
    for item in range(count):
        table.put_item(Item={"pk": f"{key}/{item}", "n": item})
    return {"wrote": count}
"""
PUBLISHER = """
import os
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    s3.put_object(Bucket=os.environ["OUT"], Key="out/x", Body=b"done")
    return len(event["Records"])
"""


@dataclass
class Chain:
    a: str
    b: str
    bucket: str
    out: str
    table: str

    def run(self, ripple: Ripple, count: int) -> None:
        """Put `run-<count>.json`: A writes `count` items; wait until B has seen them all."""
        seen = ripple.counters(self.b)["invocations"]
        boto3.client("s3", endpoint_url=ripple.url, region_name="us-east-1",
                     aws_access_key_id="test", aws_secret_access_key="test").put_object(
            Bucket=self.bucket, Key=f"run-{count}.json", Body=b"{}")
        wait_for(lambda: ripple.counters(self.b)["invocations"] > seen, timeout=60)


def deploy_chain(deploy: Deploy) -> Chain:
    suffix = uuid.uuid4().hex[:6]
    chain = Chain(f"a-{suffix}", f"b-{suffix}", f"in-{suffix}", f"out-{suffix}", f"t-{suffix}")
    deploy(WRITER, name=chain.a, environment={"TABLE": chain.table}, timeout=10,
           events=[{"s3": {"bucket": chain.bucket, "events": ["s3:ObjectCreated:*"]}}],
           resources={"buckets": [chain.bucket, chain.out]})
    deploy(PUBLISHER, name=chain.b, environment={"OUT": chain.out}, timeout=10,
           events=[{"dynamodb": {"table": chain.table, "starting_position": "TRIM_HORIZON"}}],
           resources={"tables": {chain.table: {"keys": {"pk": "S"}, "stream": "NEW_IMAGE"}}})
    return chain


def why(ripple: Ripple, target: str) -> httpx.Response:
    return httpx.get(f"{ripple.url}/_ripple/api/why", params={"target": target}, timeout=30)


def labels(refs: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    return [(ref["node"]["name"], ref["operation"]) for ref in refs]


def reached(tree: dict[str, Any]) -> list[dict[str, Any]]:
    """Every span ref in a `caused` tree."""
    found, stack = [], [tree]
    while stack:
        node = stack.pop()
        found.append(node["span"])
        stack += node["children"]
    return found


@pytest.fixture(scope="module")
def chain(ripple: Ripple, tmp_path_factory: pytest.TempPathFactory) -> Chain:
    """The chain deployed once, run once with one item."""
    folder = tmp_path_factory.mktemp("why-chain")
    counter = iter(range(100))

    def deploy(source: str, name: str, resources: dict[str, Any] | None = None,
               **config: Any) -> str:
        spec = folder / f"{name}-{next(counter)}.yaml"
        code = folder / name
        code.mkdir()
        (code / "app.py").write_text(source)
        spec.write_text(json.dumps({"functions": {name: {"handler": "app.handler",
                                                          "code": f"./{name}", **config}},
                                    **(resources or {})}))
        assert ripple.cli("deploy", str(spec)).returncode == 0
        return name

    deployed = deploy_chain(deploy)
    deployed.run(ripple, 1)
    return deployed


def test_why_walks_an_object_back_to_the_first_put_and_forward_to_b(
        ripple: Ripple, chain: Chain) -> None:
    # Given the chain ran once: in/run-1.json → A → put_item → stream → B → out/x
    target = f"s3://{chain.out}/out/x"
    # When the viewer asks why out/x exists (spans arrive from each process in batches)
    answer = wait_for(lambda: (found := why(ripple, target)).status_code == 200
                      and found.json()["root"]["operation"] == "S3.PutObject"
                      and found.json()["root"]["node"]["name"] == chain.bucket
                      and found.json(), timeout=30)
    # Then the write is B's put of out/x, and the chain goes back to the first put
    assert (answer["write"]["node"]["name"], answer["write"]["operation"]) == (
        chain.out, "S3.PutObject")
    hops = labels(answer["chain"])
    assert hops[0] == (chain.bucket, "S3.PutObject")
    assert hops[-1] == (chain.out, "S3.PutObject")
    assert (chain.table, "DynamoDB.PutItem") in hops
    assert [name for name, _ in hops].index(chain.a) < [name for name, _ in hops].index(chain.b)
    assert len(answer["traces"]) == 2  # the write's trace and the stream batch's
    # And forward from the root reaches B and its put of out/x
    caused = reached(answer["caused"])
    assert any(ref["node"]["name"] == chain.b and ref["request_id"] for ref in caused)
    assert (chain.out, "S3.PutObject") in labels(caused)
    assert answer["elapsed_ms"] < 1000


def test_why_finds_an_item_by_its_key_a_request_id_and_a_trace_id(
        ripple: Ripple, chain: Chain) -> None:
    # Given the chain ran once (A wrote run-1.json/0)
    item = f"ddb://{chain.table}/run-1.json/0"
    # When the viewer asks about the item, in each spelling of its key
    by_value = wait_for(lambda: (found := why(ripple, item)).status_code == 200 and found.json())
    by_pair = why(ripple, f"ddb://{chain.table}/pk=run-1.json/0").json()
    by_json = why(ripple, f"ddb://{chain.table}/" + json.dumps(
        {"pk": {"S": "run-1.json/0"}})).json()
    # Then each is A's put_item, reached from the first put
    for answer in (by_value, by_pair, by_json):
        assert labels([answer["write"]]) == [(chain.table, "DynamoDB.PutItem")]
        assert labels([answer["root"]]) == [(chain.bucket, "S3.PutObject")]
    # And A's request id and the root's trace id lead to the same root
    request_id = next(ref["request_id"] for ref in by_value["chain"]
                      if ref["node"]["name"] == chain.a and ref["request_id"])
    by_request = why(ripple, request_id).json()
    assert by_request["write"]["request_id"] == request_id
    assert by_request["root"] == by_value["root"]
    by_trace = why(ripple, by_value["root"]["trace_id"]).json()
    assert by_trace["root"] == by_value["root"]
    # And what nobody wrote is a 404 that says so
    missing = why(ripple, f"s3://{chain.out}/never-written")
    assert missing.status_code == 404 and "nothing is known" in missing.json()["detail"]


def test_compare_shows_the_fanout_of_a_second_run(ripple: Ripple, chain: Chain) -> None:
    # Given the chain ran with one item, then with three
    first = wait_for(lambda: (found := why(ripple, f"ddb://{chain.table}/run-1.json/0"))
                     .status_code == 200 and found.json())["root"]["trace_id"]
    chain.run(ripple, 3)
    second = wait_for(lambda: (found := why(ripple, f"ddb://{chain.table}/run-3.json/2"))
                      .status_code == 200 and found.json())["root"]["trace_id"]

    def puts_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
        return [row for row in answer["paths"]
                if row["path"][-1] == f"{chain.table} DynamoDB.PutItem"]

    def compared() -> dict[str, Any] | None:
        answer = ripple.api("GET", "/_ripple/api/compare", params={"a": first, "b": second})
        puts = puts_of(answer)
        return answer if puts and puts[0]["change"] == "fanout" else None

    # When the two runs are compared (spans reach the store in batches from each process: a
    # run whose hop has not arrived yet is a different path until it does)
    answer = wait_for(compared, timeout=30)
    # Then they are the same chain, and A's put_item fanned out from 1 to 3
    assert answer["same_chain"] is True
    puts = puts_of(answer)
    assert (puts[0]["a"]["count"], puts[0]["b"]["count"]) == (1, 3)
    assert answer["summary"]["fanout"] >= 1


def test_invocation_details_carry_the_event_response_logs_and_cost(
        ripple: Ripple, chain: Chain) -> None:
    # Given A's invocation, found through why
    answer = wait_for(lambda: (found := why(ripple, f"ddb://{chain.table}/run-1.json/0"))
                      .status_code == 200 and found.json())
    invocation = next(ref for ref in answer["chain"] if ref["request_id"])
    request_id, start = invocation["request_id"], invocation["start"]
    # When the viewer asks for its details, with and without the time hint
    details = ripple.api("GET", f"/_ripple/api/invocations/{request_id}",
                         params={"at": start})
    unhinted = ripple.api("GET", f"/_ripple/api/invocations/{request_id}")
    # Then they carry the S3 event, the response, the log lines START … REPORT and the cost
    assert details == unhinted
    assert details["function"] == chain.a and details["error"] is None
    assert json.loads(details["event"])["Records"][0]["s3"]["object"]["key"] == "run-1.json"
    assert json.loads(details["response"]) == {"wrote": 1}
    assert not details["event_truncated"] and not details["response_truncated"]
    assert f"START RequestId: {request_id} Version: $LATEST" in details["logs"]
    assert details["logs"][-1].startswith("REPORT RequestId: " + request_id)
    cost = details["cost_usd"]
    assert cost["requests"] == pytest.approx(0.2 / 1e6)
    assert cost["compute"] > 0 and cost["total"] == pytest.approx(
        cost["requests"] + cost["compute"])
    # And an unknown request id is a 404
    assert httpx.get(f"{ripple.url}/_ripple/api/invocations/no-such-request",
                     timeout=30).status_code == 404


def test_invocation_details_keep_4_kb_of_a_large_event_and_the_error(
        ripple: Ripple, deploy: Deploy, lambda_client: Any) -> None:
    # Given a function that fails on a 10 KB event
    name = deploy("def handler(event, context):\n    raise ValueError('too big: ' + "
                  "str(len(event['blob'])))\n")
    # When it is invoked
    response = lambda_client.invoke(FunctionName=name,
                                    Payload=json.dumps({"blob": "é" * 5000},
                                                       ensure_ascii=False).encode())
    request_id = response["ResponseMetadata"]["RequestId"]
    # Then its details keep the event's first 4 KB (no character cut in two) and the error
    details = wait_for(lambda: (found := httpx.get(
        f"{ripple.url}/_ripple/api/invocations/{request_id}", timeout=30)).status_code == 200
        and found.json())
    assert details["event_truncated"] is True
    assert 4094 <= len(details["event"].encode()) <= 4096
    assert details["event"].startswith('{"blob": "éé')
    assert details["response"] is None
    assert details["error"]["errorType"] == "ValueError"
    assert details["error"]["errorMessage"] == "too big: 5000"
    assert details["error"]["stackTrace"]
