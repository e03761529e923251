"""Invoke a function the way Lambda's Invoke API does: sync, async (Event) or DryRun."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass

from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from orchestrator import keys
from orchestrator.errors import (
    AwsError,
    InvalidRequestContent,
    RequestTooLarge,
    ResourceNotFound,
    TooManyRequests,
)
from orchestrator.functions.cache import FunctionCache
from orchestrator.functions.registry import Registry
from orchestrator.invocations.concurrency import Admission, ConcurrencyLimiter
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.message import InvocationReply, InvocationRequest, InvocationType

SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 1024 * 1024
# How long a sync caller waits for a free worker on top of the function's own timeout.
QUEUE_ALLOWANCE_SECONDS = 60


class ServiceError(AwsError):
    code = "ServiceException"
    status = 500


@dataclass
class InvokeResult:
    status: int
    payload: bytes = b""
    function_error: str | None = None
    log_tail: str = ""
    request_id: str = ""


def function_name(name_or_arn: str) -> str:
    """Accept a name, a partial ARN or a full ARN, as Lambda does."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn.split(":")[0]


class InvokeService:
    def __init__(self, redis: Redis, async_redis: AsyncRedis, dispatcher: Dispatcher,
                 limiter: ConcurrencyLimiter) -> None:
        self.registry = Registry(redis)
        self.functions = FunctionCache(self.registry)
        self.async_redis = async_redis
        self.dispatcher = dispatcher
        self.limiter = limiter

    async def invoke(
        self,
        name: str,
        payload: bytes,
        invocation_type: str = InvocationType.SYNC.value,
        tail_log: bool = False,
        client_context: str = "",
        trigger: str = "invoke",
    ) -> InvokeResult:
        kind = _invocation_type(invocation_type)
        function = self.functions.get(function_name(name))
        if function is None:
            raise ResourceNotFound(f"Function not found: arn:aws:lambda:us-east-1:000000000000:"
                                   f"function:{function_name(name)}")
        limit = ASYNC_PAYLOAD_LIMIT if kind is InvocationType.ASYNC else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the "
                                  "InvokeFunction operation")
        text = _json_text(payload)
        if kind is InvocationType.DRY_RUN:
            return InvokeResult(204)
        request = InvocationRequest(
            function=function, payload=text, invocation_type=kind, trigger=trigger,
            client_context=client_context,
            tail_log=tail_log,
        )
        if kind is InvocationType.ASYNC:
            self.dispatcher.send(request)  # a stopped recursive event is accepted, as on Lambda
            return InvokeResult(202, request_id=request.request_id)
        return await self._invoke_sync(request)

    async def _invoke_sync(self, request: InvocationRequest) -> InvokeResult:
        function = request.function
        lease_id = f"{request.request_id}:{request.attempt}"
        hold = function.timeout + QUEUE_ALLOWANCE_SECONDS
        leased = self.limiter.needs_lease(function)
        admission = self.limiter.acquire(function, lease_id, hold) if leased else Admission.ADMITTED
        if admission is not Admission.ADMITTED:
            self.registry.redis.hincrby(keys.counters(function.name), "throttles", 1)
            reason = ("ReservedFunctionConcurrentInvocationLimitExceeded"
                      if admission is Admission.FUNCTION_LIMIT
                      else "ConcurrentInvocationLimitExceeded")
            raise TooManyRequests("Rate Exceeded.", Reason=reason)
        request.lease_held = leased
        started = time.monotonic()
        self.dispatcher.send(request)
        timeout = function.timeout + QUEUE_ALLOWANCE_SECONDS
        answer = await self.async_redis.blpop([keys.reply(request.request_id)], timeout=timeout)
        if answer is None:
            if leased:
                self.limiter.release(self.limiter.redis, function.name, lease_id)
            waited = time.monotonic() - started
            raise ServiceError(f"No worker answered within {waited:.0f} s: is a worker running?")
        reply = InvocationReply.model_validate_json(answer[1])
        return InvokeResult(200, reply.payload.encode(), reply.function_error, reply.log_tail,
                            request.request_id)


def _invocation_type(value: str) -> InvocationType:
    try:
        return InvocationType(value)
    except ValueError:
        raise InvalidRequestContent(
            f"1 validation error detected: Value '{value}' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ) from None


def _json_text(payload: bytes) -> str:
    if not payload.strip():
        return "{}"
    try:
        text = payload.decode("utf-8")
        json.loads(text)
    except ValueError:
        raise InvalidRequestContent("Could not parse request body into json: Could not parse "
                                    "payload into json") from None
    return text
