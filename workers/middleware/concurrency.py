"""Reserved and account concurrency for async events; sync callers hold their slot already."""

from __future__ import annotations

from orchestrator.invocations.concurrency import Admission, ConcurrencyLimiter
from workers.middleware import InvocationContext, Middleware, Throttled

# A lease outlives the function's timeout by this much, then frees itself (a worker died).
LEASE_MARGIN_SECONDS = 30


class ConcurrencyLimit(Middleware):
    def __init__(self, limiter: ConcurrencyLimiter) -> None:
        self.limiter = limiter

    def before_invoke(self, ctx: InvocationContext) -> None:
        request = ctx.request
        lease_id = request.attempt_id
        if request.is_sync:  # admitted (or throttled) by the sync invoker already
            ctx.lease_id = lease_id if request.lease_held else None
            return
        if not self.limiter.needs_lease(request.function):
            return
        hold = request.function.timeout + LEASE_MARGIN_SECONDS
        if self.limiter.acquire(request.function, lease_id, hold) is not Admission.ADMITTED:
            raise Throttled(f"{request.function.name} is at its concurrency limit")
        ctx.lease_id = lease_id

    def after_invoke(self, ctx: InvocationContext) -> None:
        if ctx.lease_id is not None:
            self.limiter.release(ctx.pipe, ctx.request.function.name, ctx.lease_id)
