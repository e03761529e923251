"""The span store as ripple's trace routes read it: `store(request)` answers 503 when there is
none, and `settled` (a router dependency) waits first until every span received before the
request is stored, so a read sees what its exports were answered for."""

from __future__ import annotations

from fastapi import HTTPException, Request
from starlette.concurrency import run_in_threadpool

from tracing.store.database import SpanStore
from tracing.store.sink import SpanSink


def store(request: Request) -> SpanStore:
    found: SpanStore | None = getattr(request.app.state, "span_store", None)
    if found is None:
        raise HTTPException(503, "the trace store is not open")
    return found


async def settled(request: Request) -> None:
    sink: SpanSink | None = getattr(request.app.state, "span_sink", None)
    if sink is not None:
        await run_in_threadpool(sink.settle)
