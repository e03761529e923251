"""`ripple up --workers auto:MIN-MAX` on a real stack: a burst adds workers, idling removes them,
and the delivery ledger accounts for every event."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import Ripple, start_ripple, stop_ripple, wait_for

SLEEPER = "import time\n\ndef handler(event, context):\n    time.sleep(0.5)\n    return event\n"
BURST = 80


def decisions(ripple: Ripple) -> list[dict[str, object]]:
    return ripple.api("GET", "/_ripple/api/scaling", params={"since": 0})["decisions"]


def settled(ripple: Ripple) -> dict[str, object] | None:
    entry: dict[str, object] = ripple.api("GET", "/_ripple/api/ledger")["sleeper"]
    return entry if entry["succeeded"] == BURST else None


def test_a_burst_scales_workers_up_and_idling_scales_them_down(tmp_path: Path) -> None:
    # Given ripple up with 1 to 3 workers of 2 slots, quick to react and to call itself idle
    ripple = start_ripple(tmp_path, "--workers", "auto:1-3", "--concurrency", "2",
                          RIPPLE_SCALE_UP_AFTER_SECONDS="1", RIPPLE_SCALE_DOWN_IDLE_SECONDS="5")
    try:
        ripple.deploy_one("sleeper", SLEEPER, tmp_path)
        scaling = ripple.api("GET", "/_ripple/api/scaling")
        assert (scaling["workers"], scaling["min"], scaling["max"]) == (1, 1, 3)
        # When a burst of async invocations (0.5 s each) arrives
        with httpx.Client(base_url=ripple.url, timeout=30) as client:
            for index in range(BURST):
                answer = client.post("/2015-03-31/functions/sleeper/invocations",
                                     json={"n": index},
                                     headers={"X-Amz-Invocation-Type": "Event"})
                assert answer.status_code == 202
        # Then a decision adds workers, with the queue as its reason
        up = wait_for(lambda: [d for d in decisions(ripple) if d["to"] > d["from"]], timeout=30)
        assert up[0]["from"] == 1 and up[0]["reason"].startswith("queue depth")
        wait_for(lambda: len(ripple.api("GET", "/_ripple/api/status")["workers"]) > 1,
                 timeout=30)
        # And once the burst is done and 5 s idle, a decision takes them back to 1
        down = wait_for(lambda: [d for d in decisions(ripple) if d["to"] < d["from"]],
                        timeout=120)
        assert down[-1]["to"] == 1 and down[-1]["reason"].startswith("idle")
        wait_for(lambda: len(ripple.api("GET", "/_ripple/api/status")["workers"]) == 1,
                 timeout=60)
        assert ripple.api("GET", "/_ripple/api/scaling")["workers"] == 1
        # And every event ran once and none is lost or stranded
        ledger = wait_for(lambda: settled(ripple), timeout=60)
        assert ledger["accepted"] == BURST and ledger["in_flight"] == 0
        assert ledger["lost"] == [] and ledger["reconciles"]
        # And each decision is one line on ripple up's output, and in `ripple status`
        output = ripple.log.read_text()
        assert f"workers 1 -> {up[0]['to']}: queue depth" in output
        status = ripple.cli("status")
        assert "worker processes: 1 (auto 1-3); last decision" in status.stdout
        assert "-> 1, idle" in status.stdout
    finally:
        stop_ripple(ripple)
