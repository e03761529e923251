"""The delivery ledger on a real Redis: accepted, settled, duplicates, and a lost event found
and queued again."""

from __future__ import annotations

from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.ledger import Ledger
from orchestrator.invocations.message import InvocationRequest, InvocationType

FUNCTION = FunctionConfig(name="f", handler="app.handler", code_sha256="x")


def event(number: int) -> InvocationRequest:
    return InvocationRequest(function=FUNCTION, payload=f'{{"n": {number}}}'.encode(),
                             invocation_type=InvocationType.ASYNC)


def age(redis: Redis, request_id: str, seconds: float) -> None:
    """Make an in-flight entry look `seconds` older, as if it had been waiting that long."""
    since, message = redis.hget(keys.in_flight("f"), request_id).split(b"|", 1)  # type: ignore[union-attr]
    redis.hset(keys.in_flight("f"), request_id, str(float(since) - seconds).encode() + b"|"
               + message)


def test_accepted_events_settle_once_and_duplicates_are_counted(redis: Redis) -> None:
    # Given three accepted async events
    dispatcher, ledger = Dispatcher(redis), Ledger(redis)
    requests = [event(number) for number in range(3)]
    for request in requests:
        dispatcher.send(request)
    # When one succeeds twice (a redelivery), one fails to its destination, one is in flight
    ledger.settle(redis, "f", requests[0].request_id, "succeeded")
    ledger.settle(redis, "f", requests[0].request_id, "succeeded")
    ledger.settle(redis, "f", requests[1].request_id, "failed")
    # Then the ledger reconciles, with the duplicate counted apart
    entry = ledger.report()["f"]
    assert (entry["accepted"], entry["succeeded"], entry["failed"], entry["in_flight"],
            entry["duplicates"]) == (3, 1, 1, 1, 1)
    assert entry["reconciles"] and entry["lost"] == []


def test_a_lost_event_is_named_and_queued_again(redis: Redis) -> None:
    # Given an accepted event whose message a worker popped and then lost (it died before
    # kombu recorded the message as unacknowledged)
    dispatcher, ledger = Dispatcher(redis), Ledger(redis)
    request = event(7)
    dispatcher.send(request)
    message = redis.rpop(keys.QUEUE_ASYNC)
    assert message is not None
    age(redis, request.request_id, 60)
    # When the ledger is read, then the event is named as lost
    assert ledger.report()["f"]["lost"] == [request.request_id]
    # And when a worker's housekeeping recovers, the same message is queued again
    assert ledger.recover() == 1
    assert redis.lrange(keys.QUEUE_ASYNC, 0, -1) == [message]
    assert ledger.report()["f"]["lost"] == []


def test_an_event_that_is_queued_or_delayed_is_not_recovered(redis: Redis) -> None:
    # Given two old in-flight events: one still queued, one taken and waiting for its retry
    dispatcher, ledger = Dispatcher(redis), Ledger(redis)
    queued, retried = event(1), event(2)
    dispatcher.send(queued)
    dispatcher.send(retried)
    redis.lpop(keys.QUEUE_ASYNC)  # the newest message, `retried`'s, is taken by a worker…
    dispatcher.send_later(retried, 3600)  # …which failed it and scheduled its retry
    for request in (queued, retried):
        age(redis, request.request_id, 60)
    # When the ledger recovers, then neither is queued again, and neither is lost
    assert ledger.recover() == 0
    assert redis.llen(keys.QUEUE_ASYNC) == 1
    assert ledger.report()["f"]["lost"] == []
