"""`ripple deploy`, `functions`, `invoke` and `logs`."""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Column, Table

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint
from orchestrator.errors import RippleError

out = Console()
err = Console(stderr=True)
JSON = Annotated[bool, typer.Option("--json", help="print JSON")]


def deploy_spec(path: Path, endpoint: Endpoint) -> list[dict[str, Any]]:
    """Validate, package and upload every function of a spec or SAM template; nothing is
    deployed on error (printed, exit 1)."""
    try:
        results = deploy_quietly(path, endpoint)
    except RippleError as error:
        err.print(f"[red]error:[/] {escape(str(error))}")
        raise typer.Exit(1) from None
    for result in results:
        state = ("created" if result.get("created") else "updated" if result["changed"]
                 else "unchanged")
        err.print(f"deployed {result['name']} ({state}, version {result['version']})")
    return results


def deploy_quietly(path: Path, endpoint: Endpoint) -> list[dict[str, Any]]:
    """Deploy a ripple.yaml or template.yaml; raises RippleError (SpecError) before uploading."""
    from orchestrator.spec import load_any
    from orchestrator.spec.packages import package_spec

    spec = load_any(path)
    packages = package_spec(spec)
    if spec.buckets or spec.tables:
        tables = {name: table.model_dump(mode="json") for name, table in spec.tables.items()}
        endpoint.json("PUT", "/_ripple/api/resources",
                      json={"buckets": spec.buckets, "tables": tables})
    results = []
    for package in packages:
        sha = package.config.code_sha256
        if endpoint.request("HEAD", f"/_ripple/api/code/{sha}").status_code != 200:
            endpoint.json("PUT", f"/_ripple/api/code/{sha}", content=package.archive)
        body = package.config.model_dump(mode="json")
        results.append(endpoint.json("PUT", f"/_ripple/api/functions/{package.config.name}",
                                     json=body))
    return results


@app.command()
def deploy(spec: Annotated[Path, typer.Argument(
        help="the spec file: ripple.yaml, or a SAM template.yaml")] = Path("ripple.yaml"),
           as_json: JSON = False) -> None:
    """Deploy the functions of a spec (ripple.yaml or a SAM template) to the running ripple."""
    results = deploy_spec(spec, Endpoint())
    if as_json:
        out.print_json(data=results)


@app.command()
def functions(as_json: JSON = False) -> None:
    """List deployed functions with their configuration and counters."""
    listing = Endpoint().json("GET", "/_ripple/api/functions")
    if as_json:
        out.print_json(data=listing)
        return
    # Nothing wraps or shrinks: names and handlers are what a person looks for.
    headers = ("name", "handler", "MB", "timeout", "reserved", "calls", "errors", "throttles",
               "cold")
    table = Table(*(Column(header, no_wrap=True, min_width=len(header)) for header in headers),
                  box=box.SIMPLE_HEAD)
    for function in listing:
        counters = function["counters"]
        reserved = function["reserved_concurrency"]
        table.add_row(function["name"], function["handler"], str(function["memory"]),
                      f"{function['timeout']} s", "-" if reserved is None else str(reserved),
                      str(counters["invocations"]), str(counters["errors"]),
                      str(counters["throttles"]), str(counters["cold_starts"]))
    out.print(table)


@app.command()
def invoke(
    name: str,
    payload: Annotated[str, typer.Option(help="event JSON, or @file to read it")] = "{}",
    async_: Annotated[bool, typer.Option("--async", help="queue it (Event) and return")] = False,
) -> None:
    """Invoke a function: its response on stdout, REPORT on stderr, exit 1 on a function error."""
    body = Path(payload[1:]).read_bytes() if payload.startswith("@") else payload.encode()
    headers = {"X-Amz-Invocation-Type": "Event" if async_ else "RequestResponse",
               "X-Amz-Log-Type": "Tail"}
    answer = Endpoint().request("POST", f"/2015-03-31/functions/{name}/invocations",
                                content=body, headers=headers)
    if answer.status_code >= 400:
        error_type = answer.headers.get("x-amzn-errortype", "Error")
        err.print(f"[red]{error_type}[/]: {answer.json().get('message', answer.text)}")
        raise typer.Exit(2)
    if async_:
        err.print(f"queued {answer.headers.get('x-amzn-requestid', '')}")
        return
    sys.stdout.write(answer.text + "\n")
    tail = base64.b64decode(answer.headers.get("x-amz-log-result", "")).decode(errors="replace")
    for line in tail.splitlines():
        if line.startswith("REPORT"):
            err.print(line.replace("\t", "  "), highlight=False)
    if answer.headers.get("x-amz-function-error"):
        raise typer.Exit(1)


@app.command()
def logs(
    name: str,
    follow: Annotated[bool, typer.Option("--follow", "-f", help="keep printing new logs")] = False,
    limit: Annotated[int, typer.Option(help="how many recent invocations")] = 20,
    as_json: JSON = False,
) -> None:
    """A function's logs: START, its output, END and REPORT per invocation."""
    endpoint = Endpoint()
    page = endpoint.json("GET", f"/_ripple/api/functions/{name}/logs", params={"limit": limit})
    _print_logs(page["entries"], as_json)
    last = page["last_id"]
    while follow:
        try:
            page = endpoint.json("GET", f"/_ripple/api/functions/{name}/logs",
                                 params={"after": last, "wait_ms": 5000, "limit": 100})
        except KeyboardInterrupt:
            return
        _print_logs(page["entries"], as_json)
        last = page["last_id"]
        if not page["entries"]:
            time.sleep(0.05)


def _print_logs(entries: list[dict[str, str]], as_json: bool) -> None:
    for entry in entries:
        if as_json:
            sys.stdout.write(json.dumps(entry) + "\n")
        else:
            sys.stdout.write(entry["text"])
    sys.stdout.flush()
