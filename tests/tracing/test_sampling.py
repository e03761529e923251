"""Sampling: ripple's default sampler (a reservoir, then a weighted rate) and the standard
OTEL_TRACES_SAMPLER. A trace the sampler drops at its root records nothing anywhere (endpoint,
worker, environment); a caller's sampled trace is followed through every hop; the map counts
every request from the traces the rate kept."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.sampling import Sampler, SamplingResult
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from orchestrator.settings import Settings
from tests.conftest import Ripple, start_ripple, stop_ripple, wait_for
from tracing.propagation import TraceContext, from_xray
from tracing.sampling import WEIGHT, ReservoirSampler, default_sampler, weight_of
from tracing.setup import described
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
        stack.deploy_one("lister", LISTER, data)
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


# The sampler itself ---------------------------------------------------------------------


def roots(sampler: Sampler, count: int) -> list[SamplingResult]:
    """`count` root decisions for random trace ids."""
    return [sampler.should_sample(None, random.getrandbits(128), "root") for _ in range(count)]


def test_the_reservoir_keeps_a_burst_then_its_rate_each_second() -> None:
    # Given a sampler with a reservoir of 10 a second (an idle process saves up a burst of 100)
    # and no rate beyond it
    now = [100.0]
    sampler = ReservoirSampler(10, 0.0, clock=lambda: now[0])
    # When 120 new traces start at once, then 20 more a second and a half later
    burst = roots(sampler, 120)
    now[0] += 1.5
    later = roots(sampler, 20)
    # Then the burst's first 100 are kept, unweighted, and the rest dropped
    assert [d.decision.is_sampled() for d in burst] == [True] * 100 + [False] * 20
    assert {weight_of(d) for d in burst[:100]} == {1}
    # And a second and a half later, 15 more are kept
    assert [d.decision.is_sampled() for d in later] == [True] * 15 + [False] * 5


def test_by_default_a_process_keeps_lambdas_one_a_second_after_a_burst_of_100() -> None:
    # Given the sampler a process builds from ripple's default settings
    reservoir, rate = (Settings.model_fields[name].default
                       for name in ("trace_reservoir", "trace_rate"))
    now = [100.0]
    sampler = ReservoirSampler(reservoir, 0.0, clock=lambda: now[0])
    # When 120 new traces start at once, then 5 more two and a half seconds later
    burst = roots(sampler, 120)
    now[0] += 2.5
    later = roots(sampler, 5)
    # Then the burst's first 100 are kept, and two more (Lambda's 1 a second), and the rate
    # is Lambda's 5%
    assert sum(d.decision.is_sampled() for d in burst) == 100
    assert [d.decision.is_sampled() for d in later] == [True] * 2 + [False] * 3
    assert rate == 0.05
    assert described(reservoir, rate, {}) == (
        "1 new/s in full (bursts of 100), then 5%")


def test_beyond_the_reservoir_the_rate_keeps_its_share_each_standing_for_its_inverse() -> None:
    # Given a full reservoir and a 5% rate
    sampler = ReservoirSampler(0, 0.05, clock=lambda: 100.0)
    # When 20,000 new traces start
    decisions = roots(sampler, 20_000)
    # Then about 5% are kept (4 standard deviations: 1,000 ± 123), each weighted 20, so the
    # weighted count estimates every trace
    kept = [d for d in decisions if d.decision.is_sampled()]
    assert 877 <= len(kept) <= 1_123
    assert {weight_of(d) for d in kept} == {20}
    assert all(d.attributes[WEIGHT] == 20 for d in kept)


def test_a_callers_decision_is_followed_whatever_the_reservoir_holds() -> None:
    # Given the default sampler, its reservoir empty and no rate
    sampler = default_sampler(0, 0.0)
    # When a span starts under a sampled remote parent
    parent = trace.set_span_in_context(NonRecordingSpan(SpanContext(
        1, 2, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))))
    decision = sampler.should_sample(parent, 1, "child")
    # Then it is sampled, as the caller decided
    assert decision.decision.is_sampled()


# The default sampler in a running ripple ------------------------------------------------


@pytest.fixture(scope="module")
def halved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ripple]:
    """A ripple whose sampler keeps no trace by its reservoir and half the rest by its rate."""
    data = tmp_path_factory.mktemp("halved")
    stack = start_ripple(data, OTEL_TRACES_SAMPLER="", RIPPLE_TRACE_RESERVOIR="0",
                         RIPPLE_TRACE_RATE="0.5")
    try:
        stack.deploy_one("header", "import os\ndef handler(event, context):\n"
                                   "    return os.environ['_X_AMZN_TRACE_ID']\n", data)
        yield stack
    finally:
        stop_ripple(stack)


def test_the_map_counts_every_invocation_from_the_traces_the_rate_kept(halved: Ripple) -> None:
    # Given ripple's sampler set to keep half the new traces, each standing for two
    begun = time.time() - 1
    # When the function is invoked 40 times with no trace of the caller's
    headers = [httpx.post(f"{halved.url}/2015-03-31/functions/header/invocations",
                          content=b"{}", timeout=30).json() for _ in range(40)]
    kept = [context for context in map(from_xray, headers) if context and context.sampled]
    # Then some traces were kept and some not (P(all or none) = 2^-39)
    assert 0 < len(kept) < 40
    # And once every process exported, the map counts each kept invocation twice
    xray = boto3.client("xray", endpoint_url=halved.url, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")

    def counted() -> int | None:
        graph = xray.get_service_graph(StartTime=begun, EndTime=time.time() + 1)
        found = [service["SummaryStatistics"]["TotalCount"] for service in graph["Services"]
                 if service["Name"] == "header" and service["Type"] == "AWS::Lambda::Function"]
        return found[0] if found and found[0] == 2 * len(kept) else None

    assert wait_for(counted, timeout=30) == 2 * len(kept)


def test_ripple_up_says_what_its_processes_record(halved: Ripple) -> None:
    # Given the ripple started with a reservoir of 0 and a rate of 50%
    # Then `ripple up` said so, on its traces line
    assert "traces        0 new/s in full (bursts of 0), then 50%" in halved.log.read_text()
    # And it names the standard variable when that decides, or that tracing is off
    assert described(10, 0.05, {"OTEL_TRACES_SAMPLER": "always_on"}) == (
        "sampled by OTEL_TRACES_SAMPLER=always_on")
    assert described(10, 0.05, {"OTEL_SDK_DISABLED": "TRUE"}) == "off (OTEL_SDK_DISABLED)"
    assert described(10, 0.05, {}) == "10 new/s in full (bursts of 100), then 5%"
