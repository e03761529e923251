"""`ripple up`, `ripple worker` and `ripple status`."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint
from orchestrator.errors import RippleError
from orchestrator.process.stack import Stack, worker_bounds
from orchestrator.settings import Settings, get_settings

out = Console()
err = Console(stderr=True)


@app.command()
def up(
    spec: Annotated[Path | None, typer.Option(help="ripple.yaml to deploy once up")] = None,
    template: Annotated[Path | None, typer.Option(
        help="a SAM template.yaml to deploy once up (instead of --spec)")] = None,
    watch: Annotated[bool, typer.Option(
        "--watch", help="redeploy by itself when the spec, template or a function's code "
                        "is saved")] = False,
    workers: Annotated[str, typer.Option(
        help="worker processes: N, or auto[:MIN-MAX] to scale with the queues "
             "(auto alone: 1 to one per core)")] = "1",
    port: Annotated[int | None, typer.Option(help="endpoint port (default 4566)")] = None,
    api_port: Annotated[int | None, typer.Option(
        help="API Gateway stage port (default 3000; 0 turns the stage off)")] = None,
    host: Annotated[str | None, typer.Option(help="address to bind (default 127.0.0.1)")] = None,
    data_dir: Annotated[Path | None, typer.Option(help="where Redis, code and traces live")] = None,
    concurrency: Annotated[int | None, typer.Option(help="invocations at once per worker")] = None,
    redis_port: Annotated[int | None, typer.Option(
        help="the embedded Redis's port (default: a free one)")] = None,
) -> None:
    """Start Redis (embedded unless REDIS_URL is set), the endpoint and workers; Ctrl-C stops."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per health check is noise
    # A line per process started is noise too until the summary says what is up; after it,
    # a restart or a scaling step is news.
    supervisor = logging.getLogger("ripple.supervisor")
    supervisor.setLevel(logging.WARNING)
    if spec and template:
        err.print("[red]error:[/] --spec and --template: give one of them")
        raise typer.Exit(2)
    spec = spec or template
    if watch and spec is None:
        err.print("[red]error:[/] --watch needs --spec or --template: what to redeploy")
        raise typer.Exit(2)
    settings = get_settings().with_overrides(port=port, api_port=api_port, host=host,
                                             data_dir=data_dir, worker_concurrency=concurrency,
                                             redis_port=redis_port)
    try:
        stack = Stack(settings, worker_bounds(workers))
    except RippleError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    stopping = threading.Event()
    up = False
    try:
        stack.start()
        stack.wait_healthy()
        if spec is not None:
            from orchestrator.cli.functions import deploy_spec

            deploy_spec(spec, Endpoint(stack.endpoint))
            if watch:
                start_watching(spec, Endpoint(stack.endpoint), stopping, settings.data_dir)
        print_up(stack, settings)
        supervisor.setLevel(logging.NOTSET)
        print_stage(Endpoint(stack.endpoint).json("GET", "/_ripple/api/status")["apigateway"])
        out.print("Ctrl-C stops.")
        up = True
        stack.wait()
    except RippleError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    finally:
        stopping.set()
        supervisor.setLevel(logging.WARNING)  # one line for the stop, not one per process
        stack.stop()
        if up:
            out.print("ripple stopped")


def start_watching(spec: Path, endpoint: Endpoint, stop: threading.Event, data_dir: Path) -> None:
    """`--watch`: a thread that redeploys the spec or template on every saved change."""
    from orchestrator.cli.functions import deploy_quietly
    from orchestrator.process.watch import watch

    threading.Thread(target=watch, name="ripple-watch", daemon=True,
                     args=(spec, lambda path: deploy_quietly(path, endpoint), stop,
                           data_dir)).start()
    out.print(f"watching {spec} and its functions' code: a saved change is deployed by itself")


def print_up(stack: Stack, settings: Settings) -> None:
    """What is up and where, a line each."""
    from tracing.setup import described

    host = settings.host

    def port(number: int, scheme: str = "") -> str:
        return f"{scheme}{host}:{number}" if number else "off (port 0)"

    redis = (f"embedded, {host}:{stack.redis.port} (password in {settings.data_dir}/redis/)"
             if stack.redis else "REDIS_URL")
    scaled = f", scaling {stack.bounds.min}-{stack.bounds.max}" if stack.bounds.auto else ""
    rows = [("endpoint", f"{stack.endpoint}  (Lambda, S3, DynamoDB, X-Ray; OTLP /v1/traces)"),
            ("viewer", f"{stack.endpoint}/_ripple/"),
            ("OTLP/gRPC", port(settings.otlp_grpc_port)),
            ("X-Ray daemon", port(settings.xray_daemon_port, "udp ")),
            ("Redis", redis),
            ("workers", f"{stack.workers}{scaled}"),
            ("traces", described(settings.trace_reservoir, settings.trace_rate)),
            ("data", str(settings.data_dir))]
    out.print("[green]ripple is up[/]")
    for name, where in rows:
        out.print(f"  {name:<13} {where}", highlight=False, soft_wrap=True)


def print_stage(stage: dict[str, Any]) -> None:
    """The API Gateway stage's URL (or why there is none) and its routes."""
    if not stage["url"]:
        out.print(f"API Gateway stage: off, {stage['reason']}")
        return
    routes = stage["routes"]
    out.print(f"API Gateway stage at {stage['url']} ({len(routes)} route(s))")
    for route in routes:
        out.print(f"  {route['route']:<32} -> {route['function']} "
                  f"(payload {route['payload_format']})", highlight=False)


@app.command()
def worker(
    concurrency: Annotated[int | None, typer.Option(help="invocations at once")] = None,
    loglevel: Annotated[str, typer.Option(help="Celery log level")] = "WARNING",
) -> None:
    """Run a Celery worker that executes invocations (joins the Redis at REDIS_URL)."""
    from workers.main import run_worker

    settings = get_settings()
    if not settings.redis_url:
        err.print("[red]error:[/] REDIS_URL is not set: a worker joins an existing ripple "
                  "Redis (ripple up prints it).")
        raise typer.Exit(2)
    run_worker(settings, concurrency, loglevel)


LEDGER_COLUMNS = ("accepted", "succeeded", "failed", "expired", "stopped", "in_flight",
                  "duplicates")


@app.command()
def status(
    as_json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
    ledger: Annotated[bool, typer.Option(
        "--ledger", help="the delivery ledger: what became of every async event")] = False,
    show_secrets: Annotated[bool, typer.Option(
        "--show-secrets", help="print the Redis URL with its password")] = False,
) -> None:
    """Workers, queues and dead letters of the running ripple (or, with --ledger, whether
    every accepted async event is accounted for; exit 1 if one is lost)."""
    if ledger:
        print_ledger(Endpoint().json("GET", "/_ripple/api/ledger"), as_json)
        return
    answer = Endpoint().json("GET", "/_ripple/api/status")
    if as_json:
        out.print_json(data=answer)
        return
    out.print(f"workers: {len(answer['workers'])}  functions: {answer['functions']}  "
              f"queued: {answer['queued']}  delayed: {answer['delayed']}  "
              f"dead letters: {answer['dead_letters']}")
    if answer.get("redis_url"):  # password masked: for Flower, or a second machine's worker
        out.print(f"redis: {redis_url(answer['redis_url'], show_secrets)}", highlight=False)
    print_scaling(Endpoint().json("GET", "/_ripple/api/scaling", params={"limit": 1}))
    if "apigateway" in answer:
        print_stage(answer["apigateway"])


def redis_url(masked: str, show_secrets: bool) -> str:
    """The endpoint's (masked) Redis URL; with `show_secrets`, with the embedded Redis's
    password from this machine's data directory (`ripple up` keeps it there, 0600)."""
    password = get_settings().data_dir / "redis" / "password"
    if show_secrets and "****" in masked and password.exists():
        return masked.replace("****", password.read_text().strip(), 1)
    return masked


def print_scaling(scaling: dict[str, Any]) -> None:
    """The worker processes `ripple up` runs, their bounds, and its last scaling decision."""
    bounds = ("fixed" if scaling["min"] == scaling["max"]
              else f"auto {scaling['min']}-{scaling['max']}")
    line = f"worker processes: {scaling['workers']} ({bounds})"
    if scaling["decisions"]:
        last = scaling["decisions"][-1]
        when = time.strftime("%H:%M:%S", time.localtime(last["time"]))
        line += f"; last decision {when}: {last['from']} -> {last['to']}, {last['reason']}"
    out.print(line, highlight=False)


def print_ledger(report: dict[str, Any], as_json: bool) -> None:
    lost = {name: entry["lost"] for name, entry in report.items() if entry["lost"]}
    if as_json:
        out.print_json(data=report)
    elif not report:
        out.print("no async events yet")
    else:
        columns = [column for column in LEDGER_COLUMNS  # `stopped` only when it happened
                   if column != "stopped" or any(entry["stopped"] for entry in report.values())]
        headers = {"accepted": "accepted", "succeeded": "ok", "failed": "failed",
                   "expired": "expired", "stopped": "stopped", "in_flight": "flight",
                   "duplicates": "dup"}
        cells = [[f"{entry[column]:,}" for column in columns] for entry in report.values()]
        widths = [max([len(headers[column]), *(len(row[index]) for row in cells)])
                  for index, column in enumerate(columns)]
        table = Table(Column("function", no_wrap=True, min_width=max(map(len, report))),
                      *(Column(headers[column], no_wrap=True, justify="right", min_width=width)
                        for column, width in zip(columns, widths, strict=True)),
                      box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False)
        for name, row in zip(report, cells, strict=True):
            table.add_row(name, *row)
        out.print(table)
        if not lost:
            out.print("[green]every accepted event is accounted for[/]")
        for name, ids in lost.items():
            err.print(f"[red]{name}: {len(ids)} event(s) accepted and accounted nowhere:[/] "
                      + ", ".join(ids[:20]) + (" …" if len(ids) > 20 else ""))
    if lost:
        raise typer.Exit(1)
