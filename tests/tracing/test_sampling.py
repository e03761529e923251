"""Sampling with the standard OTEL_TRACES_SAMPLER: a trace the sampler drops at its root
records nothing anywhere (endpoint, worker, environment); a caller's sampled trace is
followed through every hop."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from tests.conftest import Ripple, start_ripple, stop_ripple, wait_for
from tracing.propagation import TraceContext, from_xray
from tracing.spans import SpanKind
from tracing.store.database import SpanStore

LISTER = """
import os
import boto3
s3 = boto3.client("s3")
def handler(event, context):
    s3.list_buckets()
    return os.environ["_X_AMZN_TRACE_ID"]
"""
SAMPLED_CALLER = "Root=1-{seconds:08x}-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1"


@pytest.fixture(scope="module")
def unsampled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ripple]:
    """A ripple whose processes sample no root trace (but follow a caller's decision)."""
    data = tmp_path_factory.mktemp("sampling")
    stack = start_ripple(data, OTEL_TRACES_SAMPLER="parentbased_traceidratio",
                         OTEL_TRACES_SAMPLER_ARG="0")
    try:
        code = data / "lister"
        code.mkdir()
        (code / "app.py").write_text(LISTER)
        (data / "spec.yaml").write_text(
            "functions:\n  lister: {handler: app.handler, code: ./lister}\n")
        assert stack.cli("deploy", str(data / "spec.yaml")).returncode == 0
        yield stack
    finally:
        stop_ripple(stack)


def invoke(stack: Ripple, header: str = "") -> str:
    """Invoke the lister synchronously; the `_X_AMZN_TRACE_ID` its handler saw."""
    answer = httpx.post(f"{stack.url}/2015-03-31/functions/lister/invocations", content=b"{}",
                        headers={"X-Amzn-Trace-Id": header} if header else {}, timeout=30)
    assert answer.status_code == 200, answer.text
    return str(json.loads(answer.content))


def test_a_trace_the_sampler_drops_records_nothing(unsampled: Ripple) -> None:
    # When the function is invoked with no trace of the caller's
    seen = from_xray(invoke(unsampled))
    # Then the handler's trace header says it is not sampled
    assert seen is not None and not seen.sampled
    # And once every process has exported (a caller's trace arrives meanwhile), nothing of
    # the dropped trace is stored
    followed = from_xray(invoke(unsampled, SAMPLED_CALLER.format(seconds=int(time.time()))))
    assert followed is not None
    store = SpanStore(unsampled.data_dir / "traces.db", 1_000_000, 24)
    try:
        wait_for(lambda: any(span.kind == SpanKind.CLIENT
                             for span in store.trace(followed.trace_id)), timeout=30)
        time.sleep(1.0)  # the environment and the worker export on their own schedules
        assert store.trace(seen.trace_id) == []
    finally:
        store.close()


def test_a_caller_that_leaves_the_decision_to_ripple_gets_the_samplers(
        unsampled: Ripple) -> None:
    # When a caller sends X-Ray's header with `Sampled=?`, as `ripple load` does
    caller = f"Root=1-{int(time.time()):08x}-0123456789abcdef0123beef;Sampled=?"
    seen = from_xray(invoke(unsampled, caller))
    # Then ripple's sampler decided, as for a root: the handler's header says not sampled
    assert seen is not None and seen.decided and not seen.sampled
    assert seen.trace_id == f"{caller[7:15]}0123456789abcdef0123beef"


def test_a_callers_sampled_trace_is_followed_through_every_hop(unsampled: Ripple) -> None:
    # When a caller sends its sampled trace
    seen = from_xray(invoke(unsampled, SAMPLED_CALLER.format(seconds=int(time.time()) - 5)))
    assert seen is not None and seen.sampled
    store = SpanStore(unsampled.data_dir / "traces.db", 1_000_000, 24)
    try:
        # Then the endpoint's, the worker's and the environment's spans are all in it
        def recorded() -> set[str] | None:
            services = {str(span.resource.get("service.name"))
                        for span in store.trace(seen.trace_id)}
            return services if {"ripple-endpoint", "ripple-worker", "lister"} <= services \
                else None

        assert wait_for(recorded, timeout=30)
    finally:
        store.close()


def invoke_with_traceparent(stack: Ripple, traceparent: str) -> None:
    """Invoke the lister through boto3, as an OpenTelemetry-instrumented caller would."""
    client = boto3.client("lambda", endpoint_url=stack.url, region_name="us-east-1",
                          aws_access_key_id="test", aws_secret_access_key="test")

    def add_traceparent(request: Any, **_: Any) -> None:
        request.headers["traceparent"] = traceparent

    client.meta.events.register("before-sign.lambda.Invoke", add_traceparent)
    try:
        answer = client.invoke(FunctionName="lister", Payload=b"{}")
        assert "FunctionError" not in answer, answer["Payload"].read()
        answer["Payload"].read()
    finally:
        client.close()


def test_a_traceparent_is_sampled_by_its_flags_low_bit(unsampled: Ripple) -> None:
    # Given three callers' traces whose W3C flags are 03 (what the OpenTelemetry SDK sends:
    # sampled and random), 02 (random only) and 00
    callers = {flags: TraceContext.new() for flags in ("03", "02", "00")}
    # When each invokes the function through boto3 with its traceparent
    for flags, caller in callers.items():
        invoke_with_traceparent(unsampled, f"00-{caller.trace_id}-{caller.parent_id}-{flags}")
    store = SpanStore(unsampled.data_dir / "traces.db", 1_000_000, 24)
    try:
        # Then the 03 call's Lambda trace is recorded through every hop
        def recorded() -> set[str] | None:
            services = {str(span.resource.get("service.name"))
                        for span in store.trace(callers["03"].trace_id)}
            return services if {"ripple-endpoint", "ripple-worker", "lister"} <= services \
                else None

        assert wait_for(recorded, timeout=30)
        # And once every process has exported, nothing of the 02 and 00 calls is stored
        time.sleep(1.0)  # the environment and the worker export on their own schedules
        assert store.trace(callers["02"].trace_id) == []
        assert store.trace(callers["00"].trace_id) == []
    finally:
        store.close()
