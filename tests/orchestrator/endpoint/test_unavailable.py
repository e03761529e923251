"""While Redis is away, each service answers its own 503 (which AWS SDKs retry)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import redis
from starlette.types import Receive, Scope, Send

from orchestrator.endpoint.unavailable import RedisUnavailable


async def needs_redis(scope: Scope, receive: Receive, send: Send) -> None:
    raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def call(headers: dict[str, str]) -> httpx.Response:
    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=RedisUnavailable(needs_redis))
        async with httpx.AsyncClient(transport=transport, base_url="http://ripple") as client:
            return await client.post("/anything", headers=headers, content=b"{}")

    return asyncio.run(go())


SIGNED = "AWS4-HMAC-SHA256 Credential=test/20261128/us-east-1/{}/aws4_request, SignedHeaders=host"


@pytest.mark.parametrize(("headers", "check"), [
    ({"authorization": SIGNED.format("s3")},
     lambda answer: b"<Code>ServiceUnavailable</Code>" in answer.content),
    ({"x-amz-target": "DynamoDB_20120810.PutItem"},
     lambda answer: json.loads(answer.content)["__type"].endswith("ServiceUnavailableException")),
    ({"authorization": SIGNED.format("lambda")},
     lambda answer: answer.headers["x-amzn-errortype"] == "ServiceException"),
])
def test_a_redis_outage_is_the_services_own_503(headers: dict[str, str], check: object) -> None:
    # Given a request whose service needs Redis, and Redis refusing connections
    # When the request is answered
    answer = call(headers)
    # Then it is a 503 in that service's shape, not a plain-text 500
    assert answer.status_code == 503
    assert check(answer)  # type: ignore[operator]
