"""The dispatcher's sends from an event loop on a real Redis: sends made at the same time leave
together, each is queued and accepted once, and a caller that goes away strands no one."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from redis.asyncio import Redis as AsyncRedis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.ledger import Ledger
from orchestrator.invocations.message import InvocationRequest, InvocationType
from orchestrator.process.redis_server import EmbeddedRedis

FUNCTION = FunctionConfig(name="f", handler="app.handler", code_sha256="x")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[EmbeddedRedis]:
    server = EmbeddedRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def event(number: int) -> InvocationRequest:
    return InvocationRequest(function=FUNCTION, payload=f'{{"n": {number}}}'.encode(),
                             invocation_type=InvocationType.ASYNC)


class CountingRedis(AsyncRedis):
    """An asyncio client that counts the pipelines it sends."""

    pipelines = 0

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        CountingRedis.pipelines += 1
        return super().pipeline(*args, **kwargs)


def queued_numbers(redis: Redis) -> list[int]:
    numbers = []
    for raw in redis.lrange(keys.QUEUE_ASYNC, 0, -1):  # type: ignore[union-attr]
        body = json.loads(raw)["body"]
        args, _, _ = json.loads(base64.b64decode(body))
        numbers.append(json.loads(args[0]["payload"])["n"])
    return sorted(numbers)


def test_sends_at_the_same_time_leave_in_few_round_trips_each_queued_once(
        server: EmbeddedRedis) -> None:
    # Given a dispatcher and an asyncio client on the same Redis
    redis = Redis.from_url(server.url)
    dispatcher = Dispatcher(redis)

    async def send_all() -> None:
        client = CountingRedis.from_url(server.url)
        try:
            # When 300 coroutines send an event each at the same time
            await asyncio.gather(*(dispatcher.send_async(event(n), client) for n in range(300)))
        finally:
            await client.aclose()

    CountingRedis.pipelines = 0
    asyncio.run(send_all())
    # Then each event is queued and accepted once
    assert queued_numbers(redis) == list(range(300))
    report = Ledger(redis).report()["f"]
    assert (report["accepted"], report["in_flight"]) == (300, 300)
    # And they left in a handful of pipelines, not one round trip each
    assert CountingRedis.pipelines <= 10, CountingRedis.pipelines
    redis.close()


def test_a_caller_that_goes_away_strands_no_other_send(server: EmbeddedRedis) -> None:
    # Given sends waiting behind one pipeline on its way
    redis = Redis.from_url(server.url)
    dispatcher = Dispatcher(redis)

    async def scenario() -> None:
        client = AsyncRedis.from_url(server.url)
        try:
            first = asyncio.create_task(dispatcher.send_async(event(0), client))
            others = [asyncio.create_task(dispatcher.send_async(event(n), client))
                      for n in range(1, 20)]
            await asyncio.sleep(0)
            # When the first caller is cancelled (its client hung up)
            first.cancel()
            # Then every other send still completes
            await asyncio.wait_for(asyncio.gather(*others), timeout=5)
        finally:
            await client.aclose()

    asyncio.run(scenario())
    assert set(range(1, 20)) <= set(queued_numbers(redis))
    redis.close()


def test_a_send_while_redis_is_away_fails_and_the_next_one_works(
        server: EmbeddedRedis) -> None:
    # Given Redis stopped under a dispatcher's asyncio client
    redis = Redis.from_url(server.url)
    dispatcher = Dispatcher(redis)
    url = server.url

    async def send(number: int) -> bool:
        client = AsyncRedis.from_url(url, socket_connect_timeout=1)
        try:
            return await dispatcher.send_async(event(number), client)
        finally:
            await client.aclose()

    server.stop()
    # When an event is sent, then the caller hears of it
    with pytest.raises(Exception, match="(?i)connect"):
        asyncio.run(send(1))
    # And once Redis is back, a send goes through
    url = server.start()
    assert asyncio.run(send(2))
    after = Redis.from_url(url)
    assert queued_numbers(after) == [2]
    after.close()
    redis.close()


def sync_event(number: int) -> InvocationRequest:
    return event(number).model_copy(update={"invocation_type": InvocationType.SYNC})


def test_a_sync_event_is_handed_to_a_waiting_thread_of_a_live_worker_only(
        server: EmbeddedRedis) -> None:
    # Given a thread of a live worker waiting for this function version's next event, and
    # behind it the offer of a worker that stopped beating
    redis = Redis.from_url(server.url)
    redis.hset(keys.WORKERS, "live", 1.0)
    offers = keys.handoffs(FUNCTION.name, FUNCTION.environment_key)
    redis.rpush(offers, keys.handoff_token("gone", 0), keys.handoff_token("live", 3))
    dispatcher = Dispatcher(redis)
    # When an async event and then a sync event are sent
    dispatcher.send(event(1))
    dispatcher.send(sync_event(2))
    # Then the async one was queued as ever; the sync one skipped the dead worker's offer and
    # was handed to the live thread
    assert queued_numbers(redis) == [1]
    assert redis.llen(keys.handoff_queue(keys.handoff_token("gone", 0))) == 0
    assert redis.llen(keys.handoff_queue(keys.handoff_token("live", 3))) == 1
    assert redis.llen(offers) == 0 and redis.llen(keys.QUEUE_SYNC) == 0
    redis.close()
