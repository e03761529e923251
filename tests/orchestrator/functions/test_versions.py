"""Published versions and aliases in Redis: immutable snapshots, numbers never reused, and an
alias's weights."""

from __future__ import annotations

from redis import Redis

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.versions import Alias, Versions


def function(sha: str = "a" * 64, timeout: int = 3) -> FunctionConfig:
    config = FunctionConfig(name="hello", handler="app.handler", code_sha256=sha,
                            timeout=timeout)
    config.revision = config.compute_revision()
    return config


def test_publish_freezes_a_snapshot_and_numbers_are_not_reused(redis: Redis) -> None:
    # Given versions 1 and 2 published from different code, then version 2 deleted
    versions = Versions(redis)
    first, made = versions.publish(function("a" * 64), "first")
    versions.publish(function("b" * 64))
    versions.delete("hello", "2")
    # When different code is published again
    third, _ = versions.publish(function("c" * 64))
    # Then version 1 kept its code and description, and the new version is 3
    assert made and first.lambda_version == "1" and first.description == "first"
    assert versions.get("hello", "1").code_sha256 == "a" * 64  # type: ignore[union-attr]
    assert third.lambda_version == "3"
    assert [each.lambda_version for each in versions.all("hello")] == ["1", "3"]


def test_publishing_the_same_configuration_twice_gives_the_same_version(redis: Redis) -> None:
    # Given a published version
    versions = Versions(redis)
    versions.publish(function())
    # When the unchanged function is published again, and then a changed timeout
    again, made = versions.publish(function())
    changed, _ = versions.publish(function(timeout=9))
    # Then the first is the existing version; the second is new
    assert (again.lambda_version, made) == ("1", False)
    assert changed.lambda_version == "2"


def test_alias_weights_pick_the_additional_version_by_share() -> None:
    # Given an alias on version 1 sending 25% to version 2
    alias = Alias(name="live", function_version="1", weights={"2": 0.25})
    # When draws below and above the share pick
    # Then the additional version takes the draws under its weight
    assert [alias.pick(draw) for draw in (0.0, 0.24, 0.25, 0.9)] == ["2", "2", "1", "1"]


def test_resolve_names_versions_and_aliases(redis: Redis) -> None:
    # Given version 1 published and an alias on it, and $LATEST changed since
    versions = Versions(redis)
    versions.publish(function("a" * 64))
    versions.put_alias("hello", Alias(name="live", function_version="1"))
    latest = function("b" * 64)
    # When qualifiers are resolved
    # Then each names its snapshot, and unknown ones nothing
    assert versions.resolve(latest, "$LATEST") is latest
    assert versions.resolve(latest, "1").code_sha256 == "a" * 64  # type: ignore[union-attr]
    assert versions.resolve(latest, "live").code_sha256 == "a" * 64  # type: ignore[union-attr]
    assert versions.resolve(latest, "7") is None
    assert versions.resolve(latest, "gone") is None
