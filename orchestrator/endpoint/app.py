"""The endpoint: AWS-compatible APIs, the control API and health, on one FastAPI app."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from functools import partial

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from opentelemetry import trace
from redis import Redis
from redis.asyncio import Redis as AsyncRedis
from starlette.types import ASGIApp

from orchestrator.endpoint import (
    chaos_api,
    control,
    cost_api,
    lambda_api,
    ledger_api,
    scaling_api,
    viewer_api,
    why_api,
    xray_api,
)
from orchestrator.endpoint import traces_api as trace_api
from orchestrator.endpoint.apigateway import app as stage_app
from orchestrator.endpoint.apigateway.server import StageStatus, bind_stage, client_host
from orchestrator.endpoint.auth import TokenGuard, allows
from orchestrator.endpoint.aws_errors import aws_error_handler
from orchestrator.endpoint.aws_spans import TracingMiddleware, dynamodb_key_names
from orchestrator.endpoint.chaos_api import OtlpOutage
from orchestrator.endpoint.routing import ServiceRouter
from orchestrator.endpoint.unavailable import RedisUnavailable
from orchestrator.errors import AwsError
from orchestrator.functions.registry import Registry
from orchestrator.invocations.concurrency import ConcurrencyLimiter
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.invoke import InvokeService
from orchestrator.settings import Settings, get_settings
from tracing import receiver
from tracing.export.forward import Forwarder
from tracing.export.in_process import StoreExporter
from tracing.otlp.grpc_server import OtlpGrpcServer
from tracing.recorder import record_into
from tracing.setup import configure_tracing, exporter_configured
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex
from tracing.store.rollup import MapRollup
from tracing.store.sink import SpanSink
from tracing.store.writer import SpanWriter
from tracing.xray.daemon import XRayDaemon
from tracing.xray.ingest import SegmentIngest


def service_apps(redis: Redis, settings: Settings) -> dict[str, ASGIApp]:
    """The simulated AWS services, by the name their SigV4 credential scope uses."""
    apps: dict[str, ASGIApp] = {}
    from orchestrator.services.s3.app import create_app as s3_app
    apps["s3"] = s3_app(redis, settings)
    from orchestrator.services.dynamodb.app import create_app as dynamodb_app
    apps["dynamodb"] = dynamodb_app(redis, settings)
    from orchestrator.services.iam.app import create_iam_app, create_sts_app
    apps["iam"] = create_iam_app(redis)  # roles recorded, never enforced
    apps["sts"] = create_sts_app()
    return apps


def open_store(settings: Settings) -> SpanStore:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = SpanStore(settings.data_dir / "traces.db", settings.trace_retention_spans,
                      settings.trace_retention_hours)
    store.add_listener(MapRollup(store))  # the service map, counted as spans arrive
    store.add_listener(LineageIndex(store))  # what caused what, for `why`
    return store


def create_app(settings: Settings | None = None, stage: StageStatus | None = None,
               store: SpanStore | None = None, forwarder: Forwarder | None = None,
               writer: SpanWriter | None = None) -> ASGIApp:
    """The whole endpoint: token guard, then the service a request's signature names, else
    ripple's own FastAPI app (Lambda's API, the control API, health). `stage` says where the
    API Gateway stage serving alongside it listens (for the status API); the span store and
    the OTLP forwarder are made here unless given. Spans received go to `writer` (the store's
    writer process, closed with the app) when given, else straight into the store."""
    settings = settings or get_settings()
    if not settings.redis_url:
        raise SystemExit("REDIS_URL is not set: start the endpoint through `ripple up`, "
                         "or point REDIS_URL at a Redis 6.2+ server")
    store = store or open_store(settings)
    forwarder = forwarder or Forwarder.to(settings.otlp_forward)
    sink: SpanSink = writer or store
    segments = SegmentIngest(sink)  # the X-Ray daemon's datagrams and PutTraceSegments

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = Redis.from_url(settings.redis_url or "")
        # Blocking reads (BLPOP for sync replies, XREAD for log follows) outlive the
        # 5 s default socket timeout of redis-py 8.
        async_redis = AsyncRedis.from_url(settings.redis_url or "", max_connections=2000,
                                          socket_timeout=None)
        dispatcher = Dispatcher(redis)
        app.state.settings = settings
        app.state.apigateway = stage or StageStatus(None, "not served alongside this endpoint")
        app.state.registry = Registry(redis)
        app.state.async_redis = async_redis
        app.state.invoke = InvokeService(
            redis, async_redis, dispatcher, ConcurrencyLimiter(redis, settings.account_concurrency)
        )
        app.state.span_store = store
        app.state.span_sink = sink
        app.state.otlp_forwarder = forwarder
        app.state.xray_segments = segments
        follower = asyncio.create_task(app.state.invoke.functions.follow_changes(async_redis))
        daemon = await XRayDaemon.start(segments, settings.host, settings.xray_daemon_port) if (
            settings.xray_daemon_port) else None
        grpc_receiver = await OtlpGrpcServer.start(
            receiver.protobuf_receiver(app), settings.host, settings.otlp_grpc_port,
            partial(allows, token=settings.token), chaos_api.otlp_dropped,
        ) if settings.otlp_grpc_port else None
        yield
        if grpc_receiver is not None:  # before the store closes: exports in flight finish
            await grpc_receiver.stop()
        follower.cancel()
        if daemon is not None:
            await daemon.stop()
        segments.flush()  # X-Ray parts still in progress, stored as they are
        flush = getattr(trace.get_tracer_provider(), "force_flush", None)
        if flush is not None:  # the endpoint's own last spans, into the store before it closes
            flush()
        if app.state.otlp_forwarder is not None:
            app.state.otlp_forwarder.close()
        if writer is not None:
            writer.close()
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
    app.include_router(ledger_api.router)
    app.include_router(scaling_api.router)  # /_ripple/api/scaling
    app.include_router(cost_api.router)  # /_ripple/api/cost
    app.include_router(chaos_api.router)
    app.include_router(receiver.router)  # POST /v1/traces
    app.include_router(trace_api.router)  # /_ripple/api/servicemap, /traces, /traces/{id}
    app.include_router(why_api.router)  # /_ripple/api/why, /compare, /invocations/{id}
    app.include_router(viewer_api.router)  # /_ripple/api/traces/{id}/spans

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

    services_redis = Redis.from_url(settings.redis_url)
    services = service_apps(services_redis, settings)
    services["xray"] = xray_api.create_app(lambda: store, segments, sink.settle)
    key_names = dynamodb_key_names(services_redis, settings.region)  # for `ripple why ddb://`
    # The viewer's page and scripts (no data) come before the guard; its API calls do not.
    routed = ServiceRouter(lambda_api.InvokeFastPath(app), services)
    return viewer_api.ViewerPages(TokenGuard(OtlpOutage(RedisUnavailable(TracingMiddleware(
        routed, key_names))), token=settings.token))


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to `serve_together`."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_together(servers: list[tuple[uvicorn.Server, list[socket.socket] | None]]
                         ) -> None:
    """Run servers in one event loop until SIGINT or SIGTERM stops them all."""
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in servers:
            server.should_exit = True

    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop)
    await asyncio.gather(*(server.serve(sockets) for server, sockets in servers))


def main() -> None:
    parser = argparse.ArgumentParser(description="ripple's endpoint and API Gateway stage")
    parser.add_argument("--host")
    parser.add_argument("--port", type=int)
    parser.add_argument("--api-port", type=int, help="the stage's port; 0 turns it off")
    args = parser.parse_args()
    settings = get_settings().with_overrides(host=args.host, port=args.port,
                                             api_port=args.api_port)
    store, forwarder = open_store(settings), Forwarder.to(settings.otlp_forward)
    writer = SpanWriter(store.path, store.max_spans, store.max_age_hours)
    # The endpoint's own spans go straight to the store's writer, unless OTEL_* send them
    # elsewhere.
    own = None if exporter_configured() else StoreExporter(writer, forwarder)
    tracing = configure_tracing("ripple-endpoint", settings.endpoint, own,
                                (settings.trace_reservoir, settings.trace_rate))
    if tracing is not None and own is not None and forwarder is None:
        record_into(writer, tracing[0])  # no SDK processors or conversion on the way
    stage_socket, stage = bind_stage(settings)
    app = create_app(settings, stage, store, forwarder, writer)
    endpoint = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning",
                              access_log=False)
    servers: list[tuple[uvicorn.Server, list[socket.socket] | None]] = [
        (_Server(endpoint), None)]
    if stage_socket is not None:
        app = stage_app.create_app(settings, client_host(settings.host), settings.api_port)
        servers.append((_Server(uvicorn.Config(app, log_level="warning", access_log=False)),
                        [stage_socket]))
    gc.freeze()  # what is built by now lives as long as the endpoint (see workers/tasks.py)
    with asyncio.Runner(loop_factory=endpoint.get_loop_factory()) as runner:
        runner.run(serve_together(servers))
    if tracing is not None:
        tracing[0].shutdown()


if __name__ == "__main__":
    main()
