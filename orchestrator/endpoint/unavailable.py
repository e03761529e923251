"""While Redis is away (restarting from its AOF), every request that needs it gets the 503 its
service answers when it is unavailable, in that service's shape, instead of a plain-text 500.
AWS's SDKs retry a 503 by themselves, so a short Redis restart is invisible to most callers.
"""

from __future__ import annotations

import json
import logging
import time

import redis
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from orchestrator.endpoint.routing import service_of

log = logging.getLogger("ripple.endpoint")
UNAVAILABLE = (redis.ConnectionError, redis.TimeoutError, redis.BusyLoadingError)
MESSAGE = "Service is unable to handle request: ripple's Redis is restarting; retry shortly."


def answer(service: str | None) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Headers and body of a 503 as `service` words it."""
    if service == "s3":
        body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>ServiceUnavailable"
                f"</Code><Message>{MESSAGE}</Message></Error>").encode()
        return [(b"content-type", b"application/xml")], body
    if service == "dynamodb":
        body = json.dumps({"__type": "com.amazon.coral.availability#ServiceUnavailableException",
                           "message": MESSAGE}).encode()
        return [(b"content-type", b"application/x-amz-json-1.0")], body
    body = json.dumps({"Type": "Service", "message": MESSAGE}).encode()
    return [(b"content-type", b"application/json"),
            (b"x-amzn-errortype", b"ServiceException")], body


class RedisUnavailable:
    """Plain ASGI: turns a Redis connection failure into the service's 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._logged_at = 0.0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except UNAVAILABLE as error:
            if started:
                raise
            if time.monotonic() - self._logged_at > 10:
                self._logged_at = time.monotonic()
                log.warning("Redis unavailable (%s): answering 503", error)
            headers, body = answer(service_of(dict(scope["headers"]),
                                              scope.get("query_string", b"")))
            await send({"type": "http.response.start", "status": 503,
                        "headers": [*headers, (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
