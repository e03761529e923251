"""`ripple load TARGET`: send events at a rate or a concurrency, show them live, and summarize
what ripple did with them (requests, whole chains, per function, workers, cost)."""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

import typer
from rich.console import Console

from orchestrator.cli.app import app
from orchestrator.load import LoadError
from orchestrator.load.collect import Stack, Tick
from orchestrator.load.generator import Generator, Plan, Sample
from orchestrator.load.live import Display
from orchestrator.load.schedule import Profile
from orchestrator.load.summary import Run
from orchestrator.load.targets import Target
from orchestrator.settings import get_settings

out = Console()
err = Console(stderr=True)
MAX_EVENTS = 1_000_000
MAX_SECONDS = 3600.0
DEFAULT_SECONDS = 10.0
DEFAULT_RATE = "200"  # events/s, open loop, when neither --rate nor --concurrency is given


def loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback
                   for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return False


def plan_of(target: Target, endpoint: str, stage: str, rate: str | None, concurrency: int,
            count: int | None, duration: float | None, **options: Any) -> Plan:
    if rate is not None and concurrency:
        raise LoadError("--rate and --concurrency exclude each other: pick one")
    if rate is None and not concurrency:
        rate = DEFAULT_RATE
    if rate is not None:
        Profile.parse(rate)
    if count is None and duration is None:
        duration = DEFAULT_SECONDS
    if (count or 0) > MAX_EVENTS or (duration or 0) > MAX_SECONDS:
        raise LoadError(f"a load run is bounded: at most {MAX_EVENTS:,} events and "
                        f"{MAX_SECONDS:,.0f} s")
    kind = options.pop("invocation_type") or ("Event" if rate is not None else "RequestResponse")
    return Plan(target=str(target), endpoint=endpoint, stage=stage, rate=rate,
                concurrency=concurrency, count=count, duration=duration,
                invocation_type=kind, **options)


def execute(plan: Plan, stack: Stack, drain: float, quiet: bool) -> Run:
    target = Target.parse(plan.target)
    asynchronous = (target.kind == "invoke" and plan.invocation_type == "Event") or \
        target.kind == "s3"
    roots = {target.name} if target.kind == "invoke" else set()
    before = stack.snapshot()
    samples: list[Sample] = []
    ticks: list[Tick] = []
    generator = Generator(plan)
    console = Console(stderr=True, quiet=quiet)
    with Display(console, plan.target, roots) as display:
        def on_samples(batch: list[Sample]) -> None:
            samples.extend(batch)
            display.add(batch)

        def on_tick() -> None:
            if not ticks or time.time() - ticks[-1].time >= 1.0:
                ticks.append(stack.tick())
                display.update(ticks[-1])
            else:
                display.update()

        generator.run(on_samples, on_tick)
        started = generator.started
        if asynchronous and not generator.interrupted:
            functions = set(stack.get("/ledger")) if target.kind == "s3" else roots
            deadline = time.monotonic() + drain
            while stack.in_flight(functions) and time.monotonic() < deadline:
                on_tick()
                time.sleep(0.2)
    if asynchronous:
        time.sleep(0.3)  # the last records' pipeline lands with the ledger's settle
    ticks.append(stack.tick())
    run = Run(target=plan.target, kind=target.kind, asynchronous=asynchronous, samples=samples,
              records=stack.records({s.root for s in samples}), before=before,
              after=stack.snapshot(), ticks=ticks, scaling=stack.scaling(started - 1),
              interrupted=generator.interrupted)
    return run


@app.command()
def load(
    target: Annotated[str | None, typer.Argument(
        help="invoke:NAME, s3:BUCKET/PREFIX, ddb:TABLE or 'http:METHOD /path'")] = None,
    rate: Annotated[str | None, typer.Option(
        help="open loop, events/s: 200 (the default when neither this nor --concurrency), "
             "or ramps like '10..200@30,200' (from..to@seconds)")]
    = None,
    concurrency: Annotated[int, typer.Option(min=0, max=1024,
                                             help="closed loop: requests in flight")] = 0,
    count: Annotated[int | None, typer.Option(min=1, help="events to send")] = None,
    duration: Annotated[float | None, typer.Option(
        min=0.1, help="seconds to send for (10 when neither this nor --count)")] = None,
    payload: Annotated[str | None, typer.Option(
        help="body template: {n} {uuid} {now} {now_ms} {rand} are filled per event")] = None,
    key: Annotated[str, typer.Option(help="s3: object key template after the prefix")]
    = "{n}-{uuid}",
    invocation_type: Annotated[str | None, typer.Option(
        help="invoke: Event (default with --rate) or RequestResponse (with --concurrency)")]
    = None,
    processes: Annotated[int, typer.Option(min=1, max=64, help="sending processes")] = 2,
    connections: Annotated[int, typer.Option(
        min=1, max=4096, help="open loop: most requests in flight at once")] = 64,
    drain: Annotated[float, typer.Option(
        help="seconds to wait for async chains to finish after the last send")] = 60.0,
    as_json: Annotated[bool, typer.Option("--json", help="print the summary as JSON")] = False,
    report: Annotated[Path | None, typer.Option(
        help="write report.html, PNG charts and summary.json to this folder")] = None,
    forecast: Annotated[bool, typer.Option(
        "--forecast", help="replay the arrivals through Lambda's rules: throttles and chain "
                           "latency on AWS")] = False,
    compare: Annotated[tuple[Path, Path] | None, typer.Option(
        help="put two summaries (A.json B.json) side by side")] = None,
    ceiling: Annotated[bool, typer.Option(
        "--ceiling", help="measure the generator's own ceiling against a no-op target")] = False,
    allow_remote: Annotated[bool, typer.Option(
        "--allow-remote", help="allow an endpoint that is not this machine")] = False,
) -> None:
    """Load a function, bucket, table or route; summarize requests and whole chains."""
    try:
        if compare is not None:
            from orchestrator.load.compare import print_comparison
            print_comparison(out, *compare)
            return
        if ceiling:
            show_ceiling(processes, concurrency or 16, as_json)
            return
        if target is None:
            raise LoadError("name a TARGET (invoke:NAME, s3:BUCKET/PREFIX, ddb:TABLE, "
                            "'http:METHOD /path'), or use --ceiling or --compare")
        settings = get_settings()
        if not allow_remote and not loopback(settings.endpoint):
            raise LoadError(f"{settings.endpoint} is not this machine: load stays on loopback "
                            "unless --allow-remote")
        parsed = Target.parse(target)
        stack = Stack(settings.endpoint, settings.token)
        stage = stack.stage_url() if parsed.kind == "http" else ""
        plan = plan_of(parsed, settings.endpoint, stage, rate, concurrency, count, duration,
                       payload=payload, key=key, invocation_type=invocation_type,
                       processes=processes, connections=connections)
        plan.builder()  # a bad template fails here, before any process starts
        run = execute(plan, stack, drain, quiet=as_json)
        summary = run.summary()
        if forecast:
            from orchestrator.load.forecast import forecast_run
            summary["forecast"] = forecast_run(run)
        if report is not None:
            from orchestrator.load.report import write_report
            write_report(run, summary, report)
    except LoadError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(2) from None
    if as_json:
        out.print_json(data=summary)
    else:
        print_summary(summary, run.interrupted)
    if errors := run.request_errors():
        (err if as_json else out).print(
            "request errors: " + ", ".join(f"{n:,} {kind}" for kind, n in errors.items()),
            highlight=False)
    if report is not None:
        err.print(f"report: {report / 'report.html'}")


def show_ceiling(processes: int, concurrency: int, as_json: bool) -> None:
    from orchestrator.load.ceiling import measure
    figures = measure(processes, concurrency)
    if as_json:
        out.print_json(data=figures)
        return
    out.print(f"generator ceiling: {figures['requests_per_s']:,.0f} requests/s to a no-op "
              f"target ({processes} processes, {concurrency} in flight; p50 "
              f"{figures['p50_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms)", highlight=False)


def print_summary(summary: dict[str, Any], interrupted: bool) -> None:
    from orchestrator.load.compare import summary_lines
    if interrupted:
        out.print("[yellow]stopped by Ctrl-C: a partial summary[/]")
    for line in summary_lines(summary):
        out.print(line, highlight=False, soft_wrap=True)
    if "forecast" in summary:
        out.print("forecast on AWS: " + json.dumps(summary["forecast"]["summary"]),
                  highlight=False)
