"""What a load run shows while it runs: a few lines Rich redraws in place, on stderr."""

from __future__ import annotations

import time
from collections import deque

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from orchestrator.load.collect import Tick
from orchestrator.load.generator import Sample
from orchestrator.load.summary import percentile

RECENT = 2000  # latencies kept for the live p50/p99


class Display:
    def __init__(self, console: Console, target: str, roots: set[str]) -> None:
        self.console, self.target, self.roots = console, target, roots
        self.sent = self.errors = self.throttled = 0
        self.recent: deque[float] = deque(maxlen=RECENT)
        self.tick: Tick | None = None
        self.first_tick: Tick | None = None
        self.started = time.time()
        self.live = Live(self.render(), console=console, refresh_per_second=4, transient=True)

    def __enter__(self) -> Display:
        if self.console.is_terminal:
            self.live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self.console.is_terminal:
            self.live.stop()

    def add(self, samples: list[Sample]) -> None:
        self.sent += len(samples)
        self.errors += sum(1 for sample in samples if sample.error)
        self.throttled += sum(1 for sample in samples if sample.status == 429)
        self.recent.extend(sample.latency_ms for sample in samples)

    def update(self, tick: Tick | None = None) -> None:
        if tick is not None:
            self.first_tick = self.first_tick or tick
            self.tick = tick
        if self.console.is_terminal:
            self.live.update(self.render())

    def completed(self) -> int:
        if self.tick is None or self.first_tick is None:
            return 0
        return sum(self.tick.counters.get(name, {}).get("invocations", 0)
                   - self.first_tick.counters.get(name, {}).get("invocations", 0)
                   for name in self.roots)

    def render(self) -> Group:
        elapsed = max(time.time() - self.started, 1e-9)
        latencies = list(self.recent)
        grid = Table.grid(padding=(0, 2))
        grid.add_row("sent", f"{self.sent:,} ({self.sent / elapsed:,.0f}/s)",
                     "p50 / p99", f"{percentile(latencies, .5):.1f} / "
                                  f"{percentile(latencies, .99):.1f} ms")
        grid.add_row("root invocations done", f"{self.completed():,}",
                     "errors / throttles", f"{self.errors:,} / {self.throttled:,}")
        if self.tick is not None:
            running = sum(self.tick.concurrency.values())
            grid.add_row("queued (delayed)", f"{self.tick.queued:,} ({self.tick.delayed:,})",
                         "workers / running", f"{self.tick.workers} / {running}")
        title = Text(f"ripple load {self.target}  {elapsed:,.1f} s  (Ctrl-C stops)",
                     style="bold")
        return Group(title, grid)
