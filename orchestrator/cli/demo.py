"""`ripple demo`: the example pipelines on an embedded Redis, end to end."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint
from orchestrator.cli.functions import deploy_spec
from orchestrator.errors import RippleError
from orchestrator.process.stack import Stack
from orchestrator.settings import get_settings

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "ripple.yaml"
DEMO_CLOCK_SPEED = 60.0  # Lambda's 1 and 2 minute retry delays take 1 and 2 seconds
FANOUT = 10
out = Console()


@app.command()
def demo(
    once: Annotated[bool, typer.Option("--once", help="exit when the demo is done")] = False,
    port: Annotated[int | None, typer.Option(help="endpoint port (default 4566)")] = None,
    api_port: Annotated[int | None, typer.Option(
        help="API Gateway stage port (default 3000, 0: none)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where Redis and code live")] = None,
    workers: Annotated[int, typer.Option(help="worker processes")] = 2,
) -> None:
    """Deploy examples/, fire events, and show what ran (REPORT lines) and where to look next."""
    if not EXAMPLES.exists():
        out.print(f"[red]error:[/] {EXAMPLES} is missing: run the demo from a clone of ripple "
                  "installed with `pip install -e .`")
        raise typer.Exit(2)
    settings = get_settings()
    overrides: dict[str, Any] = {"port": port, "api_port": api_port, "data_dir": data_dir}
    if "RIPPLE_CLOCK_SPEED" not in os.environ:
        overrides["clock_speed"] = DEMO_CLOCK_SPEED
    settings = settings.with_overrides(**overrides)
    stack = Stack(settings, workers, log_dir=settings.data_dir.resolve() / "logs")
    try:
        out.print("[bold]ripple demo[/]: starting Redis, the endpoint and "
                  f"{workers} workers …")
        started = time.monotonic()
        stack.start()
        stack.wait_healthy()
        out.print(f"  up in {time.monotonic() - started:.1f} s at {stack.endpoint} "
                  f"(Lambda's clock runs {settings.clock_speed:g}x)")
        endpoint = Endpoint(stack.endpoint)
        deploy_spec(EXAMPLES, endpoint)
        run_scenario(endpoint)
        run_orders(endpoint)
        run_backup(endpoint)
        stage = endpoint.json("GET", "/_ripple/api/status")["apigateway"]
        if stage.get("url"):
            run_http(stage["url"])
        else:
            out.print(f"\n[bold]5. HTTP[/]: skipped, no API Gateway stage ({stage.get('reason')})")
        out.print("\n[bold]Where to look next[/] (in another terminal):\n"
                  f"  export RIPPLE_ENDPOINT={stack.endpoint}\n"
                  "  ripple functions            # counters per function\n"
                  "  ripple logs work --follow   # START / output / END / REPORT\n"
                  "  ripple invoke fanout --payload '{\"count\": 3}'\n"
                  "  ripple dlq ls               # events that failed every attempt\n"
                  "  ripple ddb scan totals      # the stream pipeline's output\n"
                  + (f"  curl {stage['url']}/work/7    # the API Gateway stage\n"
                     if stage.get("url") else "") +
                  "  ripple s3 ls backup         # what the notification pipeline copied\n"
                  "  ripple traces               # every chain as a trace\n"
                  "  ripple map --out map.svg    # the service map as a picture\n"
                  f"  boto3.client('lambda', endpoint_url='{stack.endpoint}')")
        if not once:
            out.print("\nripple keeps running; Ctrl-C stops it.")
            stack.wait()
    except RippleError as error:
        out.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        stack.stop()


def run_scenario(endpoint: Endpoint) -> None:
    out.print(f"\n[bold]1. Fan-out[/]: fanout invokes work {FANOUT} times through boto3")
    answer = endpoint.request(
        "POST", "/2015-03-31/functions/fanout/invocations",
        content=json.dumps({"count": FANOUT}), headers={"X-Amz-Log-Type": "Tail"})
    out.print(f"  fanout answered {answer.text}")
    _print_reports(base64.b64decode(answer.headers.get("x-amz-log-result", "")).decode())
    _wait(lambda: _counters(endpoint, "work")["invocations"] >= FANOUT, "work to run")
    logs = endpoint.json("GET", "/_ripple/api/functions/work/logs", params={"limit": FANOUT})
    _print_reports("".join(entry["text"] for entry in logs["entries"]))

    out.print("\n[bold]2. Failure[/]: flaky fails; Lambda retries it twice, then it is "
              "dead-lettered")
    endpoint.request("POST", "/2015-03-31/functions/flaky/invocations",
                     content=json.dumps({"order": 1001}),
                     headers={"X-Amz-Invocation-Type": "Event"})
    entries = _wait(lambda: [entry for entry in endpoint.json("GET", "/_ripple/api/dlq")
                             if entry["function"] == "flaky"], "flaky to be dead-lettered")
    record = entries[-1]["record"]
    error = record.get("responsePayload", {})
    out.print(f"  attempts: {record['requestContext']['approximateInvokeCount']}  "
              f"condition: {record['requestContext']['condition']}  "
              f"error: {error.get('errorType')}: {error.get('errorMessage')}")
    out.print(f"  dead letter {entries[-1]['id']} holds payload "
              f"{json.dumps(record['requestPayload'])}")


def run_orders(endpoint: Endpoint) -> None:
    import boto3

    out.print("\n[bold]3. Stream[/]: orders are written with boto3; the orders table's stream "
              "feeds totals, which keeps per-customer sums in another table")
    options = {"endpoint_url": endpoint.url, "region_name": "us-east-1",
               "aws_access_key_id": "demo", "aws_secret_access_key": "demo"}
    orders = boto3.resource("dynamodb", **options).Table("orders")
    totals = boto3.resource("dynamodb", **options).Table("totals")
    placed = [("o-1", "ada", 30), ("o-2", "ada", 12), ("o-3", "grace", 50), ("o-4", "grace", 8)]
    for order_id, customer, amount in placed:
        orders.put_item(Item={"order_id": order_id, "customer": customer, "amount": amount})
    orders.update_item(Key={"order_id": "o-2"}, UpdateExpression="SET amount = :a",
                       ExpressionAttributeValues={":a": 20})
    orders.delete_item(Key={"order_id": "o-4"})
    expected = {"ada": 50, "grace": 50}

    def settled() -> dict[str, int] | None:
        found = {item["customer"]: int(item["total"]) for item in totals.scan()["Items"]}
        return found if found == expected else None

    found = _wait(settled, "totals to catch up with the orders")
    out.print(f"  totals: {found} (after 4 puts, 1 update, 1 delete)")
    logs = endpoint.json("GET", "/_ripple/api/functions/totals/logs", params={"limit": 5})
    _print_reports("".join(entry["text"] for entry in logs["entries"]))


def run_backup(endpoint: Endpoint) -> None:
    import boto3

    out.print("\n[bold]4. Notifications[/]: objects put into uploads with boto3 are copied "
              "into backup by a function their S3 event triggers")
    s3 = boto3.client("s3", endpoint_url=endpoint.url, region_name="us-east-1",
                      aws_access_key_id="demo", aws_secret_access_key="demo")
    names = ["reports/q3.csv", "images/cat 1.jpg"]
    for key in names:
        s3.put_object(Bucket="uploads", Key=key, Body=f"contents of {key}".encode())

    def copied() -> list[str] | None:
        listed = s3.list_objects_v2(Bucket="backup").get("Contents", [])
        keys = sorted(item["Key"] for item in listed)
        return keys if set(names) <= set(keys) else None

    out.print(f"  backup now holds: {_wait(copied, 'the backups')}")
    logs = endpoint.json("GET", "/_ripple/api/functions/backup/logs", params={"limit": 2})
    _print_reports("".join(entry["text"] for entry in logs["entries"]))


def run_http(stage: str) -> None:
    import httpx

    out.print("\n[bold]5. HTTP[/]: GET /work/7 through the API Gateway stage runs work "
              "synchronously with an HTTP API event")
    answer = httpx.get(f"{stage}/work/7", timeout=30)
    out.print(f"  {answer.status_code} {answer.headers.get('content-type')}  {answer.text}  "
              f"(x-amzn-RequestId {answer.headers.get('x-amzn-requestid')})", highlight=False)
    if answer.status_code != 200:
        raise RippleError(f"the stage answered {answer.status_code}: {answer.text}")


def _counters(endpoint: Endpoint, name: str) -> dict[str, int]:
    return endpoint.json("GET", f"/_ripple/api/functions/{name}")["counters"]  # type: ignore[no-any-return]


def _print_reports(log: str) -> None:
    for line in log.splitlines():
        if line.startswith("REPORT"):
            out.print("  " + line.replace("\t", "  ").strip(), highlight=False, soft_wrap=True)


def _wait(condition: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise RippleError(f"timed out after {timeout:.0f} s waiting for {what}")
