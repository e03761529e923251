"""Lambda's async semantics: retries, throttle backoff, event age, on-failure destination, and
each event's outcome settled in the delivery ledger."""

from __future__ import annotations

import time

from orchestrator.events.destination import failure_record
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.ledger import Ledger
from orchestrator.invocations.message import InvocationRequest
from orchestrator.invocations.on_failure import OnFailure
from orchestrator.settings import Settings
from workers.middleware import EventExpired, HookFailed, InvocationContext, Middleware, Throttled

# Lambda waits about 1 minute before the first retry and 2 minutes before the second.
RETRY_DELAYS_SECONDS = (60.0, 120.0)
# Throttled events back off from 1 s up to 5 minutes.
THROTTLE_BACKOFF_SECONDS = (1.0, 300.0)


class AsyncRetries(Middleware):
    def __init__(self, dispatcher: Dispatcher, on_failure: OnFailure, settings: Settings) -> None:
        self.dispatcher = dispatcher
        self.on_failure = on_failure
        self.settings = settings
        self.ledger = Ledger(dispatcher.redis)

    def before_invoke(self, ctx: InvocationContext) -> None:
        request = ctx.request
        if request.is_sync:
            return
        if self._age_seconds(request) > request.function.max_event_age:
            raise EventExpired(f"event {request.request_id} is older than its maximum age")

    def after_invoke(self, ctx: InvocationContext) -> None:
        request = ctx.request
        if request.is_sync:
            return
        if isinstance(ctx.skipped, Throttled | HookFailed):  # not an attempt: back off
            self._retry_throttled(ctx)
        elif isinstance(ctx.skipped, EventExpired):
            self._give_up(ctx, "EventAgeExceeded", None)
        elif ctx.outcome is not None and ctx.outcome.ok:
            self.ledger.settle(ctx.pipe, request.function.name, request.request_id, "succeeded")
        elif ctx.outcome is not None:
            if request.attempt <= min(request.function.retries, len(RETRY_DELAYS_SECONDS)):
                delay = RETRY_DELAYS_SECONDS[request.attempt - 1]
                retry = request.model_copy(update={"attempt": request.attempt + 1})
                self.dispatcher.send_later(retry, delay / self.settings.clock_speed)
            else:
                self._give_up(ctx, "RetriesExhausted", ctx.outcome.payload)

    def _retry_throttled(self, ctx: InvocationContext) -> None:
        request = ctx.request
        low, high = THROTTLE_BACKOFF_SECONDS
        delay = min(high, low * 2**request.throttles)
        if self._age_seconds(request) + delay > request.function.max_event_age:
            self._give_up(ctx, "EventAgeExceeded", None)
            return
        retry = request.model_copy(update={"throttles": request.throttles + 1})
        self.dispatcher.send_later(retry, delay / self.settings.clock_speed)

    def _give_up(self, ctx: InvocationContext, condition: str, response: bytes | None) -> None:
        request = ctx.request
        self.ledger.settle(ctx.pipe, request.function.name, request.request_id,
                           "expired" if condition == "EventAgeExceeded" else "failed")
        function = request.function
        attempts = request.attempt if response is not None else request.attempt - 1
        record = failure_record(request.request_id, function.arn, condition, attempts,
                                request.payload, response)
        self.on_failure.send(function.name, function.on_failure, record, request.payload,
                             request.trace_header)

    def _age_seconds(self, request: InvocationRequest) -> float:
        """The event's age on the simulated clock."""
        return (time.time() - request.first_enqueued) * self.settings.clock_speed
