"""The drain: after Celery's message, a worker takes the queues' next messages itself while
handlers are fast, each event still on its own (record, ledger, ack), and a crash in the middle
leaves only the unfinished event to run again."""

from __future__ import annotations

import json
import threading
import time

import orjson
import pytest
from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.invocations.dispatch import INVOKE_TASK
from orchestrator.invocations.ledger import Ledger
from orchestrator.invocations.message import InvocationRequest, InvocationType
from tests.workers.conftest import WORKER_ID, Chain, async_event
from workers import drain
from workers.drain import UNACKED, UNACKED_INDEX, Drain, _task_args
from workers.middleware import InvocationContext, Middleware
from workers.redelivery import GRACE_SECONDS, Redelivery

QUEUES = [keys.worker_queue(WORKER_ID), keys.QUEUE_SYNC, keys.QUEUE_ASYNC]
SLOW = "import time\n\ndef handler(event, context):\n    time.sleep(0.6)\n    return 1\n"


class Crash(BaseException):
    """The worker process dying: nothing in ripple catches it."""


class CrashAt(Middleware):
    """Dies before the handler of the event numbered `n`."""

    def __init__(self, n: int) -> None:
        self.n = n

    def before_invoke(self, ctx: InvocationContext) -> None:
        if json.loads(ctx.request.payload).get("n") == self.n:
            raise Crash


def queue(chain: Chain, function: FunctionConfig, count: int) -> list[str]:
    requests = [async_event(function, {"n": n}) for n in range(count)]
    for request in requests:
        chain.dispatcher.send(request)
    return [request.request_id for request in requests]


def delivered_by_celery(redis: Redis) -> tuple[dict[str, object], str]:
    """The first queued message, taken and recorded as unacknowledged, as kombu delivers it."""
    pipe = redis.pipeline(transaction=False)
    pipe.eval(drain._TAKE, 2 + len(QUEUES), UNACKED, UNACKED_INDEX, *QUEUES, time.time(),
              INVOKE_TASK)
    (raw,) = pipe.execute()
    assert isinstance(raw, bytes)
    envelope = orjson.loads(raw)
    return _task_args(envelope), drain._tag(envelope)


def recorded(redis: Redis) -> list[str]:
    entries = redis.xrange(keys.INVOCATIONS)  # type: ignore[union-attr]
    return [json.loads(fields[b"record"])["request_id"] for _, fields in entries]


def queued(redis: Redis) -> int:
    return sum(int(redis.llen(name)) for name in QUEUES)  # type: ignore[arg-type]


@pytest.fixture(autouse=True)
def _no_op_is_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    """A no-op counts as fast even on a machine busy enough to stretch it to hundreds of ms."""
    monkeypatch.setattr(drain, "FAST_MS", 500.0)


def test_a_deep_queue_runs_in_one_delivery_each_event_on_its_own(chain: Chain) -> None:
    # Given 50 async events for a fast function, queued behind one worker
    function = chain.deploy()
    ids = queue(chain, function, 50)
    # When Celery delivers the first and the drain runs it
    message, tag = delivered_by_celery(chain.redis)
    taken = Drain(chain.redis, chain.invoker, QUEUES).run(message, tag)
    # Then it took the other 49 itself, and each ran once with its own record
    assert taken == 49
    assert sorted(recorded(chain.redis)) == sorted(ids)
    # And each was settled in the ledger and acknowledged: nothing queued, nothing unacked
    ledger = Ledger(chain.redis).report()[function.name]
    assert (ledger["accepted"], ledger["succeeded"], ledger["duplicates"]) == (50, 50, 0)
    assert ledger["in_flight"] == 0 and ledger["reconciles"]
    assert queued(chain.redis) == 0
    assert chain.redis.hlen(UNACKED) == 0 and chain.redis.zcard(UNACKED_INDEX) == 0
    assert drain.taken_tags() == []


def test_an_event_that_comes_just_after_the_queue_emptied_is_taken_too(
        chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given one queued event, and a drain that waits long enough for a slow test machine
    monkeypatch.setattr(drain, "WAIT_SECONDS", 5.0)
    function = chain.deploy()
    (first,) = queue(chain, function, 1)
    message, tag = delivered_by_celery(chain.redis)
    second = async_event(function, {"n": 1})

    def send_once_the_first_is_recorded() -> None:
        deadline = time.monotonic() + 30
        while not recorded(chain.redis) and time.monotonic() < deadline:
            time.sleep(0.005)
        chain.dispatcher.send(second)  # to this worker's own queue: its environment is warm

    sender = threading.Thread(target=send_once_the_first_is_recorded)
    sender.start()
    # When the drain runs the first and finds the queues empty
    taken = Drain(chain.redis, chain.invoker, QUEUES).run(message, tag)
    sender.join()
    # Then it waited, and took the second in the same delivery, settled and acknowledged
    assert taken == 1
    assert recorded(chain.redis) == [first, second.request_id]
    assert queued(chain.redis) == 0 and chain.redis.hlen(UNACKED) == 0


def sync_event(function: FunctionConfig, n: int) -> InvocationRequest:
    return async_event(function, {"n": n}).model_copy(
        update={"invocation_type": InvocationType.SYNC})


def test_a_sync_event_sent_while_the_thread_waits_is_handed_to_it(
        chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a drain that waits long enough for a slow test machine (and stops after one take)
    monkeypatch.setattr(drain, "WAIT_SECONDS", 5.0)
    monkeypatch.setattr(drain, "MAX_EVENTS", 1)
    function = chain.deploy()
    first, second = sync_event(function, 0), sync_event(function, 1)
    chain.dispatcher.send(first)
    message, tag = delivered_by_celery(chain.redis)
    offers = keys.handoffs(function.name, function.environment_key)

    def send_once_the_first_is_answered() -> None:
        deadline = time.monotonic() + 30
        while not chain.redis.llen(keys.reply(first.request_id)) and time.monotonic() < deadline:
            time.sleep(0.005)
        chain.dispatcher.send(second)  # the caller's next request

    sender = threading.Thread(target=send_once_the_first_is_answered)
    sender.start()
    # When the drain runs the first and the caller sends the next once answered
    taken = Drain(chain.redis, chain.invoker, QUEUES, WORKER_ID).run(message, tag)
    sender.join()
    # Then the second was handed straight to the waiting thread, and both were answered
    assert taken == 1
    assert recorded(chain.redis) == [first.request_id, second.request_id]
    assert chain.redis.llen(keys.reply(second.request_id)) == 1
    # And nothing is left behind: no offer, nothing queued or unacknowledged
    assert chain.redis.llen(offers) == 0 and queued(chain.redis) == 0
    assert chain.redis.llen(keys.handoff_queue(keys.handoff_token(WORKER_ID, 0))) == 0
    assert chain.redis.hlen(UNACKED) == 0 and drain.taken_tags() == []


def test_an_offer_nobody_takes_is_withdrawn(chain: Chain,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a sync event delivered by Celery, and no caller sending another
    monkeypatch.setattr(drain, "WAIT_SECONDS", 0.2)
    function = chain.deploy()
    chain.dispatcher.send(sync_event(function, 0))
    message, tag = delivered_by_celery(chain.redis)
    # When the drain runs it and its wait for a hand-off ends
    begun = time.monotonic()
    taken = Drain(chain.redis, chain.invoker, QUEUES, WORKER_ID).run(message, tag)
    # Then it went back to Celery, its offer withdrawn: the next sync event is queued for Celery
    assert taken == 0 and time.monotonic() - begun < 4.0
    assert chain.redis.llen(keys.handoffs(function.name, function.environment_key)) == 0
    chain.dispatcher.send(sync_event(function, 1))
    assert queued(chain.redis) == 1


def test_an_offer_whose_claim_failed_is_given_back_to_the_shared_queue(
        chain: Chain, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a drain whose claim fails (Redis refusing it) after it offered its thread
    monkeypatch.setattr(drain, "WAIT_SECONDS", 0.05)
    monkeypatch.setattr(drain, "_CLAIM", "return redis.error_reply('LOADING')")
    function = chain.deploy()
    chain.dispatcher.send(sync_event(function, 0))
    message, tag = delivered_by_celery(chain.redis)
    assert Drain(chain.redis, chain.invoker, QUEUES, WORKER_ID).run(message, tag) == 0
    # And a sync event handed to the stranded offer
    late = sync_event(function, 1)
    chain.dispatcher.send(late)
    assert chain.redis.llen(keys.handoff_queue(keys.handoff_token(WORKER_ID, 0))) == 1
    # When housekeeping settles stranded offers
    given = drain.give_back_stranded(chain.redis)
    # Then the event is on the shared sync queue for Celery, and the offer is gone
    assert given == 1
    assert chain.redis.llen(keys.QUEUE_SYNC) == 1
    assert chain.redis.llen(keys.handoffs(function.name, function.environment_key)) == 0
    assert drain.give_back_stranded(chain.redis) == 0


def test_a_slow_handler_runs_one_message_per_delivery(chain: Chain) -> None:
    # Given three events for a handler slower than the drain's bound
    function = chain.deploy(SLOW)
    queue(chain, function, 3)
    # When Celery delivers the first
    message, tag = delivered_by_celery(chain.redis)
    taken = Drain(chain.redis, chain.invoker, QUEUES).run(message, tag)
    # Then the other two stay queued for any worker's free slot
    assert taken == 0 and queued(chain.redis) == 2
    assert chain.redis.hlen(UNACKED) == 0


def test_a_crash_in_the_middle_runs_again_only_the_unfinished_event(chain: Chain) -> None:
    # Given 20 queued events, and a worker that dies before the handler of event 6
    function = chain.deploy()
    ids = queue(chain, function, 20)
    message, tag = delivered_by_celery(chain.redis)
    chain.invoker.middleware.append(CrashAt(6))
    # When the drain runs until the crash
    with pytest.raises(Crash):
        Drain(chain.redis, chain.invoker, QUEUES).run(message, tag)
    # Then events 0-5 ran and were acknowledged; 6 is the only one unacknowledged; 7-19 queued
    assert sorted(recorded(chain.redis)) == sorted(ids[:6])
    unacked = [json.loads(value)[0] for value in chain.redis.hvals(UNACKED)]  # type: ignore[union-attr]
    assert [envelope["headers"]["id"] for envelope in unacked] == [f"{ids[6]}:1"]
    assert queued(chain.redis) == 13
    # And once no live worker holds it, it is given back, and everything runs exactly once
    chain.invoker.middleware.pop()
    assert Redelivery(chain.redis).give_back(now=time.time() + GRACE_SECONDS + 1) == 1
    message, tag = delivered_by_celery(chain.redis)
    assert json.loads(message["payload"])["n"] == 6  # it went back to the head of its queue
    assert Drain(chain.redis, chain.invoker, QUEUES).run(message, tag) == 13
    ledger = Ledger(chain.redis).report()[function.name]
    assert (ledger["succeeded"], ledger["duplicates"], ledger["in_flight"]) == (20, 0, 0)
    assert sorted(recorded(chain.redis)) == sorted(ids)


FOREIGN = json.dumps({"headers": {"task": "someone.else"},
                      "properties": {"delivery_tag": "x", "delivery_info": {}}}).encode()


@pytest.mark.parametrize("stranger", [b"not json", FOREIGN], ids=["unreadable", "foreign"])
def test_a_message_that_is_not_an_invocation_is_left_for_celery(chain: Chain,
                                                                 stranger: bytes) -> None:
    # Given an event, and behind it in the queue something that is not a ripple invocation
    function = chain.deploy()
    (request_id,) = queue(chain, function, 1)
    message, tag = delivered_by_celery(chain.redis)
    chain.redis.lpush(keys.QUEUE_ASYNC, stranger)
    # When the drain runs the event and looks for the next
    taken = Drain(chain.redis, chain.invoker, QUEUES).run(message, tag)
    # Then it took nothing: the stranger stays queued, and the event was settled once
    assert taken == 0
    assert chain.redis.lrange(keys.QUEUE_ASYNC, 0, -1) == [stranger]
    assert chain.redis.hlen(UNACKED) == 0
    assert recorded(chain.redis) == [request_id]
