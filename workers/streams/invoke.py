"""Synchronous invocation from inside a worker, as Lambda's pollers invoke stream batches."""

from __future__ import annotations

import time
from collections.abc import Callable

from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.invocations.concurrency import Admission, ConcurrencyLimiter
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.message import InvocationReply, InvocationRequest, InvocationType
from tracing.propagation import batch_context

QUEUE_ALLOWANCE_SECONDS = 60


class SyncInvoker:
    def __init__(self, redis: Redis, dispatcher: Dispatcher, limiter: ConcurrencyLimiter) -> None:
        self.redis = redis
        self.dispatcher = dispatcher
        self.limiter = limiter

    def invoke(self, function: FunctionConfig, payload: str, trigger: str,
               still_wanted: Callable[[], bool], links: list[str] | None = None
               ) -> InvocationReply | None:
        """The function's reply; None when throttled, or when `still_wanted()` turns false
        (the caller lost its lease) or no worker answered in time. A batch starts a new trace
        linked to each record's write (`links`)."""
        request = InvocationRequest(function=function, payload=payload,
                                    invocation_type=InvocationType.SYNC, trigger=trigger,
                                    trace_header=batch_context(links or []).to_xray(),
                                    links=[link for link in links or [] if link])
        lease_id = f"{request.request_id}:{request.attempt}"
        leased = self.limiter.needs_lease(function)
        hold = function.timeout + QUEUE_ALLOWANCE_SECONDS
        if leased and self.limiter.acquire(function, lease_id, hold) is not Admission.ADMITTED:
            self.redis.hincrby(keys.counters(function.name), "throttles", 1)
            return None
        request.lease_held = leased
        self.dispatcher.send(request)
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline and still_wanted():
            answer = self.redis.blpop([keys.reply(request.request_id)], timeout=1)
            if answer is not None:
                return InvocationReply.model_validate_json(answer[1])
        return None
