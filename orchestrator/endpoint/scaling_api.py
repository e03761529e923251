"""Worker scaling over HTTP: `GET /_ripple/api/scaling?since=<epoch s>`, the worker processes
`ripple up` runs, their bounds, and its scaling decisions (what `ripple status` and load reports
read)."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from orchestrator import keys

router = APIRouter(prefix="/_ripple/api")
MAX_DECISIONS = 10_000
HEARTBEAT_FRESH_SECONDS = 10


@router.get("/scaling")
async def scaling(request: Request,
                  since: Annotated[float, Query(ge=0, le=1e11)] = 0.0,
                  limit: Annotated[int, Query(ge=1, le=MAX_DECISIONS)] = 1000,
                  ) -> dict[str, Any]:
    """Decisions since `since` (epoch seconds), oldest first, at most the newest `limit`.
    `workers`, `min` and `max` are `ripple up`'s own processes (equal for a fixed count);
    `live` counts every worker beating, `ripple worker`s on other machines included."""
    redis = request.app.state.async_redis
    entries = await redis.xrevrange(keys.SCALING, min=f"{int(since * 1000)}-0", count=limit)
    state = {key.decode(): int(value)
             for key, value in (await redis.hgetall(keys.SCALING_STATE)).items()}
    now = time.time()
    live = sum(1 for seen in (await redis.hvals(keys.WORKERS))
               if now - float(seen) < HEARTBEAT_FRESH_SECONDS)
    decisions = [{"time": float(fields[b"time"]), "from": int(fields[b"from"]),
                  "to": int(fields[b"to"]), "reason": fields[b"reason"].decode()}
                 for _, fields in reversed(entries)]
    return {"workers": state.get("workers", live), "min": state.get("min", live),
            "max": state.get("max", live), "live": live, "decisions": decisions}
