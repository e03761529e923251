"""The worker's middleware chain in process: a real Redis, a real environment pool and the real
middleware, with no Celery and no endpoint. Messages are taken off the queue the dispatcher
put them on and handed to the Invoker, as the Celery task does."""

from __future__ import annotations

import base64
import json
import threading
import time
from typing import Any

import pytest

from orchestrator import keys
from orchestrator.invocations.invoke import ServiceError, SyncInvoker
from orchestrator.invocations.message import InvocationReply, InvocationRequest, InvocationType
from orchestrator.process.redis_server import EmbeddedRedis
from tests.workers.conftest import WORKER_ID, Chain, async_event
from workers.invoker import Undelivered
from workers.middleware import InvocationContext, Middleware


def test_a_raising_before_hook_answers_the_sync_caller_within_a_second(chain: Chain) -> None:
    # Given a function with reserved concurrency and a middleware whose before_invoke raises
    function = chain.deploy(reserved_concurrency=1)
    chain.raising.armed = True
    answer: dict[str, Any] = {}

    def caller() -> None:
        request = InvocationRequest(function=function, payload='{"n": 1}',
                                    invocation_type=InvocationType.SYNC)
        invoker = SyncInvoker(chain.redis, chain.dispatcher, chain.limiter)
        started = time.monotonic()
        try:
            answer["reply"] = invoker.call_blocking(request, still_wanted=lambda: True)
        except ServiceError as error:
            answer["error"] = error
        answer["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=caller)
    thread.start()
    # When the worker takes the invocation
    ctx = chain.run_next()
    thread.join(5)
    # Then the caller gets Lambda's ServiceException at once, and the slot is free again
    assert isinstance(answer.get("error"), ServiceError), answer
    assert "RaiseBefore failed before the handler ran" in answer["error"].message
    assert answer["seconds"] < 1.0
    assert ctx.outcome is None and ctx.skipped is not None
    assert chain.redis.zcard(keys.concurrency(function.name)) == 0


def test_a_raising_before_hook_retries_the_async_event(chain: Chain) -> None:
    # Given an async event and a middleware whose before_invoke raises once
    function = chain.deploy()
    chain.raising.armed = True
    request = async_event(function, {"n": 7})
    chain.dispatcher.send(request)
    # When the worker takes it, the hook fails: the event waits in the delayed set
    first = chain.run_next()
    assert first.outcome is None
    delayed = chain.redis.zrange(keys.DELAYED, 0, -1)
    assert len(delayed) == 1
    retry = InvocationRequest.model_validate_json(delayed[0])  # type: ignore[index]
    assert (retry.request_id, retry.attempt, retry.throttles) == (request.request_id, 1, 1)
    # Then, once the hook works again, the retry runs the handler
    chain.raising.armed = False
    deadline = time.monotonic() + 5
    while chain.dispatcher.send_due() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    second = chain.run_next()
    assert second.outcome is not None and second.outcome.ok
    assert json.loads(second.outcome.payload)["n"] == 7
    assert chain.record(request.request_id)["status"] == "ok"


def test_records_write_logs_a_record_counters_and_the_sync_reply(chain: Chain) -> None:
    # Given a deployed function
    function = chain.deploy(memory=256)
    request = InvocationRequest(function=function, payload='{"n": 3}',
                                invocation_type=InvocationType.SYNC, tail_log=True)
    # When a sync invocation runs
    chain.dispatcher.send(request)
    ctx = chain.run_next()
    # Then Lambda's log lines, the record, the counters and the reply are all written
    assert ctx.cold
    text = chain.redis.xrange(keys.logs("f"))[-1][1][b"text"].decode()  # type: ignore[index]
    assert f"START RequestId: {request.request_id}" in text
    assert "handled 3" in text
    assert f"END RequestId: {request.request_id}" in text
    assert "Memory Size: 256 MB" in text and "Init Duration:" in text
    record = chain.record(request.request_id)
    assert (record["status"], record["trigger"], record["memory_mb"]) == ("ok", "invoke", 256)
    assert record["billed_ms"] >= 1 and record["init_ms"] > 0
    counters = chain.registry.counters("f")
    assert (counters["invocations"], counters["cold_starts"]) == (1, 1)
    raw = chain.redis.lpop(keys.reply(request.request_id))
    reply = InvocationReply.from_wire(raw)  # type: ignore[arg-type]
    assert json.loads(reply.payload) == {"n": 3, "request_id": request.request_id}
    assert reply.function_error is None and reply.fault is None
    assert "REPORT RequestId" in base64.b64decode(reply.log_tail).decode()


def test_a_handler_error_is_unhandled_counted_and_retried(chain: Chain) -> None:
    # Given an async event whose handler raises
    function = chain.deploy(retries=1)
    request = async_event(function, {"fail": True})
    chain.dispatcher.send(request)
    # When it runs
    ctx = chain.run_next()
    # Then it is an error, counted, and its second attempt waits in the delayed set
    assert ctx.outcome is not None and ctx.outcome.error_type == "ValueError"
    assert chain.registry.counters("f")["errors"] == 1
    retry = InvocationRequest.model_validate_json(
        chain.redis.zrange(keys.DELAYED, 0, -1)[0])  # type: ignore[index]
    assert (retry.attempt, retry.throttles) == (2, 0)


def test_concurrency_limit_throttles_an_async_event_and_counts_it(chain: Chain) -> None:
    # Given a function whose one reserved slot is taken
    function = chain.deploy(reserved_concurrency=1)
    chain.limiter.acquire(function, "someone-else:1", 60)
    request = async_event(function, {"n": 1})
    chain.dispatcher.send(request)
    # When the event is taken
    ctx = chain.run_next()
    # Then the handler did not run, the throttle is counted and the event backs off
    assert ctx.outcome is None and ctx.skipped is not None
    assert ctx.skipped.reason == "Throttled"
    assert chain.registry.counters("f").get("throttles") == 1
    retry = InvocationRequest.model_validate_json(
        chain.redis.zrange(keys.DELAYED, 0, -1)[0])  # type: ignore[index]
    assert (retry.attempt, retry.throttles) == (1, 1)


def test_concurrency_limit_releases_the_lease_after_the_invocation(chain: Chain) -> None:
    # Given a function with reserved concurrency
    function = chain.deploy(reserved_concurrency=2)
    # When an async event runs
    chain.dispatcher.send(async_event(function, {"n": 1}))
    ctx = chain.run_next()
    # Then it held a lease named after its attempt, and gave it back
    assert ctx.lease_id == f"{ctx.request.request_id}:1"
    assert chain.redis.zcard(keys.concurrency(function.name)) == 0


def test_warm_affinity_routes_the_next_event_to_this_worker(chain: Chain) -> None:
    # Given one invocation that left a warm environment behind
    function = chain.deploy()
    chain.dispatcher.send(async_event(function, {"n": 1}))
    first = chain.run_next()
    assert first.env_alive
    warm = keys.warm("f", function.environment_key)
    assert chain.redis.lrange(warm, 0, -1) == [WORKER_ID.encode()]
    # When the next event for the same version is sent
    chain.dispatcher.send(async_event(function, {"n": 2}))
    # Then it goes to this worker's own queue and runs warm
    assert chain.redis.llen(keys.worker_queue(WORKER_ID)) == 1
    second = chain.run_next()
    assert not second.cold


def test_tracing_records_the_service_and_function_spans(chain: Chain) -> None:
    # Given a deployed function
    function = chain.deploy()
    # When an async event runs
    chain.dispatcher.send(async_event(function, {"n": 1}))
    ctx = chain.run_next()
    # Then the AWS::Lambda service span and the function's parts share the invocation's trace
    spans = chain.spans.get_finished_spans()
    names = sorted(span.name for span in spans)
    assert names.count("f") >= 2, names  # the service span and the function span
    assert {"Initialization", "Invocation", "Overhead"} <= set(names), names
    assert len({span.context.trace_id for span in spans}) == 1
    assert ctx.runtime_trace_header.startswith("Root=1-")


class SlowAfter(Middleware):
    """Bookkeeping that takes a while after the handler answered."""

    def after_invoke(self, ctx: InvocationContext) -> None:
        time.sleep(0.05)


CLOCKED = "import time\n\ndef handler(event, context):\n    return time.time_ns()\n"


def test_the_invocation_span_is_the_handlers_window_not_the_bookkeepings(
        chain: Chain) -> None:
    # Given a handler that says when it ran, and 50 ms of bookkeeping after it answers
    function = chain.deploy(CLOCKED)
    chain.invoker.middleware.append(SlowAfter())
    # When an async event runs
    chain.dispatcher.send(async_event(function, {"n": 1}))
    ctx = chain.run_next()
    assert ctx.outcome is not None
    ran_at = int(ctx.outcome.payload)
    # Then the Invocation span holds the moment the handler ran, and Overhead the bookkeeping
    spans = {span.name: span for span in chain.spans.get_finished_spans()}
    invocation, overhead = spans["Invocation"], spans["Overhead"]
    assert invocation.start_time is not None and invocation.end_time is not None
    assert invocation.start_time <= ran_at <= invocation.end_time
    assert overhead.end_time is not None and overhead.start_time == invocation.end_time
    assert overhead.end_time - overhead.start_time >= 50_000_000


class KillRedisAfter(Middleware):
    """Redis dies after the handler ran, before the outcome is written."""

    def __init__(self, server: EmbeddedRedis) -> None:
        self.server = server

    def after_invoke(self, ctx: InvocationContext) -> None:
        assert self.server.process is not None
        self.server.process.kill()
        self.server.process.wait()


def test_an_outcome_that_cannot_be_written_is_not_acknowledged(chain: Chain) -> None:
    # Given an async event taken by the worker
    function = chain.deploy()
    chain.dispatcher.send(async_event(function, {"n": 1}))
    # When Redis dies before its record and counters are written
    chain.invoker.middleware.append(KillRedisAfter(chain.server))
    # Then the invocation is reported undelivered (the task gives the message back), not done
    with pytest.raises(Undelivered, match="could not be written"):
        chain.run_next()
