"""`ripple why`: the chain and what the root caused, in 80 columns, on a real stack."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rich.console import Console

from orchestrator.cli.why import caused_lines, chain_lines
from tests.conftest import Ripple, wait_for
from tests.orchestrator.endpoint.test_why_api import Chain
from tests.orchestrator.endpoint.test_why_api import chain as chain  # noqa: F401 (fixture)


def ref(node: str, operation: str | None = None, name: str = "span") -> dict[str, Any]:
    return {"trace_id": "0" * 32, "span_id": "0" * 16, "name": name,
            "node": {"name": node, "type": "AWS::Lambda::Function"}, "kind": "SERVER",
            "start": 0.0, "end": 0.012, "status": "fault", "request_id": "req-1",
            "operation": operation}


def rendered(lines: list[Any]) -> list[str]:
    console = Console(width=80, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    for line in lines:
        console.print(line, overflow="fold", highlight=False)
    text = console.export_text()
    console.file.close()
    return text.splitlines()


def test_a_deep_chain_with_long_names_fits_80_columns_without_cutting_a_name() -> None:
    # Given a 30-hop chain whose last node has a 70-character name
    long_name = "n" * 70
    answer = {"chain": [ref(f"f{depth}", name=f"f{depth}") for depth in range(29)]
              + [ref(long_name, "S3.PutObject")]}
    # When it is drawn
    lines = rendered(chain_lines(answer))
    # Then no line is wider than 80 and the long name is whole on one line
    assert all(len(line) <= 80 for line in lines)
    assert any(long_name in line for line in lines)
    assert "S3.PutObject" in "".join(lines[-2:])
    # And the indent grows with depth, then stops
    assert lines[1].startswith("  └ f1") and lines[20].startswith(" " * 24 + "└ f20")


def test_a_fan_out_is_drawn_once_with_its_count() -> None:
    # Given a root that caused 100 identical invocations, each with one write
    child = {"span": ref("work", name="work"), "children": [
        {"span": ref("table", "DynamoDB.PutItem"), "children": []}]}
    tree = {"span": ref("bucket", "S3.PutObject"), "children": [child] * 100}
    # When it is drawn
    lines = rendered(caused_lines(tree))
    # Then the fan-out is one line with its count, and the first one's write below it
    assert lines[0].startswith("bucket S3.PutObject")
    assert lines[1].startswith("  └ work ×100")
    assert lines[2].startswith("    └ table DynamoDB.PutItem") and len(lines) == 3


def test_ripple_why_walks_an_object_back_and_shows_what_the_root_caused(
        ripple: Ripple, chain: Chain) -> None:  # noqa: F811
    # Given the chain ran once: in/run-1.json → A → put_item → stream → B → out/x
    target = f"s3://{chain.out}/out/x"
    wait_for(lambda: json.loads(ripple.cli("why", target, "--json").stdout or "null"
                                )["root"]["node"]["name"] == chain.bucket, timeout=30)
    # When the user asks why out/x exists
    shown = ripple.cli("why", target)
    as_json = json.loads(ripple.cli("why", target, "--json").stdout)
    # Then the chain runs from the first put to B's put of out/x, in 80 columns
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines)
    chain_part, _, caused_part = shown.stdout.partition("the root caused")
    assert f"{chain.bucket} S3.PutObject" in chain_part
    assert chain_part.index(chain.a) < chain_part.index(chain.b)
    assert f"{chain.out} S3.PutObject" in chain_part.splitlines()[-2]
    # And what the root caused reaches B; --json prints the API's object
    assert chain.b in caused_part
    assert as_json["target"] == target and as_json["found"] is True


def test_ripple_why_fails_clearly_when_nothing_is_known(ripple: Ripple) -> None:
    # When the user asks about an object nobody wrote
    shown = ripple.cli("why", "s3://nobody/nothing")
    # Then the exit is non-zero and the message says so, with no traceback
    assert shown.returncode == 1
    assert "nothing is known of s3://nobody/nothing" in shown.stderr
    assert "Traceback" not in shown.stderr


@pytest.mark.parametrize("target", ["ddb://", "not-a-thing"])
def test_ripple_why_on_odd_targets_is_a_clean_failure(ripple: Ripple, target: str) -> None:
    shown = ripple.cli("why", target)
    assert shown.returncode == 1 and "Traceback" not in shown.stderr
