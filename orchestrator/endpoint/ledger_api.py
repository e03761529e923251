"""The delivery ledger over HTTP: `GET /_ripple/api/ledger` (what `ripple status --ledger` and
load reports read)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool

from orchestrator.invocations.ledger import Ledger

router = APIRouter(prefix="/_ripple/api")


@router.get("/ledger")
async def ledger(request: Request) -> dict[str, dict[str, Any]]:
    """Per function: accepted = succeeded + failed + expired + stopped + in flight, the
    duplicates, and any accepted event that is none of these (`lost`)."""
    return await run_in_threadpool(Ledger(request.app.state.registry.redis).report)
