"""Issue 3's figures, side by side in one run on one Redis.

1. S3 PutObject and DynamoDB PutItem through boto3 against ripple, operations/s, vs raw
   redis-py SET of the same payload on the same Redis (the physical floor).
2. S3 put → handler start and DynamoDB write → handler start latency, p50 and p99.
3. A 100 MB object: PutObject and GetObject through boto3 (streamed to and from a file under
   the data dir) vs writing and reading the same bytes to a local file (the physical floor).

Run: python benchmarks/data.py [--ops 2000] [--events 200] [--big-mb 100]. Not a test: it
prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import httpx
import redis
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile, start_stack, stop_stack  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402

STAMP_HANDLER = """
import json, time
def handler(event, context):
    now = time.time()
    for record in event["Records"]:
        if "s3" in record:
            sent = float(record["s3"]["object"]["key"].split("-")[-1])
        else:
            sent = float(record["dynamodb"]["NewImage"]["sent"]["N"])
        print("LATENCY " + json.dumps((now - sent) * 1000))
"""


def rate(operation, count: int) -> float:  # type: ignore[no-untyped-def]
    for index in range(min(50, count)):
        operation(index)
    started = time.perf_counter()
    for index in range(count):
        operation(index)
    return count / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--big-mb", type=int, default=100)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ripple-bench-"))
    server = EmbeddedRedis(work / "redis")
    url = server.start()
    port = 4574
    endpoint = f"http://127.0.0.1:{port}"
    options = {"endpoint_url": endpoint, "region_name": "us-east-1", "aws_access_key_id": "t",
               "aws_secret_access_key": "t", "config": Config(retries={"max_attempts": 1})}
    procs = start_stack(url, work / "data", port)
    try:
        raw = redis.Redis.from_url(url)
        s3 = boto3.client("s3", **options)
        ddb = boto3.client("dynamodb", **options)
        body = os.urandom(1024)
        s3.create_bucket(Bucket="bench")
        ddb.create_table(TableName="bench", BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         StreamSpecification={"StreamEnabled": True,
                                              "StreamViewType": "NEW_IMAGE"})
        raw_rate = rate(lambda i: raw.set(f"bench:{i}", body), args.ops)
        put_rate = rate(lambda i: s3.put_object(Bucket="bench", Key=f"o{i}", Body=body),
                        args.ops)
        item_rate = rate(lambda i: ddb.put_item(TableName="bench", Item={
            "pk": {"S": f"k{i}"}, "v": {"B": body}}), args.ops)
        big = big_object(s3, work, args.big_mb)
        indexed = index_rates(ddb, body, args.ops)

        code = work / "stamp"
        code.mkdir()
        (code / "app.py").write_text(STAMP_HANDLER)
        spec = work / "bench.yaml"
        spec.write_text(json.dumps({
            "functions": {"stamp": {"handler": "app.handler", "code": "./stamp", "events": [
                {"s3": {"bucket": "events", "events": ["s3:ObjectCreated:*"]}},
                {"dynamodb": {"table": "events", "batch_size": 1,
                              "starting_position": "LATEST"}}]}},
            "buckets": ["events"],
            "tables": {"events": {"keys": {"pk": "S"}, "stream": "NEW_IMAGE"}}}))
        subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(spec)],
                       env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT)
        for index in range(args.events):
            s3.put_object(Bucket="events", Key=f"e{index}-{time.time()}", Body=b"x")
            time.sleep(0.01)
        s3_latency = wait_latencies(endpoint, args.events)
        for _ in range(args.events):
            ddb.put_item(TableName="events", Item={"pk": {"S": uuid.uuid4().hex},
                                                   "sent": {"N": repr(time.time())}})
            time.sleep(0.01)
        both = wait_latencies(endpoint, 2 * args.events)
        ddb_latency = both[args.events:]
    finally:
        stop_stack(procs)
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print("\n## Data plane throughput (1 KB payloads, one client, sequential)")
    print(f"raw redis-py SET                  {raw_rate:8.0f} ops/s")
    print(f"S3 PutObject via boto3            {put_rate:8.0f} ops/s   "
          f"ratio {put_rate / raw_rate:.2f}")
    print(f"DynamoDB PutItem via boto3        {item_rate:8.0f} ops/s   "
          f"ratio {item_rate / raw_rate:.2f}")
    print("\n## DynamoDB secondary indexes (same run, same client)")
    for label, value in indexed.items():
        print(f"{label:34s}{value:8.0f} ops/s")
    slowdown = indexed["PutItem, 0 GSIs"] / indexed["PutItem, 2 GSIs"]
    by_index = indexed["Query by GSI (10 items)"] / indexed["Query on the table (10 items)"]
    print(f"PutItem slowdown with 2 GSIs      {slowdown:8.2f}x   (goal <= 1.5x)")
    print(f"Query by GSI / on the table       {by_index:8.2f}")
    print(f"\n## A {args.big_mb} MB object (MB/s; one client)      put      get")
    print(f"local file write / read           {big['file_put']:8.0f} {big['file_get']:8.0f}")
    print(f"S3 PutObject / GetObject          {big['s3_put']:8.0f} {big['s3_get']:8.0f}   "
          f"ratio {big['s3_put'] / big['file_put']:.2f} / {big['s3_get'] / big['file_get']:.2f}")
    print("\n## Change → handler start (ms)        p50      p99")
    print(f"S3 put → handler                  {percentile(s3_latency, .5):7.2f}  "
          f"{percentile(s3_latency, .99):7.2f}   (goal p50 <= 5 ms)")
    print(f"DynamoDB write → handler          {percentile(ddb_latency, .5):7.2f}  "
          f"{percentile(ddb_latency, .99):7.2f}   (goal: batching window 0 + 5 ms)")


def index_rates(ddb, body: bytes, ops: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """PutItem on a table without and with two GSIs, and a 10-item Query on the table vs the
    same items queried through a GSI."""
    keys = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    names = ("pk", "sk", "g1", "g2")
    gsis = [{"IndexName": f"by_{name}", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": name, "KeyType": "HASH"},
                           {"AttributeName": "sk", "KeyType": "RANGE"}]} for name in ("g1", "g2")]
    for table, extra in (("plain", {}), ("indexed", {"GlobalSecondaryIndexes": gsis})):
        ddb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST", KeySchema=keys,
                         AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"}
                                               for n in (names if extra else names[:2])], **extra)

    def item(i: int) -> dict[str, dict[str, str | bytes]]:
        return {"pk": {"S": f"p{i % 100}"}, "sk": {"S": f"s{i:07d}"}, "g1": {"S": f"a{i % 100}"},
                "g2": {"S": f"b{i % 50}"}, "v": {"B": body}}

    found = {"PutItem, 0 GSIs": rate(lambda i: ddb.put_item(TableName="plain", Item=item(i)), ops),
             "PutItem, 2 GSIs": rate(lambda i: ddb.put_item(TableName="indexed", Item=item(i)),
                                     ops)}
    query = {"Limit": 10, "ExpressionAttributeValues": {":v": {"S": "p7"}}}
    found["Query on the table (10 items)"] = rate(lambda i: ddb.query(
        TableName="indexed", KeyConditionExpression="pk = :v", **query), ops)
    query["ExpressionAttributeValues"] = {":v": {"S": "a7"}}
    found["Query by GSI (10 items)"] = rate(lambda i: ddb.query(
        TableName="indexed", IndexName="by_g1", KeyConditionExpression="g1 = :v", **query), ops)
    return found


def big_object(s3, work: Path, megabytes: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    """MB/s of one PutObject and one GetObject of `megabytes` vs a local file's write and
    read of the same bytes (page cache, no fsync on either side)."""
    source, local, back = work / "big.bin", work / "local.bin", work / "back.bin"
    with source.open("wb") as file:
        for _ in range(megabytes):
            file.write(os.urandom(1024 * 1024))
    figures: dict[str, float] = {}

    def timed(name: str, action) -> None:  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        action()
        figures[name] = megabytes / (time.perf_counter() - started)

    def copy(reader, path: Path) -> None:  # type: ignore[no-untyped-def]
        with path.open("wb") as output:
            while chunk := reader.read(1024 * 1024):
                output.write(chunk)

    def file_put() -> None:
        with source.open("rb") as reader:
            copy(reader, local)

    def file_get() -> None:
        with local.open("rb") as reader:
            while reader.read(1024 * 1024):
                pass

    def s3_put() -> None:
        with source.open("rb") as reader:
            s3.put_object(Bucket="bench", Key="big", Body=reader)

    def s3_get() -> None:
        copy(s3.get_object(Bucket="bench", Key="big")["Body"], back)

    for name, action in (("file_put", file_put), ("file_get", file_get), ("s3_put", s3_put),
                         ("s3_get", s3_get)):
        timed(name, action)
    if back.read_bytes() != source.read_bytes():
        raise AssertionError("the object came back different")
    return figures


def wait_latencies(endpoint: str, count: int) -> list[float]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = httpx.get(f"{endpoint}/_ripple/api/functions/stamp/logs",
                         params={"limit": 10_000}).json()
        values = [float(line.split(" ", 1)[1]) for entry in page["entries"]
                  for line in entry["text"].splitlines() if line.startswith("LATENCY ")]
        if len(values) >= count:
            return values
        time.sleep(0.2)
    raise TimeoutError(f"only some of {count} events arrived")


if __name__ == "__main__":
    main()
