"""`ripple traces` and `map` against a running ripple: what they print fits an 80-column
terminal, with every trace id and name whole."""

from __future__ import annotations

import json
import uuid

from tests.conftest import Deploy, Ripple, wait_for

CALLER = """
import boto3
client = boto3.client("lambda")
def handler(event, context):
    client.invoke(FunctionName=event["callee"], InvocationType="Event", Payload=b"{}")
    return context.aws_request_id
"""


def column(table: str, header: str, after: str) -> str:
    """The text of one column of a printed table, its folded pieces joined again."""
    lines = table.splitlines()
    heading = next(line for line in lines if header in line and after in line)
    start, end = heading.index(header), heading.index(after)
    return "".join(line[start:end].strip() for line in lines[lines.index(heading) + 2:])


def test_traces_and_map_fit_80_columns_with_whole_ids_and_long_names(
        ripple: Ripple, deploy: Deploy) -> None:
    # Given a function with a long name that invokes another one, invoked once
    callee = f"thumbnails-for-every-uploaded-image-{uuid.uuid4().hex[:6]}"
    caller = deploy(CALLER, name=f"resize-every-uploaded-image-{uuid.uuid4().hex[:6]}",
                    others={callee: "def handler(event, context):\n    return 1\n"})
    invoked = ripple.cli("invoke", caller, "--payload", json.dumps({"callee": callee}))
    assert invoked.returncode == 0, invoked.stderr

    def listed() -> tuple[str, str] | None:
        summaries = json.loads(ripple.cli("traces", "--json", check=True).stdout)
        for summary in summaries["TraceSummaries"]:
            names = {service["Name"] for service in summary["ServiceIds"]}
            if {caller, callee} <= names:
                return summary["Id"], ripple.cli("traces", check=True).stdout
        return None

    trace_id, table = wait_for(listed, timeout=30)
    # When the traces and the map are printed (piped: an 80-column console)
    printed = {"traces": table, "map": ripple.cli("map", check=True).stdout}
    # Then no line is wider than 80 columns, and nothing is cut short
    for command, output in printed.items():
        assert max(map(len, output.splitlines())) <= 80, (command, output)
        assert "…" not in output, (command, output)
    # And the trace id is whole on its row, the long names whole once their folds are joined
    assert trace_id in table
    services = column(table, "services", "status")
    assert caller in services and callee in services
    calls = column(printed["map"], "from", "to") + column(printed["map"], "to", "type")
    assert caller in calls and callee in calls
    # And a function's two nodes (its Lambda service and its handler) are told apart (a fold
    # may fall on the space before the type)
    assert f"{callee}(Lambda)" in calls.replace(" ", "")
    assert f"{callee}(Function)" in calls.replace(" ", "")
