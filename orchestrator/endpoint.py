"""The endpoint: AWS-compatible APIs, the control API and health, on one FastAPI app."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from starlette.types import ASGIApp

from orchestrator.api import control, lambda_api
from orchestrator.api.auth import TokenGuard
from orchestrator.api.aws_errors import aws_error_handler
from orchestrator.concurrency import ConcurrencyLimiter
from orchestrator.dispatch import Dispatcher
from orchestrator.errors import AwsError
from orchestrator.invoke import InvokeService
from orchestrator.registry import Registry
from orchestrator.services import ServiceRouter
from orchestrator.settings import Settings, get_settings
from tracing import api as trace_api
from tracing import receiver, xray_api
from tracing.forward import Forwarder
from tracing.middleware import TracingMiddleware
from tracing.setup import configure_tracing
from tracing.store import SpanStore


def service_apps(redis: Redis, settings: Settings) -> dict[str, ASGIApp]:
    """The simulated AWS services, by the name their SigV4 credential scope uses."""
    apps: dict[str, ASGIApp] = {}
    from orchestrator.services.s3.app import create_app as s3_app
    apps["s3"] = s3_app(redis, settings)
    from orchestrator.services.dynamodb.app import create_app as dynamodb_app
    apps["dynamodb"] = dynamodb_app(redis, settings)
    return apps


def create_app(settings: Settings | None = None) -> ASGIApp:
    """The whole endpoint: token guard, then the service a request's signature names, else
    ripple's own FastAPI app (Lambda's API, the control API, health)."""
    settings = settings or get_settings()
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set: start the endpoint through `ripple up`, "
                         "or point REDIS_URL at a Redis 6.2+ server")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SpanStore(settings.data_dir / "traces.db", settings.trace_retention_spans,
                      settings.trace_retention_hours)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(settings.redis_url or "")
        # Blocking reads (BLPOP for sync replies, XREAD for log follows) outlive the
        # 5 s default socket timeout of redis-py 8.
        async_redis = AsyncRedis.from_url(settings.redis_url or "", max_connections=2000,
                                          socket_timeout=None)
        dispatcher = Dispatcher(redis)
        app.state.settings = settings
        app.state.registry = Registry(redis)
        app.state.async_redis = async_redis
        app.state.invoke = InvokeService(
            redis, async_redis, dispatcher, ConcurrencyLimiter(redis, settings.account_concurrency)
        )
        app.state.span_store = store
        app.state.otlp_forwarder = Forwarder.from_settings(settings)
        follower = asyncio.create_task(app.state.invoke.functions.follow_changes(async_redis))
        yield
        follower.cancel()
        if app.state.otlp_forwarder is not None:
            app.state.otlp_forwarder.close()
        store.close()
        await async_redis.aclose()
        redis.close()

    # FastAPI's own telemetry would trace every request again, including each span export to
    # /v1/traces (a loop); ripple's TracingMiddleware traces AWS calls with AWS's semantics.
    app = FastAPI(title="ripple", lifespan=lifespan, docs_url="/_ripple/docs",
                  openapi_url="/_ripple/openapi.json", redoc_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False})
    app.add_exception_handler(AwsError, aws_error_handler)
    app.include_router(lambda_api.router)
    app.include_router(control.router)
    app.include_router(receiver.router)  # POST /v1/traces
    app.include_router(trace_api.router)  # /_ripple/api/servicemap, /traces, /traces/{id}

    @app.get("/_ripple/health")
    def health(request: Request) -> JSONResponse:
        registry: Registry = request.app.state.registry
        try:
            registry.redis.ping()
        except Exception as error:
            return JSONResponse({"status": "unavailable", "redis": str(error)}, status_code=503)
        workers = control.live_workers(registry)
        ready = bool(workers)
        return JSONResponse({"status": "ready" if ready else "starting", "redis": "ok",
                             "endpoint": "ok", "workers": len(workers)},
                            status_code=200 if ready else 503)

    services = service_apps(Redis.from_url(settings.redis_url), settings)
    services["xray"] = xray_api.create_app(lambda: store)
    return TokenGuard(TracingMiddleware(ServiceRouter(app, services)), token=settings.token)


def main() -> None:
    parser = argparse.ArgumentParser(description="ripple's endpoint")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    args = parser.parse_args()
    settings = get_settings().with_overrides(host=args.host, port=args.port)
    tracing = configure_tracing("ripple-endpoint", settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level="warning", access_log=False)
    if tracing is not None:
        tracing[0].shutdown()


if __name__ == "__main__":
    main()
