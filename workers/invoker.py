"""Runs one invocation message through the middleware and an execution environment."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from redis import Redis

from orchestrator.invocations.message import InvocationRequest
from workers.environments.environment import Outcome, lambda_error
from workers.environments.pool import EnvironmentPool
from workers.middleware import InvocationContext, InvocationSkipped, Middleware

log = logging.getLogger("ripple.worker")


class Invoker:
    def __init__(self, redis: Redis, pool: EnvironmentPool,
                 middleware: Sequence[Middleware]) -> None:
        self.redis = redis
        self.pool = pool
        self.middleware = list(middleware)

    def handle(self, message: dict[str, Any]) -> InvocationContext:
        request = InvocationRequest.model_validate(message)
        ctx = InvocationContext(request, self.redis.pipeline(transaction=False))
        try:
            for hook in self.middleware:
                hook.before_invoke(ctx)
            ctx.outcome = self._run(ctx)
        except InvocationSkipped as skipped:
            ctx.skipped = skipped
        for hook in reversed(self.middleware):
            try:
                hook.after_invoke(ctx)
            except Exception:  # one hook's failure must not lose the others' writes
                log.exception("after_invoke of %s failed", type(hook).__name__)
        ctx.pipe.execute()
        for hook in self.middleware:
            try:
                hook.completed(ctx)
            except Exception:
                log.exception("completed of %s failed", type(hook).__name__)
        return ctx

    def _run(self, ctx: InvocationContext) -> Outcome:
        request = ctx.request
        try:
            env, ctx.cold = self.pool.checkout(request.function)
        except Exception as error:  # code missing or unpackable: a fault, not the handler's
            log.exception("could not start an environment for %s", request.function.name)
            return Outcome(request.request_id, lambda_error("ServiceException", str(error)),
                           "ServiceException")
        try:
            return env.invoke(request.request_id, request.payload.encode(),
                              ctx.runtime_trace_header or request.trace_header,
                              request.client_context)
        finally:
            ctx.env_alive = self.pool.checkin(env)
