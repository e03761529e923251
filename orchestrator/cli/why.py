"""`ripple why TARGET`: the chain of hops from the root event to an S3 object, a DynamoDB
item, an invocation or a trace, then everything that root caused.

Both print as indented lines whose indent stops growing past `MAX_INDENT`, so a deep chain
still fits 80 columns; a line too long wraps rather than cutting a name. Siblings doing the
same hop (a fan-out) print once as `label ×N`, with the first one's own hops below.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.text import Text

from orchestrator.cli.app import app
from orchestrator.cli.client import Endpoint

out = Console()
err = Console(stderr=True)
MAX_INDENT = 24  # columns
STEP = 2
STATUS_STYLE = {"error": "yellow", "throttle": "magenta", "fault": "red"}


def label(ref: dict[str, Any]) -> str:
    """`<node> <operation>`, as `compare` names a hop."""
    node, what = ref["node"]["name"], ref.get("operation") or ref["name"]
    return node if what == node else f"{node} {what}"


def hop(ref: dict[str, Any], depth: int, count: int = 1, width: int = 80) -> Text:
    """One hop's line: indent, label, duration and what went wrong. The indent gives way to
    a long label, so the label fits on its line whole."""
    name = label(ref)
    marker = "└ " if depth else ""
    indent = max(0, min(depth * STEP, MAX_INDENT, width - len(name) - len(marker)))
    text = Text(" " * indent + marker)
    text.append(name, style="bold")
    if count > 1:
        text.append(f" ×{count:,}", style="cyan")
    text.append(f"  {(ref['end'] - ref['start']) * 1000:.1f} ms", style="dim")
    if ref["status"] != "ok":
        text.append(f"  {ref['status']}", style=STATUS_STYLE.get(ref["status"], "red"))
    if ref.get("request_id"):
        text.append(f"  {ref['request_id']}", style="dim")
    return text


def chain_lines(answer: dict[str, Any], width: int = 80) -> list[Text]:
    return [hop(ref, depth, width=width) for depth, ref in enumerate(answer["chain"])]


def caused_lines(tree: dict[str, Any], width: int = 80) -> list[Text]:
    lines: list[Text] = []
    stack = [(tree, 0, 1)]
    while stack:
        node, depth, count = stack.pop()
        lines.append(hop(node["span"], depth, count, width))
        groups: dict[str, list[dict[str, Any]]] = {}
        for child in node["children"]:
            groups.setdefault(label(child["span"]), []).append(child)
        stack += [(siblings[0], depth + 1, len(siblings))
                  for siblings in reversed(groups.values())]
    return lines


def _print(lines: list[Text]) -> None:
    for line in lines:
        out.print(line, overflow="fold", highlight=False)


@app.command()
def why(
    target: Annotated[str, typer.Argument(
        help="s3://bucket/key, ddb://table/key (the partition key's value, pk=v,sk=w or a "
             "JSON object), a Lambda request id or a trace id")],
    as_json: Annotated[bool, typer.Option("--json", help="print the API's JSON")] = False,
) -> None:
    """What caused TARGET, back to the root event, and everything that root caused."""
    response = Endpoint().request("GET", "/_ripple/api/why", params={"target": target})
    if response.status_code >= 400:
        try:
            detail = response.json().get("detail") or response.text
        except (ValueError, AttributeError):
            detail = response.text
        err.print(f"[red]error:[/] {detail}", highlight=False)
        raise typer.Exit(1)
    answer = response.json()
    if as_json:
        out.print_json(data=answer)
        return
    out.print(f"[bold]{target}[/] came from {len(answer['traces'])} trace(s): "
              + ", ".join(answer["traces"]), highlight=False, overflow="fold")
    _print(chain_lines(answer, out.width))
    out.print()
    out.print("[bold]the root caused[/]", highlight=False)
    _print(caused_lines(answer["caused"], out.width))
    if answer.get("truncated"):
        out.print("[dim](more than shown: the answer stops at 100 traces or 5,000 spans)[/]")
