"""Runs one invocation message through the middleware and an execution environment.

Hook failures are contained, as dramatiq's `Broker.emit_before`/`emit_after` contain them: a
raising `before_invoke` stops the handler (the event is a HookFailed skip, retried or answered
as ripple's fault), and every `after_invoke` still runs, so leases are released, sync callers
answered and async events retried or dead-lettered whatever one hook did.

What cannot be contained is Redis being away: an event whose retry, dead letter or record could
not be written must not be acknowledged. `handle` raises `Undelivered` then, after every hook
ran, and the task gives the message back (it runs again once Redis is back).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis, RedisError

from orchestrator.errors import RippleError
from orchestrator.invocations.message import InvocationRequest
from workers.environments.outcome import Outcome, lambda_error
from workers.environments.pool import EnvironmentPool
from workers.middleware import HookFailed, InvocationContext, InvocationSkipped, Middleware
from workers.round_trip import round_trip

log = logging.getLogger("ripple.worker")


class Undelivered(RippleError):
    """Redis failed while the invocation's outcome was written: it must run again."""


class Invoker:
    def __init__(self, redis: Redis, pool: EnvironmentPool,
                 middleware: Sequence[Middleware]) -> None:
        self.redis = redis
        self.pool = pool
        self.middleware = list(middleware)

    def handle(self, message: dict[str, Any],
               finish: Callable[[InvocationContext], None] | None = None) -> InvocationContext:
        """Run one invocation message; `finish` may add to its round trip after every hook
        (its results are in `ctx.results`)."""
        request = InvocationRequest.model_validate(message)
        ctx = InvocationContext(request, round_trip(self.redis))
        ctx.skipped = self._before(ctx)
        if ctx.skipped is None:
            ctx.outcome = self._run(ctx)
        lost: RedisError | None = None
        for hook in reversed(self.middleware):
            try:
                hook.after_invoke(ctx)
            except RedisError as error:
                lost = error
                log.warning("after_invoke of %s could not write (%s)", type(hook).__name__, error)
            except Exception:  # one hook's failure must not lose the others' writes
                log.exception("after_invoke of %s failed", type(hook).__name__)
        if finish is not None:
            finish(ctx)
        try:
            ctx.results = ctx.pipe.execute()
        except RedisError as error:
            lost = error
        if lost is not None:
            raise Undelivered(f"{request.request_id}: its outcome could not be written ({lost})")
        for hook in self.middleware:
            try:
                hook.completed(ctx)
            except Exception:
                log.exception("completed of %s failed", type(hook).__name__)
        return ctx

    def _before(self, ctx: InvocationContext) -> InvocationSkipped | None:
        for hook in self.middleware:
            try:
                hook.before_invoke(ctx)
            except InvocationSkipped as skipped:
                return skipped
            except Exception as error:
                name = type(hook).__name__
                log.exception("before_invoke of %s failed; %s is not run this time", name,
                              ctx.request.request_id)
                return HookFailed(f"{name} failed before the handler ran: {error!r}")
        return None

    def _run(self, ctx: InvocationContext) -> Outcome:
        request = ctx.request
        try:
            env, ctx.cold = self.pool.checkout(request.function)
        except Exception as error:  # code missing or unpackable: a fault, not the handler's
            log.exception("could not start an environment for %s", request.function.name)
            return Outcome(request.request_id, lambda_error("ServiceException", str(error)),
                           "ServiceException")
        try:
            return env.invoke(request.request_id, request.payload,
                              ctx.runtime_trace_header or request.trace_header,
                              request.client_context)
        except Exception as error:  # the environment's plumbing, not the handler
            log.exception("invoking %s failed", request.function.name)
            return Outcome(request.request_id, lambda_error("ServiceException", str(error)),
                           "ServiceException")
        finally:
            ctx.env_alive = self.pool.checkin(env)
