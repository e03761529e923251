"""Invoke a function the way Lambda's Invoke API does: sync, async (Event) or DryRun.

`SyncInvoker` is the one synchronous path, shared by the endpoint (asyncio: the Invoke API and
the API Gateway stage) and the stream pollers inside workers (threads): take the concurrency
slot, queue the request, wait for its reply, and free the slot when no reply comes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import orjson
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
from orchestrator.functions.versions import Versions
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
    executed_version: str = "$LATEST"


def function_name(name_or_arn: str) -> str:
    """Accept a name, a partial ARN or a full ARN, as Lambda does."""
    if name_or_arn.startswith("arn:"):
        parts = name_or_arn.split(":")
        return parts[6] if len(parts) > 6 else name_or_arn
    return name_or_arn.split(":")[0]


def function_qualifier(name_or_arn: str, qualifier: str | None = None) -> str:
    """The version or alias asked for: the Qualifier parameter, else the one in the name or
    ARN (`hello:live`), else `$LATEST`."""
    if qualifier:
        return qualifier
    parts = name_or_arn.split(":")
    if name_or_arn.startswith("arn:"):
        return parts[7] if len(parts) > 7 else "$LATEST"
    return parts[1] if len(parts) > 1 else "$LATEST"


class SyncInvoker:
    """Lambda's synchronous invoke: admission, dispatch, and the wait for the reply."""

    def __init__(self, redis: Redis, dispatcher: Dispatcher, limiter: ConcurrencyLimiter) -> None:
        self.redis = redis
        self.dispatcher = dispatcher
        self.limiter = limiter

    async def call(self, request: InvocationRequest, replies: AsyncRedis) -> InvocationReply:
        """The reply; TooManyRequests when throttled, ServiceError when no worker answered
        within the function's timeout plus the queue allowance or ripple itself failed."""
        hold = self._lease(request)
        await self.dispatcher.send_async(request, replies)
        started = time.monotonic()
        answer = await replies.blpop([keys.reply(request.request_id)], timeout=hold)
        if answer is None:
            self._abandon(request)
            waited = time.monotonic() - started
            raise ServiceError(f"No worker answered within {waited:.0f} s: is a worker running?")
        return _reply(answer[1])  # type: ignore[arg-type]  # redis-py types replies loosely

    def call_blocking(self, request: InvocationRequest,
                      still_wanted: Callable[[], bool]) -> InvocationReply:
        """`call` for a thread that may stop wanting the answer (a poller that lost its
        lease): ServiceError as soon as `still_wanted()` turns false."""
        hold = self._lease(request)
        self.dispatcher.send(request)
        deadline = time.monotonic() + hold
        while time.monotonic() < deadline and still_wanted():
            answer = self.redis.blpop([keys.reply(request.request_id)], timeout=1)
            if answer is not None:
                return _reply(answer[1])  # type: ignore[index,arg-type]
        self._abandon(request)
        raise ServiceError(f"no reply to {request.request_id} was wanted or came in time")

    def _lease(self, request: InvocationRequest) -> float:
        """Take the concurrency slot (the worker releases it); returns how long to wait for
        the reply once the request is queued."""
        function = request.function
        hold = function.timeout + QUEUE_ALLOWANCE_SECONDS
        if self.limiter.needs_lease(function):
            admission = self.limiter.acquire(function, request.attempt_id, hold)
            if admission is not Admission.ADMITTED:
                self.redis.hincrby(keys.counters(function.name), "throttles", 1)
                reason = ("ReservedFunctionConcurrentInvocationLimitExceeded"
                          if admission is Admission.FUNCTION_LIMIT
                          else "ConcurrentInvocationLimitExceeded")
                raise TooManyRequests("Rate Exceeded.", Reason=reason)
            request.lease_held = True
        return hold

    def _abandon(self, request: InvocationRequest) -> None:
        if request.lease_held:
            self.limiter.release(self.redis, request.function.name, request.attempt_id)


def _reply(wire: bytes) -> InvocationReply:
    reply = InvocationReply.from_wire(wire)
    if reply.fault is not None:
        raise ServiceError(reply.fault)
    return reply


class InvokeService:
    def __init__(self, redis: Redis, async_redis: AsyncRedis, dispatcher: Dispatcher,
                 limiter: ConcurrencyLimiter) -> None:
        self.registry = Registry(redis)
        self.functions = FunctionCache(self.registry)
        self.versions = Versions(redis)
        self.async_redis = async_redis
        self.dispatcher = dispatcher
        self.sync = SyncInvoker(redis, dispatcher, limiter)

    async def invoke(
        self,
        name: str,
        payload: bytes,
        invocation_type: str = InvocationType.SYNC.value,
        tail_log: bool = False,
        client_context: str = "",
        trigger: str = "invoke",
        qualifier: str | None = None,
    ) -> InvokeResult:
        kind = _invocation_type(invocation_type)
        function = self.functions.get(function_name(name))
        wanted = function_qualifier(name, qualifier)
        if function is not None and wanted != "$LATEST":  # $LATEST costs no extra round trip
            function = self.versions.resolve(function, wanted)  # the published snapshot
        if function is None:
            suffix = "" if wanted == "$LATEST" else f":{wanted}"
            raise ResourceNotFound(f"Function not found: arn:aws:lambda:us-east-1:000000000000:"
                                   f"function:{function_name(name)}{suffix}")
        limit = ASYNC_PAYLOAD_LIMIT if kind is InvocationType.ASYNC else SYNC_PAYLOAD_LIMIT
        if len(payload) > limit:
            raise RequestTooLarge(f"Request must be smaller than {limit} bytes for the "
                                  "InvokeFunction operation")
        payload = _json_payload(payload)
        if kind is InvocationType.DRY_RUN:
            return InvokeResult(204)
        request = InvocationRequest(
            function=function, payload=payload, invocation_type=kind, trigger=trigger,
            client_context=client_context,
            tail_log=tail_log,
        )
        if kind is InvocationType.ASYNC:
            # a stopped recursive event is accepted, as on Lambda
            await self.dispatcher.send_async(request, self.async_redis)
            return InvokeResult(202, request_id=request.request_id,
                                executed_version=function.lambda_version)
        reply = await self.sync.call(request, self.async_redis)
        return InvokeResult(200, reply.payload, reply.function_error, reply.log_tail,
                            request.request_id, function.lambda_version)


def _invocation_type(value: str) -> InvocationType:
    try:
        return InvocationType(value)
    except ValueError:
        raise InvalidRequestContent(
            f"1 validation error detected: Value '{value}' at 'invocationType' failed to satisfy "
            "constraint: Member must satisfy enum value set: [Event, RequestResponse, DryRun]"
        ) from None


def _json_payload(payload: bytes) -> bytes:
    """The payload itself once it is known to be UTF-8 JSON (an empty one is `{}`)."""
    if not payload.strip():
        return b"{}"
    try:
        orjson.loads(payload)
    except orjson.JSONDecodeError:
        raise InvalidRequestContent("Could not parse request body into json: Could not parse "
                                    "payload into json") from None
    return payload
