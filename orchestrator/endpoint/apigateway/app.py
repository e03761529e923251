"""The stage's HTTP app: every method on every path goes to the `Stage`.

Like the endpoint, a client that is not on loopback must present ripple's token.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import quote

from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from orchestrator.endpoint.apigateway.routes import LiveRoutes
from orchestrator.endpoint.apigateway.stage import BODY_LIMIT, Stage
from orchestrator.endpoint.auth import TokenGuard
from orchestrator.events.apigateway import HttpRequest
from orchestrator.invocations.concurrency import ConcurrencyLimiter
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.invoke import InvokeService
from orchestrator.settings import Settings

METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def create_app(settings: Settings, host: str, port: int) -> ASGIApp:
    """The stage served at `host:port` (the address its spans and events name)."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        redis = Redis.from_url(settings.redis_url or "")
        # A sync reply is a BLPOP that outlives redis-py's default socket timeout.
        async_redis = AsyncRedis.from_url(settings.redis_url or "", max_connections=2000,
                                          socket_timeout=None)
        invoke = InvokeService(redis, async_redis, Dispatcher(redis),
                               ConcurrencyLimiter(redis, settings.account_concurrency))
        routes = LiveRoutes(invoke.registry)
        app.state.stage = Stage(routes, invoke, host, port, settings.region)
        followers = [asyncio.create_task(invoke.functions.follow_changes(async_redis)),
                     asyncio.create_task(routes.follow_changes(async_redis))]
        yield
        for follower in followers:
            follower.cancel()
        await async_redis.aclose()
        redis.close()

    app = Starlette(routes=[Route("/{path:path}", serve, methods=METHODS)], lifespan=lifespan)
    return TokenGuard(app, token=settings.token)


async def serve(request: Request) -> Response:
    stage: Stage = request.app.state.stage
    body, oversized = await _body(request, BODY_LIMIT)
    scope = request.scope
    raw_path = scope.get("raw_path")
    http_request = HttpRequest(
        method=request.method,
        path=raw_path.decode("latin-1") if raw_path else quote(scope["path"]),
        query=scope.get("query_string", b"").decode("latin-1"),
        headers=tuple((name.decode("latin-1"), value.decode("latin-1"))
                      for name, value in scope["headers"]),
        body=body,
        source_ip=request.client.host if request.client else "127.0.0.1",
        protocol=f"HTTP/{scope.get('http_version', '1.1')}",
    )
    answer = await stage.handle(http_request, oversized)
    response = Response(answer.body, status_code=answer.status)
    response.raw_headers += [(name.encode("latin-1", "replace"),
                              value.encode("latin-1", "replace"))
                             for name, value in answer.headers]
    return response


async def _body(request: Request, limit: int) -> tuple[bytes, bool]:
    """The body, unless it is over `limit` bytes: then (b"", True), read no further."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return b"", True
        chunks.append(chunk)
    return b"".join(chunks), False
