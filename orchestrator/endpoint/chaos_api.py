"""Faults the endpoint injects on request, each with an end time so it stops by itself:
`PUT /_ripple/api/chaos` with `duplicate` (a fraction of async events queued twice, to test a
handler's idempotency) and `drop_otlp` (the OTLP receiver answers 503, as an unreachable
collector would), both for `seconds`."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from starlette.types import ASGIApp, Receive, Scope, Send

from orchestrator import keys

router = APIRouter(prefix="/_ripple/api")
MAX_SECONDS = 3600
_otlp_dropped_until = 0.0


class ChaosRequest(BaseModel):
    duplicate: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_otlp: bool = False
    seconds: float = Field(default=60.0, ge=1, le=MAX_SECONDS)


@router.put("/chaos")
def chaos(body: ChaosRequest, request: Request) -> dict[str, float]:
    global _otlp_dropped_until
    redis = request.app.state.registry.redis
    if body.duplicate > 0:
        redis.set(keys.CHAOS_DUPLICATE, body.duplicate, px=int(body.seconds * 1000))
    else:
        redis.delete(keys.CHAOS_DUPLICATE)
    _otlp_dropped_until = time.time() + body.seconds if body.drop_otlp else 0.0
    return {"duplicate": body.duplicate, "drop_otlp_until": _otlp_dropped_until,
            "until": time.time() + body.seconds}


def otlp_dropped() -> bool:
    """Whether an OTLP outage is on (the gRPC receiver asks; HTTP goes through OtlpOutage)."""
    return time.time() < _otlp_dropped_until


class OtlpOutage:
    """Plain ASGI: while an outage is asked for, OTLP exports get 503 (exporters count them as
    dropped and go on)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/traces" and otlp_dropped():
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-length", b"0")]})
            await send({"type": "http.response.body", "body": b""})
            return
        await self.app(scope, receive, send)
