"""`ripple load` against `ripple up --workers auto:1-4`: a burst scales workers up, a quiet spell
scales them down, nothing is lost, and the report shows when and why."""

from __future__ import annotations

import json
import re
from html import escape
from pathlib import Path
from typing import Any

from tests.conftest import start_ripple, stop_ripple, wait_for

SLEEP = "import time\n\ndef handler(event, context):\n    time.sleep(0.3)\n"
EVENTS = 260  # 240 in a 6 s burst at 40/s, then 20 at 1/s: the quiet spell outlasts the
# burst's queue (drained ~14 s in) by the idle time and a margin for a busy CI machine


def settled(ledger: dict[str, Any]) -> dict[str, Any] | None:
    return None if ledger["in_flight"] else ledger


def test_a_burst_scales_workers_up_and_a_quiet_spell_down_with_nothing_lost(
        tmp_path: Path) -> None:
    # Given an autoscaling stack that reacts fast and lets idle workers go after 3 s
    stack = start_ripple(tmp_path, "--workers", "auto:1-4", "--concurrency", "2",
                         RIPPLE_SCALE_DOWN_IDLE_SECONDS="3", RIPPLE_SCALE_UP_AFTER_SECONDS="0.5",
                         RIPPLE_SCALE_UP_QUEUE_PER_WORKER="2")
    try:
        (tmp_path / "fn").mkdir()
        (tmp_path / "fn" / "app.py").write_text(SLEEP)
        (tmp_path / "spec.yaml").write_text(
            "functions:\n  slow: {handler: app.handler, code: ./fn}\n")
        assert stack.cli("deploy", str(tmp_path / "spec.yaml")).returncode == 0
        # When ripple load sends a 6 s burst at 40/s, then 1/s for 20 s (each sending thread's
        # connection then sits idle past the endpoint's keep-alive)
        report = tmp_path / "report"
        result = stack.cli("load", "invoke:slow", "--rate", "40@6,1", "--count", str(EVENTS),
                           "--report", str(report), "--json", timeout=240)
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout)
        # Then nothing was lost: every event succeeded, by the summary, the records and the
        # ledger alike
        records = stack.api("GET", "/_ripple/api/invocations",
                            params={"function": "slow", "limit": 1000})
        assert [r["status"] for r in records] == ["ok"] * EVENTS
        assert (summary["sent"], summary["succeeded"], summary["failed"],
                summary["dead_lettered"], summary["in_flight"]) == (EVENTS, EVENTS, 0, 0, 0)
        assert summary["per_function"]["slow"]["invocations"] == EVENTS
        ledger = wait_for(lambda: settled(stack.api("GET", "/_ripple/api/ledger")["slow"]), 60)
        assert ledger["accepted"] == ledger["succeeded"] == EVENTS and not ledger["lost"], ledger
        # And the workers went up under the queue of the burst and back down once idle
        decisions = summary["workers"]["decisions"]
        ups = [d for d in decisions if d["to"] > d["from"]]
        downs = [d for d in decisions if d["to"] < d["from"]]
        assert ups and downs, decisions
        assert ups[0]["time"] < downs[-1]["time"]
        assert ups[0]["reason"].startswith("queue"), ups
        assert downs[-1]["reason"].startswith("idle") and downs[-1]["to"] == 1, downs
        assert summary["workers"]["max"] > summary["workers"]["min"] == 1
        # And the report lists each decision with its reason (why) and marks each on the
        # queue and workers chart (when)
        page = (report / "report.html").read_text()
        chart = re.search(r'<svg class="chart" id="queues".*?</svg>', page)
        assert chart is not None
        assert chart[0].count('stroke-dasharray="4 3"') == len(decisions)
        for decision in decisions:
            assert f"<li>{decision['from']} → {decision['to']}: " \
                   f"{escape(decision['reason'])}</li>" in page
            assert escape(f"{decision['from']}->{decision['to']}") in chart[0]
    finally:
        stop_ripple(stack)
