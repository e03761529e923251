"""`ripple traces`, `ripple trace ID` and `ripple map`: X-Ray's picture in the terminal."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Column, Table

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint

out = Console()
JSON = Annotated[bool, typer.Option("--json", help="print JSON")]
SINCE = Annotated[str, typer.Option(help="how far back: 30s, 15m, 2h, 1d")]


@app.command()
def traces(filter_: Annotated[str | None, typer.Option("--filter", help="X-Ray filter "
                                                        "expression, e.g. 'service(\"resize\") "
                                                        "AND fault'")] = None,
           since: SINCE = "15m", limit: Annotated[int, typer.Option()] = 50,
           as_json: JSON = False) -> None:
    """Recent traces (GetTraceSummaries), newest first."""
    params: dict[str, Any] = {"since": since, "limit": limit}
    if filter_:
        params["filter"] = filter_
    answer = Endpoint().json("GET", "/_ripple/api/traces", params=params)
    summaries = answer.get("TraceSummaries", [])
    if as_json:
        out.print_json(data=answer)
        return
    # The id is what a person copies into `ripple trace`: it is never cut; the services (the
    # entry point first) wrap between names instead, so a row fits 80 columns.
    table = Table(Column("trace id", no_wrap=True, min_width=35),
                  Column("started", no_wrap=True), Column("ms", justify="right", no_wrap=True),
                  Column("services", ratio=1, overflow="fold"), Column("status", max_width=8),
                  box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    for summary in summaries:
        started = summary.get("StartTime")
        when = datetime.fromtimestamp(float(started)).strftime("%H:%M:%S") if started else ""
        flags = [name for name, key in (("fault", "HasFault"), ("error", "HasError"),
                                        ("throttle", "HasThrottle")) if summary.get(key)]
        entry = (summary.get("EntryPoint") or {}).get("Name", "")
        others = sorted({s.get("Name", "") for s in summary.get("ServiceIds", [])} - {entry})
        table.add_row(summary["Id"], when, f"{float(summary.get('Duration') or 0) * 1000:.1f}",
                      ", ".join(filter(None, [entry, *others])), " ".join(flags) or "ok")
    out.print(table)


@app.command()
def trace(trace_id: str, xray: Annotated[bool, typer.Option("--xray", help="print the X-Ray "
                                                             "segment documents")] = False
          ) -> None:
    """One trace as a waterfall (or its X-Ray segment documents)."""
    from tracing.waterfall import render

    answer = Endpoint().json("GET", f"/_ripple/api/traces/{trace_id}")
    found = answer.get("Traces", [answer])
    if xray:
        out.print_json(data=answer)
        return
    # Piped output has no width to fit: draw wide rather than cut the names.
    console = out if out.is_terminal else Console(width=160)
    for one in found:
        console.print(render(one))


@app.command("map")
def service_map(since: SINCE = "15m",
                out_file: Annotated[Path | None, typer.Option("--out", help="write an SVG or "
                                                               "PNG picture")] = None,
                as_json: JSON = False) -> None:
    """The service map (GetServiceGraph): nodes, edges, calls and response times."""
    graph = Endpoint().json("GET", "/_ripple/api/servicemap", params={"since": since})
    if as_json:
        out.print_json(data=graph)
        return
    if out_file is not None:
        from tracing.map_picture import save

        save(graph, out_file)
        out.print(f"wrote {out_file}")
        return
    names = _labels(graph.get("Services", []))
    # Names wrap rather than being cut; the figures keep their width.
    figures = [Column(header, justify="right", no_wrap=True)
               for header in ("calls", "avg ms", "errors", "throttles", "faults")]
    table = Table(Column("from", ratio=1, overflow="fold"), Column("to", ratio=1, overflow="fold"),
                  Column("type", no_wrap=True), *figures, box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)
    for service in graph.get("Services", []):
        for edge in service.get("Edges", []):
            stats = edge.get("SummaryStatistics") or {}
            total = int(stats.get("TotalCount") or 0)
            average = float(stats.get("TotalResponseTime") or 0) / total * 1000 if total else 0
            errors = stats.get("ErrorStatistics") or {}
            table.add_row(names[service["ReferenceId"]], names.get(edge["ReferenceId"], "?"),
                          edge.get("EdgeType", "standard"), str(total), f"{average:.1f}",
                          str(errors.get("OtherCount", 0)), str(errors.get("ThrottleCount", 0)),
                          str((stats.get("FaultStatistics") or {}).get("TotalCount", 0)))
    out.print(table if table.row_count else "no traffic in this window")


def _labels(services: list[dict[str, Any]]) -> dict[int, str]:
    """Each node's name, with the last part of its type when the name alone is ambiguous (a
    function is both its Lambda service and its handler: `work (Lambda)`, `work (Function)`)."""
    types: dict[str, set[str]] = {}
    for service in services:
        types.setdefault(service.get("Name", "?"), set()).add(service.get("Type", ""))
    return {service["ReferenceId"]: (
        f"{service.get('Name', '?')} ({service.get('Type', '').rpartition('::')[2]})"
        if len(types[service.get("Name", "?")]) > 1 else service.get("Name", "?"))
        for service in services}
