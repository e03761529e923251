"""Housekeeping's loop: delayed invocations go out when they are due, and an idle worker's loop
sleeps instead of asking Redis fifty times a second."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.process.redis_server import EmbeddedRedis
from orchestrator.settings import Settings
from tests.workers.conftest import async_event
from workers import housekeeping
from workers.environments.code_cache import CodeCache
from workers.environments.pool import EnvironmentPool
from workers.housekeeping import Housekeeping


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[Redis]:
    server = EmbeddedRedis(tmp_path / "redis")
    client = Redis.from_url(server.start())
    yield client
    client.close()
    server.stop()


def started(redis: Redis, tmp_path: Path) -> tuple[Housekeeping, Dispatcher]:
    settings = Settings(data_dir=tmp_path, redis_url="redis://unused")
    dispatcher = Dispatcher(redis)
    pool = EnvironmentPool(CodeCache(Registry(redis), tmp_path / "code"), settings)
    keeper = Housekeeping("keeper", redis, dispatcher, pool, 1)
    keeper.start()
    return keeper, dispatcher


def evals(redis: Redis) -> int:
    stats = redis.info("commandstats")
    return sum(int(stats.get(f"cmdstat_{name}", {}).get("calls", 0))
               for name in ("eval", "evalsha"))


def test_a_delayed_invocation_goes_out_when_due_not_at_the_next_tick(
        redis: Redis, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a worker's housekeeping whose longest sleep is far longer than the delay below
    monkeypatch.setattr(housekeeping, "TICK_SECONDS", 30.0)
    keeper, dispatcher = started(redis, tmp_path)
    try:
        time.sleep(0.2)  # asleep by now
        # When this worker delays a retry by half a second
        function = FunctionConfig(name="f", handler="app.handler", code_sha256="x")
        dispatcher.send_later(async_event(function, {}), 0.5)
        begun = time.monotonic()
        while not redis.llen(keys.QUEUE_ASYNC) and time.monotonic() - begun < 10:
            time.sleep(0.01)
        # Then it is queued once it is due, within a moment
        assert redis.llen(keys.QUEUE_ASYNC) == 1
        assert 0.4 < time.monotonic() - begun < 2.0
        assert redis.zcard(keys.DELAYED) == 0
    finally:
        keeper.stop()
        keeper.join(5)


def test_an_idle_worker_asks_redis_a_few_times_a_second(redis: Redis, tmp_path: Path) -> None:
    # Given a worker's housekeeping with nothing delayed
    keeper, _ = started(redis, tmp_path)
    try:
        time.sleep(0.5)
        # When it runs idle for two seconds
        before = evals(redis)
        time.sleep(2.0)
        # Then it looked for due invocations about four times a second, not fifty
        found = evals(redis) - before
        assert found <= 12
    finally:
        keeper.stop()
        keeper.join(5)


def test_what_was_handed_to_a_dead_workers_thread_goes_back_to_the_shared_queue(
        redis: Redis, tmp_path: Path) -> None:
    # Given a worker that stopped beating with a sync event handed to one of its threads
    redis.sadd(keys.WORKER_QUEUES, "gone")
    redis.hset(keys.WORKERS, "gone", time.time() - 60)
    redis.lpush(keys.handoff_queue(keys.handoff_token("gone", 2)), b"message")
    # When another worker's housekeeping runs
    keeper, _ = started(redis, tmp_path)
    try:
        deadline = time.monotonic() + 10
        while not redis.llen(keys.QUEUE_SYNC) and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        keeper.stop()
        keeper.join(5)
    # Then the event waits on the shared sync queue, for any worker
    assert redis.lrange(keys.QUEUE_SYNC, 0, -1) == [b"message"]
    assert redis.llen(keys.handoff_queue(keys.handoff_token("gone", 2))) == 0
