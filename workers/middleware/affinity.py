"""Warm affinity: after an invocation, advertise this worker's idle environment."""

from __future__ import annotations

from orchestrator import keys
from workers.middleware import InvocationContext, Middleware

MAX_TOKENS = 64  # per function version; stale ones only cost a cold start
TOKEN_TTL_SECONDS = 600


class WarmAffinity(Middleware):
    def __init__(self, worker_id: str) -> None:
        self.worker_id = worker_id

    def after_invoke(self, ctx: InvocationContext) -> None:
        if not ctx.env_alive:
            return
        function = ctx.request.function
        key = keys.warm(function.name, function.environment_key)
        ctx.pipe.lpush(key, self.worker_id)
        ctx.pipe.ltrim(key, 0, MAX_TOKENS - 1)
        ctx.pipe.expire(key, TOKEN_TTL_SECONDS)
