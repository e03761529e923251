"""`ripple chaos`: faults on demand against the `ripple up` running on this machine, bounded in
count and time, then the delivery ledger, so you can see that nothing accepted was lost."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlparse

import typer
from rich.console import Console

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint
from orchestrator.cli.up import print_ledger
from orchestrator.errors import RippleError
from orchestrator.process import chaos as faults
from orchestrator.settings import get_settings

out = Console(highlight=False)
err = Console(stderr=True)
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
MAX_SECONDS = 3600
MAX_FAULTS = 1000


@app.command()
def chaos(
    kill: Annotated[list[str] | None, typer.Option(
        metavar="KIND",
        help="kill -9, in turn: worker, environment, redis or endpoint (repeat the option)")
    ] = None,
    every: Annotated[float, typer.Option(min=0.5, help="seconds between two kills")] = 5.0,
    duration: Annotated[float, typer.Option(
        min=1, max=MAX_SECONDS, help="seconds the faults last; then it stops by itself")] = 30.0,
    count: Annotated[int, typer.Option(min=1, max=MAX_FAULTS, help="kills at most")] = 100,
    pause_worker: Annotated[float, typer.Option(
        min=0, max=600, help="SIGSTOP one worker this many seconds (past its heartbeat)")] = 0,
    duplicate: Annotated[float, typer.Option(
        min=0, max=1, help="fraction of async events delivered twice (idempotency test)")] = 0,
    drop_otlp: Annotated[bool, typer.Option(help="the OTLP receiver answers 503")] = False,
    data_dir: Annotated[Path | None, typer.Option(help="the data dir `ripple up` uses")] = None,
) -> None:
    """Kill or pause ripple's own processes on this machine, duplicate events, drop spans."""
    settings = get_settings().with_overrides(data_dir=data_dir)
    if urlparse(settings.endpoint).hostname not in LOOPBACK:
        err.print(f"[red]error:[/] chaos acts on this machine's stack only; "
                  f"RIPPLE_ENDPOINT is {settings.endpoint}")
        raise typer.Exit(2)
    kinds = kill or []
    unknown = sorted(set(kinds) - set(faults.KINDS))
    if unknown:
        err.print(f"[red]error:[/] --kill {unknown[0]}: one of {', '.join(faults.KINDS)}")
        raise typer.Exit(2)
    endpoint = Endpoint(settings.endpoint)
    data = settings.data_dir.resolve()
    try:
        faults.stack_process(data)
        if duplicate or drop_otlp:
            endpoint.json("PUT", "/_ripple/api/chaos", json={
                "duplicate": duplicate, "drop_otlp": drop_otlp, "seconds": duration})
            ends = time.strftime("%H:%M:%S", time.localtime(time.time() + duration))
            say(f"{duplicate:.0%} of async events delivered twice"
                + (", OTLP receiver answering 503" if drop_otlp else "")
                + f", until {ends} (it stops by itself)")
        if pause_worker:
            victim = faults.pause(data, pause_worker)
            say(f"paused worker {victim.pid} for {pause_worker:g} s, then resumed it")
        run_kills(data, kinds, every, duration, count)
    except RippleError as error:
        err.print(f"[red]error:[/] {error}")
        raise typer.Exit(1) from None
    settle(endpoint)


def run_kills(data: Path, kinds: list[str], every: float, duration: float, count: int) -> None:
    deadline = time.monotonic() + duration
    done = 0
    while kinds and done < count and time.monotonic() < deadline:
        kind = kinds[done % len(kinds)]
        try:
            victim = faults.kill(data, kind)
            say(f"killed {kind} (pid {victim.pid})")
        except faults.ChaosError as error:
            say(f"skipped: {error}")
        done += 1
        time.sleep(max(0.0, min(every, deadline - time.monotonic())))


def settle(endpoint: Endpoint, timeout: float = 120) -> None:
    """Wait (bounded) for the stack to answer and the events in flight to settle, then print
    the ledger."""
    deadline = time.monotonic() + timeout
    report = None
    while time.monotonic() < deadline:
        try:
            report = endpoint.json("GET", "/_ripple/api/ledger")
            if all(entry["in_flight"] == 0 for entry in report.values()):
                break
        except RippleError:
            pass
        time.sleep(1)
    if report is None:
        err.print("[red]error:[/] the endpoint did not answer within "
                  f"{timeout:.0f} s")
        raise typer.Exit(1)
    print_ledger(report, as_json=False)


def say(text: str) -> None:
    out.print(f"{time.strftime('%H:%M:%S')} {text}")
