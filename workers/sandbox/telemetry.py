"""OpenTelemetry inside an execution environment.

Each boto3 call the handler makes becomes a CLIENT span (opentelemetry-instrumentation-botocore)
whose parent is the invocation named in `_X_AMZN_TRACE_ID`, and its W3C `traceparent` goes out
with the request so the endpoint's SERVER span hangs under it. Spans leave in the background
(OTLP/HTTP to ripple's receiver unless the function's own `OTEL_*` variables say otherwise) and
the last ones are flushed when the worker closes the environment's lifeline. Telemetry never
fails the handler: exporter errors are counted, never logged into the function's output.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable, Mapping
from typing import Any

from opentelemetry import context, trace
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from wrapt import wrap_function_wrapper

from tracing.export.batches import QUEUE_SIZE
from tracing.hops import remote_parent
from tracing.propagation import from_xray
from tracing.setup import (
    EXPORT_TIMEOUT_MS,
    CountingExporter,
    XRayIdGenerator,
    sdk_disabled,
    span_exporter,
)

# Spans leave this often; the last ones are flushed when the environment is closed.
EXPORT_DELAY_MS = 200
_W3C = TraceContextTextMapPropagator()


def enabled(environ: Mapping[str, str]) -> bool:
    return not sdk_disabled(environ)


def resource(environ: Mapping[str, str]) -> Resource:
    """service.name is the function (or OTEL_SERVICE_NAME), plus Lambda's `faas.*` attributes."""
    name = environ.get("AWS_LAMBDA_FUNCTION_NAME", "function")
    return Resource.create({
        "service.name": environ.get("OTEL_SERVICE_NAME") or name,
        "faas.name": name,
        "faas.version": environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        "faas.instance": environ.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
        "faas.max_memory": int(environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")) * 1048576,
        "cloud.provider": "aws", "cloud.platform": "aws_lambda",
        "cloud.region": environ.get("AWS_REGION", ""),
    })


def configure(environ: Mapping[str, str]) -> TracerProvider:
    """Install the environment's tracer provider and instrument botocore."""
    for name in ("opentelemetry", "ripple.tracing"):  # never into the function's own logs
        quiet = logging.getLogger(name)
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
    if "OTEL_PROPAGATORS" in environ:  # read once at import, in the template
        import importlib

        import opentelemetry.propagate

        importlib.reload(opentelemetry.propagate)
    provider = TracerProvider(resource=resource(environ), id_generator=XRayIdGenerator())
    exporter = CountingExporter(span_exporter(environ.get("AWS_ENDPOINT_URL", ""), environ))
    provider.add_span_processor(BatchSpanProcessor(
        exporter, max_queue_size=QUEUE_SIZE, schedule_delay_millis=EXPORT_DELAY_MS,
        max_export_batch_size=2_048, export_timeout_millis=EXPORT_TIMEOUT_MS))
    trace.set_tracer_provider(provider)
    # The instrumentor's constructor has no annotations upstream (opentelemetry-instrumentation).
    instrumentor = BotocoreInstrumentor()  # type: ignore[no-untyped-call]
    instrumentor.instrument(tracer_provider=provider, request_hook=_describe_request,
                            skip_dep_check=True)
    # The instrumentation only injects X-Ray's header, and not even that when botocore already
    # set it from _X_AMZN_TRACE_ID: the W3C header is what names this CLIENT span as parent.
    wrap_function_wrapper("botocore.endpoint", "Endpoint.prepare_request", _inject_traceparent)
    return provider


def _describe_request(span: Any, service: str, operation: str,
                      params: Mapping[str, Any] | None) -> None:
    if service == "s3" and params and isinstance(params.get("Bucket"), str):
        span.set_attribute("aws.s3.bucket", params["Bucket"])
        if isinstance(params.get("Key"), str):
            span.set_attribute("aws.s3.key", params["Key"])


def _inject_traceparent(wrapped: Callable[..., Any], instance: Any, args: tuple[Any, ...],
                        kwargs: dict[str, Any]) -> Any:
    try:
        headers = args[0].headers
        carrier: dict[str, str] = {}
        _W3C.inject(carrier)
        for key, value in carrier.items():
            if key in headers:
                del headers[key]
            headers[key] = value
    except Exception:  # telemetry never fails the call
        pass
    return wrapped(*args, **kwargs)


def around_invocations(run_one: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap awslambdaric's per-invocation function: the invocation's trace context (which
    awslambdaric has just put in `_X_AMZN_TRACE_ID`) is current while the handler runs."""

    def traced(*args: Any, **kwargs: Any) -> Any:
        token = None
        try:
            parent = from_xray(os.environ.get("_X_AMZN_TRACE_ID", ""))
            if parent is not None:
                token = context.attach(remote_parent(parent))
        except Exception:
            token = None
        try:
            return run_one(*args, **kwargs)
        finally:
            if token is not None:
                context.detach(token)

    return traced


def exit_when_closed(lifeline: int, provider: TracerProvider | None) -> None:
    """When the worker closes the lifeline (a clean stop, or the worker is gone), export the
    spans still queued and exit with the whole process group."""

    def watch() -> None:
        try:
            while os.read(lifeline, 64):
                pass
        except OSError:
            pass
        try:
            if provider is not None:
                provider.shutdown()
        finally:
            # Whatever the handler left running goes too, even when no worker is left to kill
            # the group: this process leads it, so the signal ends this process as well.
            try:
                os.killpg(os.getpgrp(), signal.SIGKILL)
            finally:
                os._exit(0)

    threading.Thread(target=watch, name="ripple-lifeline", daemon=True).start()
