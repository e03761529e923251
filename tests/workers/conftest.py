"""The worker's middleware chain in process, for the tests of the Invoker and the Drain: a real
Redis, a real environment pool and the real middleware, with no Celery and no endpoint."""

from __future__ import annotations

import base64
import io
import json
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.packaging import code_sha256
from orchestrator.functions.registry import Registry
from orchestrator.invocations.concurrency import ConcurrencyLimiter
from orchestrator.invocations.dead_letters import DeadLetters
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.message import InvocationRequest, InvocationType
from orchestrator.invocations.on_failure import OnFailure
from orchestrator.process.redis_server import EmbeddedRedis
from orchestrator.settings import Settings
from tracing.recorder import SpanRecorder
from workers.environments.code_cache import CodeCache
from workers.environments.pool import EnvironmentPool
from workers.invoker import Invoker
from workers.middleware import InvocationContext, Middleware
from workers.middleware.affinity import WarmAffinity
from workers.middleware.concurrency import ConcurrencyLimit
from workers.middleware.records import Records
from workers.middleware.retries import AsyncRetries
from workers.middleware.spans import Tracing

HANDLER = """
def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    print("handled", event.get("n"))
    return {"n": event.get("n"), "request_id": context.aws_request_id}
"""
WORKER_ID = "test-worker"


class RaiseBefore(Middleware):
    """A middleware whose before_invoke raises while `armed`."""

    def __init__(self) -> None:
        self.armed = True

    def before_invoke(self, ctx: InvocationContext) -> None:
        if self.armed:
            raise RuntimeError("a broken hook")


@dataclass
class Chain:
    redis: Redis
    registry: Registry
    dispatcher: Dispatcher
    limiter: ConcurrencyLimiter
    invoker: Invoker
    raising: RaiseBefore
    spans: InMemorySpanExporter
    server: EmbeddedRedis

    def deploy(self, code: str = HANDLER, **config: Any) -> FunctionConfig:
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("app.py", code)
        blob = buffer.getvalue()
        self.registry.put_code(code_sha256(blob), blob)
        function = FunctionConfig(name=config.pop("name", "f"), handler="app.handler",
                                  code_sha256=code_sha256(blob),
                                  environment={"OTEL_SDK_DISABLED": "true"}, **config)
        self.registry.put(function)
        return function

    def run_next(self, timeout: float = 5) -> InvocationContext:
        """Take the next queued invocation (any queue) and run it, as a worker would."""
        queues = [keys.QUEUE_SYNC, keys.QUEUE_ASYNC, keys.worker_queue(WORKER_ID)]
        popped = self.redis.brpop(queues, timeout=timeout)  # type: ignore[arg-type]
        assert popped is not None, "nothing was queued"
        envelope = json.loads(popped[1])  # type: ignore[index]
        args, _, _ = json.loads(base64.b64decode(envelope["body"]))
        return self.invoker.handle(args[0])

    def record(self, request_id: str) -> dict[str, Any]:
        for _, fields in self.redis.xrange(keys.INVOCATIONS):  # type: ignore[union-attr]
            record = json.loads(fields[b"record"])
            if record["request_id"] == request_id:
                return record  # type: ignore[no-any-return]
        raise AssertionError(f"no invocation record for {request_id}")


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[Chain]:
    server = EmbeddedRedis(tmp_path / "redis")
    redis = Redis.from_url(server.start())
    settings = Settings(data_dir=tmp_path, clock_speed=60.0, redis_url=server.url,
                        endpoint="http://127.0.0.1:9")
    registry = Registry(redis)
    dispatcher = Dispatcher(redis)
    limiter = ConcurrencyLimiter(redis, settings.account_concurrency)
    pool = EnvironmentPool(CodeCache(registry, tmp_path / "code"), settings)
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    raising = RaiseBefore()
    raising.armed = False
    invoker = Invoker(redis, pool, [
        Tracing(SpanRecorder(provider, "ripple.worker")),
        Records(settings),
        AsyncRetries(dispatcher, OnFailure(registry, dispatcher, DeadLetters(redis)), settings),
        ConcurrencyLimit(limiter),
        raising,
        WarmAffinity(WORKER_ID),
    ])
    redis.hset(keys.WORKERS, WORKER_ID, time.time())
    yield Chain(redis, registry, dispatcher, limiter, invoker, raising, exporter, server)
    pool.shutdown()
    redis.close()
    server.stop()


def async_event(function: FunctionConfig, payload: dict[str, Any]) -> InvocationRequest:
    return InvocationRequest(function=function, payload=json.dumps(payload),
                             invocation_type=InvocationType.ASYNC)
