"""`ripple cost` against a hand computation from the invocation records."""

from __future__ import annotations

import json
import math
import uuid
from typing import Any

import pytest

from tests.conftest import Ripple, wait_for

CALLER = """
import json, os, boto3

def handler(event, context):
    client = boto3.client("lambda")
    for index in range(2):
        client.invoke(FunctionName=os.environ["CALLEE"], Payload=json.dumps({"i": index}))
    return "called"
"""
CALLEE = "import time\n\ndef handler(event, context):\n    time.sleep(0.01)\n    return event\n"
REQUEST_USD = 0.20 / 1_000_000
GB_SECOND_USD = 0.0000166667  # x86_64


def records(ripple: Ripple, function: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = ripple.api("GET", "/_ripple/api/invocations",
                                             params={"function": function, "limit": 1000})
    return found


def by_hand(chosen: list[dict[str, Any]], memory: int | None = None) -> dict[str, float]:
    billed = sum(record["billed_ms"] for record in chosen)
    gb_s = sum((memory or record["memory_mb"]) / 1024 * record["billed_ms"] / 1000
               for record in chosen)
    return {"requests": len(chosen), "billed_ms": billed, "gb_seconds": gb_s,
            "usd": len(chosen) * REQUEST_USD + gb_s * GB_SECOND_USD}


def cost(ripple: Ripple, *args: str) -> dict[str, Any]:
    result = ripple.cli("cost", *args, "--json", check=True)
    answer: dict[str, Any] = json.loads(result.stdout)
    return answer


@pytest.fixture(scope="module")
def chain(ripple: Ripple, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str, str]:
    """A caller (256 MB) that invokes a callee (128 MB) twice, run three times; the trace id of
    the last run."""
    suffix = uuid.uuid4().hex[:8]
    caller, callee = f"cost-caller-{suffix}", f"a-callee-with-a-long-name-for-tables-{suffix}"
    folder = tmp_path_factory.mktemp("cost")
    ripple.deploy_one(callee, CALLEE, folder)
    ripple.deploy_one(caller, CALLER, folder, memory=256,
                      environment=f"{{CALLEE: {callee}}}")
    for _ in range(3):
        ripple.api("POST", f"/2015-03-31/functions/{caller}/invocations", content=b"{}")
    wait_for(lambda: len(records(ripple, callee)) == 6 and len(records(ripple, caller)) == 3)
    last = records(ripple, caller)[-1]["trace_header"]
    trace = next(part[5:] for part in last.split(";") if part.startswith("Root="))
    return caller, callee, trace


def test_a_function_costs_what_its_records_add_up_to(ripple: Ripple, chain: Any) -> None:
    # Given a function's invocation records
    caller, _, _ = chain
    expected = by_hand(records(ripple, caller))
    # When ripple cost sums them
    report = cost(ripple, "--function", caller)
    # Then requests, billed time, GB-seconds and dollars match the hand computation
    entry = report["functions"][caller]
    assert entry["invocations"] == expected["requests"] == 3
    assert entry["billed_ms"] == expected["billed_ms"]
    assert entry["memory_mb"] == 256
    assert math.isclose(entry["gb_seconds"], expected["gb_seconds"], rel_tol=1e-9)
    assert math.isclose(entry["cost_usd"]["total"], expected["usd"], rel_tol=1e-9)
    assert list(report["functions"]) == [caller]


def test_a_trace_costs_its_whole_chain(ripple: Ripple, chain: Any) -> None:
    # Given one event's chain: the caller and the two callee invocations it caused
    caller, callee, trace = chain
    chosen = [record for name in (caller, callee) for record in records(ripple, name)
              if f"Root={trace}" in record["trace_header"]]
    assert len(chosen) == 3
    # When ripple cost is asked for that trace, by its W3C id
    report = cost(ripple, "--trace", trace.replace("1-", "", 1).replace("-", ""))
    # Then it counts exactly those three, per function and in total
    expected = by_hand(chosen)
    assert report["trace"] == trace
    assert report["total"]["invocations"] == 3
    assert {name: entry["invocations"] for name, entry in report["functions"].items()} == \
        {caller: 1, callee: 2}
    assert math.isclose(report["total"]["cost_usd"]["total"], expected["usd"], rel_tol=1e-9)
    assert report["traces"]["count"] == 1


def test_a_what_if_memory_keeps_billed_time_and_reprices_it(ripple: Ripple, chain: Any) -> None:
    # Given the callee's records at 128 MB
    _, callee, _ = chain
    expected = by_hand(records(ripple, callee), memory=1024)
    # When asked what it would cost at 1,024 MB
    report = cost(ripple, "--function", callee, "--memory", "1024")
    # Then billed time is as measured and GB-seconds are recomputed at 1 GB, and it says so
    entry = report["functions"][callee]
    assert entry["billed_ms"] == expected["billed_ms"] and entry["memory_mb"] == 1024
    assert math.isclose(entry["gb_seconds"], expected["billed_ms"] / 1000, rel_tol=1e-9)
    assert math.isclose(entry["cost_usd"]["total"], expected["usd"], rel_tol=1e-9)
    assert "billed durations as measured" in report["what_if"]


def test_the_free_tier_leaves_a_small_bill_at_zero(ripple: Ripple, chain: Any) -> None:
    # Given a few invocations, When priced with the monthly free tier
    report = cost(ripple, "--function", chain[0], "--free-tier")
    # Then the total is nothing, while the function's own line still shows its price
    assert report["total"]["cost_usd"]["total"] == 0
    assert report["functions"][chain[0]]["cost_usd"]["total"] > 0


def test_the_table_fits_80_columns_with_whole_names(ripple: Ripple, chain: Any) -> None:
    # Given functions with long names, When the table is printed
    caller, callee, trace = chain
    result = ripple.cli("cost", "--since", "1h", check=True)
    lines = result.stdout.splitlines()
    # Then no line is wider than 80 columns and every name and trace id is whole
    assert max(map(len, lines)) <= 80, result.stdout
    assert any(callee in line for line in lines) and any(caller in line for line in lines)
    assert any(trace in line for line in lines)
    assert "total (since 1h)" in result.stdout
    # And a short name stays in its column
    short = ripple.cli("cost", "--function", caller, check=True).stdout
    assert max(map(len, short.splitlines())) <= 80
    assert any(line.split()[:1] == [caller] for line in short.splitlines()), short


def test_a_bad_trace_id_is_refused_with_the_expected_forms(ripple: Ripple) -> None:
    # When ripple cost is given something that is not a trace id
    result = ripple.cli("cost", "--trace", "nope")
    # Then it exits 1 saying what a trace id looks like
    assert result.returncode == 1
    assert "1-xxxxxxxx-" in result.stderr
