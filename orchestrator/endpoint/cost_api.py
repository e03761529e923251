"""What the invocations would cost on Lambda: `GET /_ripple/api/cost` (what `ripple cost`
reads). Summed here, next to the records: a stream range read by time is one call, and only the
summary crosses the wire (100,000 records are ~40 MB of JSON)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from redis import Redis
from starlette.concurrency import run_in_threadpool

from orchestrator import keys
from orchestrator.invocations.costs import summarize, trace_root
from tracing.trace_ids import TraceIdError, xray_trace_id

router = APIRouter(prefix="/_ripple/api")
PAGE = 5_000


@router.get("/cost")
async def cost(request: Request,
               since: Annotated[float, Query(ge=0, le=1e11)] = 0.0,
               function: Annotated[str, Query(max_length=256)] = "",
               trace: Annotated[str, Query(max_length=64)] = "",
               memory: Annotated[int | None, Query(ge=128, le=10_240)] = None,
               free_tier: bool = False) -> dict[str, Any]:
    """Per function and per trace, from the invocation records since `since` (epoch s);
    `memory` prices every record at that size instead (billed durations kept)."""
    root = ""
    if trace:
        try:
            root = xray_trace_id(trace)
        except TraceIdError as error:
            raise HTTPException(400, str(error)) from None
    redis: Redis = request.app.state.registry.redis

    def run() -> dict[str, Any]:
        chosen = (record for record in _records(redis, since)
                  if (not function or record.get("function") == function)
                  and (not root or trace_root(str(record.get("trace_header") or "")) == root))
        return summarize(chosen, memory, free_tier)

    answer = await run_in_threadpool(run)
    return {"since": since, "function": function or None, "trace": root or None, **answer}


def _records(redis: Redis, since: float) -> Iterator[dict[str, Any]]:
    """Every invocation record written since `since`, oldest first, a page at a time."""
    start = f"{int(since * 1000)}-0"
    while True:
        page: list[tuple[bytes, dict[bytes, bytes]]] = redis.xrange(  # type: ignore[assignment]
            keys.INVOCATIONS, min=start, count=PAGE)
        for _, fields in page:
            yield json.loads(fields[b"record"])
        if len(page) < PAGE:
            return
        start = "(" + page[-1][0].decode()
