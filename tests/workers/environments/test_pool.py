"""The environment pool: warm reuse per version, idle reaping, a size cap."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis import Redis

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.packaging import code_sha256
from orchestrator.functions.registry import Registry
from orchestrator.process.redis_server import EmbeddedRedis
from orchestrator.settings import Settings
from tests.workers.environments.conftest import OtlpSink
from workers.environments.code_cache import CodeCache
from workers.environments.pool import EnvironmentPool


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    server = EmbeddedRedis(tmp_path / "redis")
    yield Registry(Redis.from_url(server.start()))
    server.stop()


def deployed(registry: Registry, source: str, **config: object) -> FunctionConfig:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", source)
    blob = buffer.getvalue()
    registry.put_code(code_sha256(blob), blob)
    return FunctionConfig(name="f", handler="app.handler", code_sha256=code_sha256(blob),
                          **config)  # type: ignore[arg-type]


def make_pool(registry: Registry, tmp_path: Path, **settings: object) -> EnvironmentPool:
    return EnvironmentPool(CodeCache(registry, tmp_path / "code"), Settings(**settings))


def test_warm_reuse_per_version(registry: Registry, tmp_path: Path) -> None:
    pool = make_pool(registry, tmp_path)
    v1 = deployed(registry, "def handler(e, c):\n    return 1\n")
    env, cold = pool.checkout(v1)
    pool.checkin(env)
    again, cold_again = pool.checkout(v1)
    assert cold and not cold_again and again is env
    pool.checkin(again)
    # A new version never reuses the old environment, which is stopped
    v2 = deployed(registry, "def handler(e, c):\n    return 2\n")
    newer, cold_newer = pool.checkout(v2)
    assert cold_newer and newer is not env and not env.alive
    pool.shutdown()


def test_idle_environments_are_reaped(registry: Registry, tmp_path: Path) -> None:
    # Given environments idle for longer than the idle timeout
    pool = make_pool(registry, tmp_path, env_idle_seconds=0.0)
    function = deployed(registry, "def handler(e, c):\n    return 1\n")
    env, _ = pool.checkout(function)
    env.invoke("r1", b"{}")
    pool.checkin(env)
    # When the pool reaps
    reaped = pool.reap()
    # Then they are stopped
    assert reaped == 1 and not env.alive and pool.size() == 0


def test_the_pool_keeps_to_its_size_cap(registry: Registry, tmp_path: Path) -> None:
    pool = make_pool(registry, tmp_path, max_environments=1)
    first = deployed(registry, "def handler(e, c):\n    return 1\n")
    env, _ = pool.checkout(first)
    pool.checkin(env)
    second = deployed(registry, "def handler(e, c):\n    return 2\n", memory=256)
    other, _ = pool.checkout(second)
    assert not env.alive and pool.size() == 1
    pool.checkin(other)
    pool.shutdown()


def test_an_environment_reaped_right_after_its_invocation_still_exports_its_spans(
        registry: Registry, tmp_path: Path, otlp_sink: OtlpSink) -> None:
    # Given an environment whose handler made a boto3 call, with its span not yet exported
    pool = make_pool(registry, tmp_path, env_idle_seconds=0.0, endpoint=otlp_sink.url)
    function = deployed(registry, "import boto3\ndef handler(e, c):\n"
                                  "    boto3.client('s3').list_buckets()\n")
    env, _ = pool.checkout(function)
    assert env.invoke("r1", b"{}", "Root=1-5759e988-bd862e3fe1be46a994272793;"
                                   "Parent=53995c3f42cd8ad8;Sampled=1").ok
    pool.checkin(env)
    # When the pool reaps it at once
    pool.reap()
    # Then the environment flushed its CLIENT span before it went
    assert ("f", "S3.ListBuckets") in otlp_sink.spans
