"""A 10,000-span trace (a 1 → 100 → 100 fan-out) in the viewer: ready within a second, and
scrolled without long frames, because only the rows in view are drawn and fan-outs fold."""

from __future__ import annotations

import random
import time
from typing import Any

import httpx
import orjson
from playwright.sync_api import expect

from tests.conftest import Ripple
from tests.tracing.viewer.conftest import viewer

WIDTH = 100  # children per span, on two levels: 1 + 100 + 100 × 100 spans
# A guard, not the goal: the 1 s goal is measured on a quiet machine by benchmarks/viewer.py;
# here other tests share the two cores.
READY_S = 3.0
SCROLL_FRAMES = 120  # of a screen each


def _span(trace_id: str, span_id: int, parent: int | None, name: str, kind: int, start: int,
          duration: int, **attributes: str) -> dict[str, Any]:
    return {"traceId": trace_id, "spanId": f"{span_id:016x}",
            **({"parentSpanId": f"{parent:016x}"} if parent else {}),
            "name": name, "kind": kind, "startTimeUnixNano": str(start),
            "endTimeUnixNano": str(start + duration),
            "attributes": [{"key": key.replace("_", "."), "value": {"stringValue": value}}
                           for key, value in attributes.items()]}


def fan_out_trace() -> tuple[str, list[dict[str, Any]]]:
    """One root function calling 100 workers, each running 100 steps (some slow)."""
    chooser = random.Random(7)
    trace_id = f"{int(time.time()):08x}{chooser.getrandbits(96):024x}"
    now = time.time_ns()
    spans = [_span(trace_id, 1, None, "orchestrate", 2, now, 3_000_000_000, faas_name="big-root")]
    next_id = 2
    for worker in range(WIDTH):
        worker_id, start = next_id, now + worker * 5_000_000
        next_id += 1
        spans.append(_span(trace_id, worker_id, 1, "work", 2, start, 2_000_000_000,
                           faas_name="big-worker"))
        for step in range(WIDTH):
            slow = chooser.random() < 0.002
            spans.append(_span(trace_id, next_id, worker_id, "step", 1, start + step * 15_000_000,
                               (400 if slow else 10 + chooser.randint(0, 3)) * 1_000_000))
            next_id += 1
    return trace_id, spans


def test_a_ten_thousand_span_trace_is_ready_within_a_second_and_scrolls_smoothly(
        ripple: Ripple, page: Any) -> None:
    # Given a trace of 10,101 spans sent to the OTLP receiver
    trace_id, spans = fan_out_trace()
    body = orjson.dumps({"resourceSpans": [{"resource": {"attributes": [
        {"key": "service.name", "value": {"stringValue": "big-fan-out"}}]},
        "scopeSpans": [{"spans": spans}]}]})
    sent = httpx.post(f"{ripple.url}/v1/traces", content=body, timeout=60,
                      headers={"content-type": "application/json"})
    assert sent.status_code == 200, sent.text
    page.goto(viewer(ripple, "#/functions"))  # the modules are loaded once, as in a session
    expect(page.locator("h1")).to_have_text("Functions")
    # When its waterfall is opened
    started = time.perf_counter()
    page.evaluate(f"window.location.hash = '#/trace/{trace_id}'")
    expect(page.locator(".wf-row").first).to_be_visible(timeout=10_000)
    page.wait_for_function("document.body.dataset.traceMs !== undefined")
    ready = time.perf_counter() - started
    # Then it is ready within a second, the workers folded into one row with few rows drawn
    expect(page.locator("h1")).to_contain_text(trace_id)
    assert ready <= READY_S, f"the trace took {ready:.2f} s to be ready"
    assert page.locator(".wf-row").count() < 80
    folded = page.locator(".wf-row[data-fold]").first
    expect(folded).to_contain_text("big-worker work ×")
    # And with every fold opened (10,101 rows), scrolling a screen a frame has no long frame
    page.locator("button.unfold").click()
    height = page.evaluate("document.querySelector('.wf-inner').offsetHeight")
    assert height >= 10_101 * 24  # a row for each span, and one heading each open fold
    frames = page.evaluate("""async (count) => {
        const scroller = document.querySelector('.wf');
        const step = scroller.clientHeight;  // a whole screen of new rows every frame
        const times = [];
        let last = performance.now();
        for (let i = 1; i <= count; i++) {
            scroller.scrollTop = step * i;
            await new Promise(requestAnimationFrame);
            const now = performance.now();
            times.push(now - last);
            last = now;
        }
        return times;
    }""", SCROLL_FRAMES)
    frames.sort()
    p95, worst = frames[int(len(frames) * 0.95)], frames[-1]
    print(f"\n10,101 spans: ready in {ready * 1000:.0f} ms (page's own measure "
          f"{page.evaluate('document.body.dataset.traceMs')} ms); scrolling {SCROLL_FRAMES} "
          f"frames: p95 {p95:.1f} ms, worst {worst:.1f} ms")
    # (60 Hz frames are 16.7 ms; on a busy 2-core machine a frame or two more is noise)
    assert p95 <= 50, f"scrolling drops frames: p95 frame {p95:.1f} ms"
    assert worst <= 200, f"a scroll frame took {worst:.1f} ms"
