"""ripple's trace API for the CLI and the viewer, in X-Ray's shapes:

- `GET /_ripple/api/servicemap?since=15m` (or `start`/`end` epoch seconds): `GetServiceGraph`;
- `GET /_ripple/api/traces?filter=EXPR&since=15m&limit=100`: `GetTraceSummaries`;
- `GET /_ripple/api/traces/{id}` (X-Ray or W3C id): `BatchGetTraces` with that one trace;
- `GET /_ripple/api/tracing`: the receivers' (OTLP, X-Ray daemon) and the store's counters.
"""

from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from orchestrator.endpoint import trace_store
from orchestrator.endpoint.xray_api import (
    batch_get_traces,
    get_service_graph,
    get_trace_summaries,
    hex_trace_id,
)
from orchestrator.errors import AwsError
from tracing import receiver
from tracing.xray.ingest import SegmentIngest

DEFAULT_SINCE = "15m"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")

router = APIRouter(prefix="/_ripple/api", tags=["traces"],
                   dependencies=[Depends(trace_store.settled)])


def seconds(duration: str) -> float:
    """`90`, `30s`, `15m`, `2h`, `1d` in seconds."""
    match = _DURATION.fullmatch(duration.strip().lower())
    if not match:
        raise HTTPException(400, f"since={duration!r} is not a duration: use 30s, 15m, 2h or 1d")
    return float(match[1]) * UNITS[match[2] or "s"]


def window(since: str, start: float | None, end: float | None) -> tuple[float, float]:
    """[start, end] in epoch seconds: explicit bounds win, else the last `since`."""
    end = time.time() if end is None else end
    start = end - seconds(since) if start is None else start
    if end < start:
        raise HTTPException(400, f"end ({end}) is before start ({start})")
    return start, end



async def _run(function: Any, *args: Any) -> Any:
    """Run a blocking query off the event loop; X-Ray errors become 400s."""
    try:
        return await run_in_threadpool(function, *args)
    except AwsError as error:
        raise HTTPException(error.status, error.message) from None


@router.get("/servicemap")
async def servicemap(request: Request, since: str = DEFAULT_SINCE, start: float | None = None,
                     end: float | None = None) -> dict[str, Any]:
    lower, upper = window(since, start, end)
    graph: dict[str, Any] = await _run(get_service_graph, trace_store.store(request), lower, upper)
    return graph


@router.get("/traces")
async def traces(request: Request, expression: str | None = Query(None, alias="filter"),
                 since: str = DEFAULT_SINCE, start: float | None = None,
                 end: float | None = None,
                 limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
    lower, upper = window(since, start, end)
    summaries = await _run(get_trace_summaries, trace_store.store(request), lower, upper,
                           expression)
    return {"TraceSummaries": summaries[:limit], "ApproximateTime": upper,
            "TracesProcessedCount": len(summaries)}


@router.get("/traces/{trace_id}")
async def trace(request: Request, trace_id: str) -> dict[str, Any]:
    try:
        hex_trace_id(trace_id)
    except AwsError as error:
        raise HTTPException(400, error.message) from None
    found: dict[str, Any] = await _run(batch_get_traces, trace_store.store(request), [trace_id])
    if not found["Traces"]:
        raise HTTPException(404, f"no trace {trace_id} in the store (it may have expired)")
    return found


@router.get("/tracing")
async def tracing_stats(request: Request) -> dict[str, int]:
    figures = receiver.stats(request.app)
    segments: SegmentIngest | None = getattr(request.app.state, "xray_segments", None)
    if segments is not None:  # the X-Ray daemon receiver's and PutTraceSegments' counters
        figures.update({f"xray_{name}": value for name, value in segments.stats().items()})
    figures["spans"] = await run_in_threadpool(trace_store.store(request).count)
    return figures
