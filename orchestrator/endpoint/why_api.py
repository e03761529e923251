"""The viewer's questions about causes and runs, on ripple's control API:

- `GET /_ripple/api/why?target=T`: from an S3 object (`s3://bucket/key`), a DynamoDB item
  (`ddb://table/key`), a Lambda request id or a trace id back to the root event, and forward
  from it to everything it caused (`tracing/why.py`); 404 when nothing is known;
- `GET /_ripple/api/compare?a=ID&b=ID`: two runs of a chain, path by path (`tracing/compare.py`);
- `GET /_ripple/api/invocations/{request_id}?at=EPOCH`: one invocation's record with its event,
  response or error, log lines and cost.

Invocation records are a Redis stream whose ids are the milliseconds they were written at, so
the `at` hint reads a window around it instead of the whole stream (100,000 records).
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from redis import Redis
from starlette.concurrency import run_in_threadpool

from orchestrator import keys
from orchestrator.endpoint import trace_store
from orchestrator.functions.registry import Registry
from orchestrator.invocations.billing import cost_usd, gb_seconds
from tracing.compare import compare as compare_runs
from tracing.errors import TracingError
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex
from tracing.why import why as why_answer

router = APIRouter(prefix="/_ripple/api", tags=["why"],
                   dependencies=[Depends(trace_store.settled)])
BEFORE_MS, AFTER_MS = 5_000, 905_000  # around `at`: a record is written when its run ends
PAGE = 500  # stream entries read at a time
MAX_SCANNED = 20_000  # records read looking for one request id
LOG_WINDOW_MS = 2_000  # the log entry is written with its record



def _index(store: SpanStore) -> LineageIndex:
    index = store.listener(LineageIndex)
    if index is None:
        raise HTTPException(503, "the trace store has no lineage index attached")
    return index


@router.get("/why")
async def why(request: Request, target: str = Query(..., min_length=1)) -> dict[str, Any]:
    store = trace_store.store(request)
    try:
        found = await run_in_threadpool(why_answer, store, _index(store), target)
    except TracingError as error:
        raise HTTPException(400, str(error)) from None
    if found is None:
        raise HTTPException(404, f"nothing is known of {target}: no stored span wrote or ran "
                                 "it (it may predate the trace store's retention, or its trace "
                                 "was not sampled: beyond RIPPLE_TRACE_RESERVOIR new traces a "
                                 "second ripple keeps RIPPLE_TRACE_RATE of them; "
                                 "OTEL_TRACES_SAMPLER=always_on keeps every one)")
    return found


@router.get("/compare")
async def compare(request: Request, a: str = Query(..., min_length=1),
                  b: str = Query(..., min_length=1)) -> dict[str, Any]:
    store = trace_store.store(request)
    try:
        found = await run_in_threadpool(compare_runs, store, _index(store), a, b)
    except TracingError as error:
        raise HTTPException(400, str(error)) from None
    if found is None:
        raise HTTPException(404, f"trace {a} or {b} is not in the store (it may have expired)")
    return found


def _entries(redis: Redis, stream: str, low: str, high: str,
             newest_first: bool) -> list[tuple[bytes, dict[bytes, bytes]]]:
    if newest_first:
        return redis.xrevrange(stream, high, low, count=PAGE)  # type: ignore[return-value]
    return redis.xrange(stream, low, high, count=PAGE)  # type: ignore[return-value]


def _scan(redis: Redis, request_id: str, low: str, high: str,
          newest_first: bool) -> tuple[bytes, dict[str, Any]] | None:
    """The last record of `request_id` (its latest attempt) with its stream id, reading
    pages between the stream ids `low` and `high`."""
    needle, scanned, found = request_id.encode(), 0, None
    while scanned < MAX_SCANNED:
        page = _entries(redis, keys.INVOCATIONS, low, high, newest_first)
        for entry_id, fields in page:
            raw = fields.get(b"record", b"")
            if needle in raw:
                record = json.loads(raw)
                if record.get("request_id") == request_id:
                    found = (entry_id, record)
                    if newest_first:
                        return found
        scanned += len(page)
        if len(page) < PAGE:
            break
        last = page[-1][0].decode()
        if newest_first:
            high = f"({last}"
        else:
            low = f"({last}"
    return found


def _logs(redis: Redis, function: str, request_id: str, written_ms: int) -> list[str]:
    entries: list[tuple[bytes, dict[bytes, bytes]]] = redis.xrange(  # type: ignore[assignment]
        keys.logs(function), written_ms - LOG_WINDOW_MS, written_ms + LOG_WINDOW_MS)
    for _, fields in entries:
        if fields.get(b"request_id", b"").decode() == request_id:
            return fields.get(b"text", b"").decode(errors="replace").splitlines()
    return []


def invocation_details(redis: Redis, request_id: str,
                       at: float | None) -> dict[str, Any] | None:
    """The record of `request_id` with its logs and cost; None when no record is kept."""
    found = None
    if at is not None and math.isfinite(at):
        moment = min(max(0, int(at * 1000)), 2**62)  # stream ids are 64-bit milliseconds
        found = _scan(redis, request_id, str(max(0, moment - BEFORE_MS)),
                      str(moment + AFTER_MS), newest_first=False)
    if found is None:
        found = _scan(redis, request_id, "-", "+", newest_first=True)
    if found is None:
        return None
    entry_id, record = found
    written_ms = int(entry_id.split(b"-")[0])
    billed, memory = int(record.get("billed_ms") or 0), int(record.get("memory_mb") or 128)
    for name in ("event", "response", "error"):
        record.setdefault(name, None)  # records written before these were kept
    record.setdefault("event_truncated", False)
    record.setdefault("response_truncated", False)
    record["logs"] = _logs(redis, str(record["function"]), request_id, written_ms)
    record["cost_usd"] = cost_usd(1, gb_seconds(billed, memory),
                                  str(record.get("architecture") or "x86_64"))
    return record


@router.get("/invocations/{request_id}")
async def invocation(request: Request, request_id: str,
                     at: float | None = None) -> dict[str, Any]:
    registry: Registry = request.app.state.registry
    found = await run_in_threadpool(invocation_details, registry.redis, request_id, at)
    if found is None:
        raise HTTPException(404, f"no invocation record for request id {request_id} (records "
                                 "are kept for the latest invocations only)")
    return found
