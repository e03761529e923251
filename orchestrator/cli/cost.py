"""`ripple cost`: what the invocations would cost on Lambda, per function and per trace."""

from __future__ import annotations

import math
import re
import time
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint

out = Console()
err = Console(stderr=True)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd]?)")
WIDTH = 80


def since_epoch(since: str, now: float) -> float:
    """`30s`, `15m`, `1h`, `2d` back from `now`, or `all` (0)."""
    text = since.strip().lower()
    if text == "all":
        return 0.0
    match = _DURATION.fullmatch(text)
    if not match:
        raise typer.BadParameter(f"{since!r} is not a duration: use 30s, 15m, 1h, 2d or all",
                                 param_hint="--since")
    return max(0.0, now - float(match[1]) * UNITS[match[2] or "s"])


@app.command()
def cost(
    since: Annotated[str, typer.Option(help="how far back: 30s, 15m, 1h, 2d or all "
                                            "(default 1h; all with --trace)")] = "",
    function: Annotated[str | None, typer.Option(help="only this function")] = None,
    trace: Annotated[str | None, typer.Option(
        help="only this trace: the whole chain one event caused (X-Ray or W3C id)")] = None,
    memory: Annotated[int | None, typer.Option(
        min=128, max=10_240, help="what if every function had this memory (MB): billed "
                                  "durations kept, GB-seconds recomputed")] = None,
    free_tier: Annotated[bool, typer.Option(
        "--free-tier", help="take the monthly free tier off the total")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="print one JSON object")] = False,
) -> None:
    """What the recorded invocations would cost on Lambda (requests and GB-seconds, 1 ms
    billing, INIT billed), per function and per trace."""
    window = since or ("all" if trace else "1h")
    params: dict[str, Any] = {"since": since_epoch(window, time.time()),
                              "free_tier": free_tier}
    for name, value in (("function", function), ("trace", trace), ("memory", memory)):
        if value is not None:
            params[name] = value
    report = Endpoint().json("GET", "/_ripple/api/cost", params=params)
    if as_json:
        out.print_json(data=report)
        return
    print_report(report, window)


def print_report(report: dict[str, Any], window: str) -> None:
    total = report["total"]
    scope = f"trace {report['trace']}" if report["trace"] else f"since {window}"
    if not total["invocations"]:
        out.print(f"no invocations recorded ({scope})", highlight=False)
        return
    rows = {name: [f"{entry['invocations']:,}", f"{entry['cold_starts']:,}",
                   f"{entry['billed_ms'] / 1000:,.3f}", str(entry["memory_mb"]),
                   f"{entry['gb_seconds']:,.4f}", usd(entry["cost_usd"]["total"])]
            for name, entry in report["functions"].items()}
    print_table("function", ("calls", "cold", "billed s", "MB", "GB-s", "USD"), rows)
    price = total["cost_usd"]
    out.print(f"total ({scope}): {total['invocations']:,} requests {usd(price['requests'])}"
              f" + {total['gb_seconds']:,.4f} GB-s {usd(price['compute'])}"
              f" = [bold]{usd(price['total'])}[/]"
              + (" after the free tier" if report["free_tier"] else ""), highlight=False)
    if report["what_if"]:
        out.print(f"what-if: {report['what_if']}", highlight=False)
    traces = report["traces"]
    if traces["count"] and not report["trace"]:
        print_table("trace (dearest first)", ("calls", "fns", "billed s", "USD"), {
            entry["trace_id"]: [f"{entry['invocations']:,}", str(len(entry["functions"])),
                                f"{entry['billed_ms'] / 1000:,.3f}",
                                usd(entry["cost_usd"]["total"])]
            for entry in traces["top"]})
        out.print(f"{traces['count']:,} trace(s), {usd(traces['per_chain_usd'])} per chain "
                  f"({usd(traces['per_chain_usd'] * 1000)} per 1,000)", highlight=False)


def usd(amount: float) -> str:
    """Dollars with three significant digits however small (one request costs $0.0000002)."""
    if amount <= 0:
        return "$0"
    decimals = max(2, 2 - math.floor(math.log10(amount)))
    return f"${amount:,.{decimals}f}"


def print_table(first: str, headers: tuple[str, ...], rows: dict[str, list[str]]) -> None:
    """Names never cut and numbers never squeezed within 80 columns: when the longest name
    leaves no room for the numbers, rows are numbered and the names listed whole below."""
    widths = [max([len(header), *(len(cells[index]) for cells in rows.values())])
              for index, header in enumerate(headers)]
    room = WIDTH - sum(width + 1 for width in widths) - 1
    numbered = max(map(len, rows)) > room
    names = [str(index) for index in range(1, len(rows) + 1)] if numbered else list(rows)
    table = Table(Column("#" if numbered else first, no_wrap=True,
                         min_width=max(len(first) if not numbered else 1, *map(len, names))),
                  *(Column(header, no_wrap=True, justify="right", min_width=width)
                    for header, width in zip(headers, widths, strict=True)),
                  box=box.SIMPLE_HEAD, padding=(0, 0, 0, 1), pad_edge=False)
    for label, cells in zip(names, rows.values(), strict=True):
        table.add_row(label, *cells)
    out.print(table, width=WIDTH)
    if numbered:
        for label, name in zip(names, rows, strict=True):
            out.print(f" {label:>{len(names[-1])}} {first}: {name}", highlight=False,
                      soft_wrap=True)
