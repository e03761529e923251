"""The control API's edges: its status hands out no secret, and out-of-range parameters are the
caller's 4xx (they were Redis errors, 500s)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from orchestrator.endpoint.control import redacted
from tests.conftest import Deploy, Ripple


@pytest.mark.parametrize(("url", "shown"), [
    ("redis://:s3cret@127.0.0.1:6379/0", "redis://:****@127.0.0.1:6379/0"),
    ("redis://ripple:s3cret@127.0.0.1:6379", "redis://ripple:****@127.0.0.1:6379"),
    ("redis://s3cret@127.0.0.1:6379", "redis://****@127.0.0.1:6379"),
    ("redis://:p@ss@127.0.0.1:6379", "redis://:****@127.0.0.1:6379"),
    ("unix:///tmp/redis.sock?db=0&password=s3cret", "unix:///tmp/redis.sock?db=0&password=****"),
    ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/0"),
    (None, None),
])
def test_a_redis_url_is_shown_without_its_password(url: str | None, shown: str | None) -> None:
    assert redacted(url) == shown


def test_the_status_does_not_hand_out_the_redis_password(ripple: Ripple) -> None:
    # Given the stack's Redis password, which its processes get in REDIS_URL
    password = (ripple.data_dir / "redis" / "password").read_text().strip()
    # When the status is read (as any handler could)
    status = ripple.api("GET", "/_ripple/api/status")
    # Then it names Redis without the password
    assert password not in str(status)
    assert status["redis_url"].startswith("redis://:****@127.0.0.1:")


def get(ripple: Ripple, path: str, **params: Any) -> httpx.Response:
    return httpx.get(ripple.url + "/_ripple/api" + path, params=params, timeout=30)


def test_out_of_range_parameters_are_refused_naming_them(ripple: Ripple, deploy: Deploy) -> None:
    # Given a deployed function
    name = deploy("def handler(event, context):\n    return event\n")
    cases: list[tuple[str, dict[str, Any], int, str]] = [
        ("/invocations", {"limit": 0}, 422, "limit"),
        ("/invocations", {"limit": -1}, 422, "limit"),
        ("/invocations", {"limit": 10**20}, 422, "limit"),
        (f"/functions/{name}/logs", {"limit": 0}, 422, "limit"),
        (f"/functions/{name}/logs", {"after": "abc"}, 422, "after"),
        (f"/functions/{name}/logs", {"after": "1-2-3"}, 422, "after"),
        (f"/functions/{name}/logs", {"after": "0-0", "wait_ms": 10**17}, 422, "wait_ms"),
        (f"/functions/{name}/logs", {"after": "99999999999999999999-0"}, 400, "after"),
    ]
    for path, params, status, named in cases:
        # When each is asked for
        answer = get(ripple, path, **params)
        # Then the caller's error comes back, naming the parameter
        assert (path, params, answer.status_code) == (path, params, status)
        assert named in answer.text
    # And the bounds themselves are accepted
    assert get(ripple, f"/functions/{name}/logs", after="0-0", limit=10_000).status_code == 200
    assert get(ripple, "/invocations", limit=10_000).status_code == 200


def test_a_table_without_keys_is_refused_by_the_resources_route(ripple: Ripple) -> None:
    # When a table is declared without its keys (a KeyError, a 500, before)
    answer = httpx.put(ripple.url + "/_ripple/api/resources", timeout=30,
                       json={"buckets": [], "tables": {"orders": {}}})
    # Then the request is refused naming the missing field
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "tables", "orders", "keys"]
