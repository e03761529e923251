"""Raw OTLP passed on to another receiver (`RIPPLE_OTLP_FORWARD`: Jaeger, Tempo, an OTel
Collector), from a background thread with a bounded queue.

Forwarding is best effort: a full queue, an unreachable target or an error answer drops that
export, counts it and logs (at most once a minute; a target that cannot be reached at all, as
Compose's Jaeger when its profile is off, is said once until it answers). It never slows or
fails the exporter that sent it to ripple.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from dataclasses import dataclass

import httpx

log = logging.getLogger("ripple.tracing.forward")
QUEUE_SIZE = 1_000  # exports, each up to a few MB
TIMEOUT_SECONDS = 5.0
TRACES_PATH = "/v1/traces"


@dataclass(frozen=True)
class Export:
    """One OTLP request as it arrived: body still encoded (and maybe gzipped)."""

    body: bytes
    content_type: str
    content_encoding: str | None = None


def traces_url(base: str) -> str:
    """`http://jaeger:4318` → `http://jaeger:4318/v1/traces` (a full URL passes through)."""
    base = base.rstrip("/")
    return base if base.endswith(TRACES_PATH) else base + TRACES_PATH


class Forwarder:
    """Posts exports to `url` in order, one at a time, from its own daemon thread."""

    def __init__(self, url: str, queue_size: int = QUEUE_SIZE,
                 timeout: float = TIMEOUT_SECONDS) -> None:
        self.url = traces_url(url)
        self.timeout = timeout
        self.forwarded = 0
        self.dropped = 0
        self._queue: queue.Queue[Export | None] = queue.Queue(maxsize=queue_size)
        self._lock = threading.Lock()
        self._warned_at = 0.0
        self._said_unreachable = False
        self._thread = threading.Thread(target=self._run, name="ripple-otlp-forward",
                                        daemon=True)
        self._thread.start()

    @classmethod
    def to(cls, url: str | None) -> Forwarder | None:
        """A forwarder to `url` (`RIPPLE_OTLP_FORWARD`), or None when there is none."""
        return cls(url) if url else None

    def submit(self, export: Export) -> None:
        """Queue an export; never blocks (a full queue drops it)."""
        try:
            self._queue.put_nowait(export)
        except queue.Full:
            self._count(ok=False, reason="queue full")

    def close(self, timeout: float = TIMEOUT_SECONDS) -> None:
        """Send what is queued (for up to about `timeout` seconds), then stop the thread."""
        with contextlib.suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        with httpx.Client(timeout=self.timeout) as client:
            while (export := self._queue.get()) is not None:
                headers = {"Content-Type": export.content_type}
                if export.content_encoding:
                    headers["Content-Encoding"] = export.content_encoding
                try:
                    answer = client.post(self.url, content=export.body, headers=headers)
                except httpx.ConnectError as error:
                    self._count(ok=False, reason=f"unreachable: {error}", unreachable=True)
                    continue
                except httpx.HTTPError as error:
                    self._count(ok=False, reason=str(error) or type(error).__name__)
                    continue
                self._count(ok=answer.is_success, reason=f"HTTP {answer.status_code}")

    def _count(self, ok: bool, reason: str, unreachable: bool = False) -> None:
        with self._lock:
            if ok:
                self.forwarded += 1
                self._said_unreachable = False
                return
            self.dropped += 1
            if unreachable and self._said_unreachable:
                return
            if time.monotonic() - self._warned_at < 60:
                return
            self._warned_at = time.monotonic()
            self._said_unreachable = unreachable
        log.warning("OTLP forward to %s failed (%s): %d exports dropped so far",
                    self.url, reason, self.dropped)
