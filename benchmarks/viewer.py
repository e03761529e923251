"""The trace viewer at scale (issue 10): the map page over 1,000,000 stored spans, a 10,000-span
trace (a 1 -> 100 -> 100 fan-out) ready and scrolled, and `why` over HTTP — measured in headless
Chromium against two ripples side by side: one whose store holds `--spans` spans, the baseline
one holding `--baseline-spans` of the same chains.

Run: python benchmarks/viewer.py [--spans 1000000] [--baseline-spans 10000] [--rounds 5].
Needs Debian's chromium (/usr/bin/chromium) and the dev extras (playwright). Not a test: it
prints figures. Everything runs on 127.0.0.1 and stops by itself.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import percentile  # noqa: E402
from benchmarks.why import chain  # noqa: E402
from orchestrator.endpoint.app import open_store  # noqa: E402
from orchestrator.settings import Settings  # noqa: E402
from tracing.spans import Span, SpanKind  # noqa: E402
from tracing.trace_ids import xray_trace_id  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
WIDTH = 100  # the big trace: 1 + 100 + 100 x 100 spans
WORKER = {"service.name": "ripple-worker"}


def fan_out_trace(now_ns: int) -> list[Span]:
    """One function calling 100 others, each running 100 steps (a few of them slow)."""
    chooser = random.Random(7)
    trace = f"{now_ns // 10**9:08x}{chooser.getrandbits(96):024x}"
    spans = [Span(trace, f"{1:016x}", None, "orchestrate", SpanKind.SERVER, now_ns,
                  now_ns + 3 * 10**9, attributes={"faas.name": "big-root"}, resource=WORKER)]
    next_id = 2
    for worker in range(WIDTH):
        worker_id, start = next_id, now_ns + worker * 5_000_000
        next_id += 1
        spans.append(Span(trace, f"{worker_id:016x}", f"{1:016x}", "work", SpanKind.SERVER,
                          start, start + 2 * 10**9, attributes={"faas.name": "big-worker"},
                          resource=WORKER))
        for step in range(WIDTH):
            slow = chooser.random() < 0.002
            begin = start + step * 15_000_000
            spans.append(Span(trace, f"{next_id:016x}", f"{worker_id:016x}", "step",
                              SpanKind.INTERNAL, begin,
                              begin + (400 if slow else 10 + chooser.randint(0, 3)) * 10**6,
                              resource=WORKER))
            next_id += 1
    return spans


def fill(data_dir: Path, count: int) -> tuple[str, int]:
    """A store of `count` spans of chains within the last 50 minutes plus the big trace;
    returns the big trace's id and the number of chains."""
    store = open_store(Settings(data_dir=data_dir, trace_retention_spans=count + 20_000))
    rng, pending, chains, stored = random.Random(1), [], 0, 0
    started = time.time() - 50 * 60
    spacing = 45 * 60 / max(1, count // 20)  # chains are ~20 spans: spread over 45 minutes
    while stored + len(pending) < count:
        chains += 1
        pending += chain(chains, started + chains * spacing, rng)
        if len(pending) >= 2_000:
            stored += store.add(pending)
            pending = []
    stored += store.add(pending)
    big = fan_out_trace(time.time_ns() - 60 * 10**9)
    store.add(big)
    store.map.services(0, time.time())  # fold the map's rollup now, not on the first page
    store.close()
    return big[0].trace_id, chains


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def ripple(data_dir: Path) -> Iterator[str]:
    """`ripple up` on a data dir whose store is already filled; its URL."""
    port = free_port()
    env = {key: value for key, value in os.environ.items()
           if not key.startswith("RIPPLE_") and key != "REDIS_URL"}
    env.update(RIPPLE_OTLP_GRPC_PORT=str(free_port()), RIPPLE_XRAY_DAEMON_PORT=str(free_port()))
    process = subprocess.Popen(
        [sys.executable, "-m", "orchestrator.cli", "up", "--port", str(port), "--api-port", "0",
         "--workers", "1", "--data-dir", str(data_dir)], env=env, cwd=ROOT,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/_ripple/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise RuntimeError("ripple did not become healthy within 120 s")
        yield url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def page_ready(browser: Any, url: str, marker: str) -> float:
    """ms from navigation start until the page sets `document.body.dataset[marker]`, in a
    fresh context (nothing cached)."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    page.wait_for_function(f"document.body.dataset.{marker} !== undefined", timeout=30_000)
    ready = float(page.evaluate("performance.now()"))
    context.close()
    if errors:
        raise RuntimeError(f"{url}: {errors}")
    return ready


def scroll_frames(browser: Any, url: str, frames: int = 120) -> list[float]:
    """Frame times while every fold of the trace is open and a screen is scrolled a frame."""
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("document.body.dataset.traceMs !== undefined", timeout=30_000)
    page.locator("button.unfold").click()
    times: list[float] = page.evaluate("""async (count) => {
        const scroller = document.querySelector('.wf');
        const times = [];
        let last = performance.now();
        for (let i = 1; i <= count; i++) {
            scroller.scrollTop = scroller.clientHeight * i;
            await new Promise(requestAnimationFrame);
            const now = performance.now();
            times.push(now - last);
            last = now;
        }
        return times;
    }""", frames)
    context.close()
    return times


def why_ms(url: str, chains: int, queries: int) -> tuple[list[float], list[float]]:
    """`why` of random result objects over HTTP, and the baseline: a GET of the root trace it
    found — both through one keep-alive client."""
    rng = random.Random(3)
    why, trace = [], []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(queries):
            number = rng.randint(1, chains)
            started = time.perf_counter()
            answer = client.get("/_ripple/api/why", params={"target": f"s3://results/out/{number}"})
            why.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text
            started = time.perf_counter()
            client.get(f"/_ripple/api/traces/{answer.json()['root']['trace_id']}")
            trace.append((time.perf_counter() - started) * 1000)
    return why, trace


def measure(url: str, big: str, chains: int, rounds: int, queries: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page_ready(browser, f"{url}/_ripple/#/map?since=1h", "mapReady")  # a warm-up
        maps = [page_ready(browser, f"{url}/_ripple/#/map?since=1h", "mapReady")
                for _ in range(rounds)]
        trace_url = f"{url}/_ripple/#/trace/{xray_trace_id(big)}"
        traces = [page_ready(browser, trace_url, "traceMs") for _ in range(rounds)]
        frames = scroll_frames(browser, trace_url)
        browser.close()
    why, trace = why_ms(url, chains, queries)
    return {"map": maps, "trace": traces, "frames": frames, "why": why, "get_trace": trace}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--baseline-spans", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory(prefix="ripple-viewer-") as work:
        for name, spans in (("baseline", args.baseline_spans), ("big", args.spans)):
            data = Path(work) / name
            started = time.perf_counter()
            big, chains = fill(data, spans)
            print(f"{name}: {spans:,} spans + a {WIDTH * WIDTH + WIDTH + 1:,}-span trace "
                  f"stored in {time.perf_counter() - started:.0f} s", flush=True)
            with ripple(data) as url:
                results[name] = measure(url, big, chains, args.rounds, args.queries)
    base, big = results["baseline"], results["big"]

    def row(label: str, key: str, fraction: float) -> None:
        mine, theirs = percentile(big[key], fraction), percentile(base[key], fraction)
        print(f"{label:44} {mine:9.1f} {theirs:9.1f} {mine / theirs:7.2f}")

    print(f"\n{'ms (big store vs baseline store)':44} {'big':>9} {'baseline':>9} {'ratio':>7}")
    row("map page ready, median", "map", 0.5)
    row("map page ready, worst", "map", 1.0)
    row("10,101-span trace ready, median", "trace", 0.5)
    row("10,101-span trace ready, worst", "trace", 1.0)
    row("scrolling all 10,101 rows: p95 frame", "frames", 0.95)
    row("scrolling all 10,101 rows: worst frame", "frames", 1.0)
    row("why over HTTP, p50", "why", 0.5)
    row("why over HTTP, p95", "why", 0.95)
    row("GET /traces/{id} over HTTP, p95 (baseline op)", "get_trace", 0.95)


if __name__ == "__main__":
    main()
