"""`ripple dlq ls|replay`: the built-in dead-letter list."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint

dlq_app = typer.Typer(help="Async events that failed every attempt.", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
out = Console()


@dlq_app.command("ls")
def list_dead_letters(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List dead letters with their payload and error."""
    entries = Endpoint().json("GET", "/_ripple/api/dlq")
    if as_json:
        out.print_json(data=entries)
        return
    table = Table("id", "function", "when", "condition", "attempts", "error", "payload")
    for entry in entries:
        record = entry["record"]
        context = record["requestContext"]
        error = record.get("responsePayload") or {}
        error_text = (f"{error.get('errorType')}: {error.get('errorMessage')}"
                      if isinstance(error, dict) and error else "")
        when = datetime.fromtimestamp(entry["received"]).strftime("%H:%M:%S")
        table.add_row(entry["id"], entry["function"], when, context["condition"],
                      str(context["approximateInvokeCount"]), error_text[:60],
                      json.dumps(record.get("requestPayload"))[:40])
    out.print(table)


@dlq_app.command("replay")
def replay(
    ids: Annotated[list[str] | None, typer.Argument(help="entry ids (default: all)")] = None,
) -> None:
    """Invoke dead letters again (async); replayed entries leave the list."""
    body = {"ids": ids} if ids else {"all": True}
    answer = Endpoint().json("POST", "/_ripple/api/dlq/replay", json=body)
    out.print(f"replayed {len(answer['replayed'])}" +
              (f", not found: {', '.join(answer['missing'])}" if answer["missing"] else ""))
    if answer["missing"]:
        raise typer.Exit(1)
