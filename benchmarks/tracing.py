"""Issue 4's figures.

1. Throughput with tracing on vs off, in one run on one Redis: async no-op invocations queued
   directly (no HTTP), 2 workers; tracing off is `OTEL_SDK_DISABLED=true` (goal: <= 10% lost).
2. Span ingest rate of the receiver: OTLP/protobuf batches of 1,000 spans over HTTP.
3. Service-map build time over 100,000 stored spans (goal <= 0.5 s).
4. Store size per million spans (SQLite file, extrapolated).

Run: python benchmarks/tracing.py [--tasks 3000]. Not a test: it prints figures.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.harness import cpu_seconds, start_stack, stop_stack  # noqa: E402
from orchestrator.functions.registry import Registry  # noqa: E402
from orchestrator.invocations.dispatch import Dispatcher  # noqa: E402
from orchestrator.invocations.message import InvocationRequest  # noqa: E402
from orchestrator.process.redis_server import EmbeddedRedis  # noqa: E402
from tracing.spans import Span, SpanKind  # noqa: E402


def throughput(url: str, work: Path, port: int, tasks: int,
               tracing: bool) -> tuple[float, dict[str, float]]:
    """Invocations a second, and CPU microseconds per invocation by process role."""
    procs = start_stack(url, work / f"data-{port}", port,
                        env=None if tracing else {"OTEL_SDK_DISABLED": "true"})
    try:
        endpoint = f"http://127.0.0.1:{port}"
        code = work / "noop"
        code.mkdir(exist_ok=True)
        (code / "app.py").write_text("def handler(event, context):\n    return None\n")
        spec = work / "bench.yaml"
        spec.write_text("functions:\n  noop: {handler: app.handler, code: ./noop}\n")
        subprocess.run([sys.executable, "-m", "orchestrator.cli", "deploy", str(spec)],
                       env={**os.environ, "RIPPLE_ENDPOINT": endpoint}, check=True, cwd=ROOT)
        client = redis.Redis.from_url(url)
        function = Registry(client).get("noop")
        assert function is not None
        dispatcher = Dispatcher(client)

        def done() -> int:
            answer = httpx.get(f"{endpoint}/_ripple/api/functions/noop").json()
            return int(answer["counters"]["invocations"])

        warm = done() + 50  # counters live in Redis, which the runs share
        for _ in range(50):
            dispatcher.send(InvocationRequest(function=function))
        while done() < warm:
            time.sleep(0.01)
        before = done()
        cpu_before = cpu_seconds(procs)
        started = time.perf_counter()
        for _ in range(tasks):
            dispatcher.send(InvocationRequest(function=function))
        while done() - before < tasks:
            time.sleep(0.005)
        rate = tasks / (time.perf_counter() - started)
        time.sleep(1.0)  # the last spans are exported and stored
        cpu_after = cpu_seconds(procs)
        return rate, {role: (cpu_after[role] - cpu_before[role]) / tasks * 1e6
                      for role in cpu_after}
    finally:
        stop_stack(procs)


def synthetic_spans(count: int, start: float) -> list[Span]:
    """A fan-out shaped like ripple's own: per trace, a client put, a function, 8 calls;
    ten traces a second."""
    spans: list[Span] = []
    trace_number = 0
    while len(spans) < count:
        trace_number += 1
        trace_id = f"{int(start):08x}{trace_number:024x}"
        base = int((start + trace_number * 0.1) * 1e9)  # ten traces a second
        ids = iter(range(trace_number << 16, (trace_number << 16) + 1000))

        def span(name: str, kind: SpanKind, parent: str | None, attributes: dict[str, object],
                 offset_ms: float = 0.0, ms: float = 2.0, *, ids=ids, base=base,  # type: ignore[no-untyped-def]
                 trace_id=trace_id) -> str:
            span_id = f"{next(ids):016x}"
            begin = base + int(offset_ms * 1e6)
            spans.append(Span(trace_id, span_id, parent, name, kind, begin,
                              begin + int(ms * 1e6), attributes=attributes,
                              resource={"service.name": "ripple-worker"}))
            return span_id

        put = span("S3.PutObject", SpanKind.SERVER, None, {
            "rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "PutObject",
            "aws.s3.bucket": "uploads"})
        consumer = span("resize", SpanKind.CONSUMER, put, {"faas.name": "resize",
                                                            "messaging.system": "ripple"}, 1)
        handler = span("resize", SpanKind.SERVER, consumer, {"faas.name": "resize"}, 2, 20)
        for index in range(8):
            call = span("DynamoDB.PutItem", SpanKind.CLIENT, handler, {
                "rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": "PutItem",
                "aws.dynamodb.table_names": ["thumbs"]}, 3 + index, 1)
            span("DynamoDB.PutItem", SpanKind.SERVER, call, {
                "rpc.system": "aws-api", "rpc.service": "DynamoDB", "rpc.method": "PutItem",
                "aws.dynamodb.table_names": ["thumbs"]}, 3 + index, 0.8)
    return spans[:count]


def ingest_rate(url: str, work: Path, port: int) -> float:
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

    kept: list[object] = []

    class Keep(SpanExporter):
        def export(self, spans):  # type: ignore[no-untyped-def]
            kept.extend(spans)
            from opentelemetry.sdk.trace.export import SpanExportResult

            return SpanExportResult.SUCCESS

    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(Keep()))
    tracer = provider.get_tracer("bench")
    for index in range(1000):
        with tracer.start_as_current_span("S3.PutObject", attributes={
                "rpc.system": "aws-api", "aws.s3.bucket": f"b{index % 5}"}):
            pass
    body = encode_spans(kept).SerializeToString()  # type: ignore[arg-type]
    procs = start_stack(url, work / f"data-{port}", port, env={"OTEL_SDK_DISABLED": "true"})
    try:
        with httpx.Client() as client:
            started = time.perf_counter()
            batches = 50
            for _ in range(batches):
                answer = client.post(f"http://127.0.0.1:{port}/v1/traces", content=body,
                                     headers={"Content-Type": "application/x-protobuf"})
                answer.raise_for_status()
            return batches * 1000 / (time.perf_counter() - started)
    finally:
        stop_stack(procs)


def store_figures(work: Path) -> dict[str, float]:
    from orchestrator.endpoint.xray_api import get_service_graph
    from tracing.graph import service_graph
    from tracing.store.database import SpanStore
    from tracing.store.rollup import MapRollup

    start = time.time() - 600
    spans = synthetic_spans(100_000, start)
    store = SpanStore(work / "traces.db", max_spans=2_000_000, max_age_hours=24)
    rollup = store.add_listener(MapRollup(store))
    began = time.perf_counter()
    for offset in range(0, len(spans), 5_000):
        store.add(spans[offset:offset + 5_000])
    insert_rate = len(spans) / (time.perf_counter() - began)
    began = time.perf_counter()
    rollup.fold()  # what the background thread does as traces go quiet
    fold_rate = len(spans) / (time.perf_counter() - began)
    began = time.perf_counter()
    graph = get_service_graph(store, start - 1, time.time() + 1)
    counted_seconds = time.perf_counter() - began
    began = time.perf_counter()
    rebuilt = service_graph(store.between(start - 1, time.time() + 1), start - 1,
                            time.time() + 1)
    rebuild_seconds = time.perf_counter() - began
    assert graph["Services"] and len(graph["Services"]) == len(rebuilt["Services"])
    store.close()
    size = sum(path.stat().st_size for path in work.glob("traces.db*"))
    return {"insert": insert_rate, "fold": fold_rate, "map": counted_seconds,
            "rebuild": rebuild_seconds, "megabytes": size / len(spans) * 1_000_000 / 1e6}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=3,
                        help="off/on pairs, interleaved (this kind of VM drifts)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ripple-bench-"))
    server = EmbeddedRedis(work / "redis")
    url = server.start()
    try:
        rounds = [(throughput(url, work, 4575 + 2 * index, args.tasks, tracing=False),
                   throughput(url, work, 4576 + 2 * index, args.tasks, tracing=True))
                  for index in range(args.rounds)]
        ingest = ingest_rate(url, work, 4599)
        store = store_figures(work)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)
    print("\n## Tracing (2 workers, async no-op, queued directly)")
    print("round   off inv/s   on inv/s    lost   CPU us/inv off -> on (endpoint, workers, "
          "environments)")
    for number, ((off, off_cpu), (on, on_cpu)) in enumerate(rounds, 1):
        print(f"{number:5}  {off:10.0f} {on:10.0f}  {(1 - on / off) * 100:5.1f}%   "
              f"{sum(off_cpu.values()):5.0f} -> {sum(on_cpu.values()):5.0f} ("
              + ", ".join(f"{on_cpu[role] - off_cpu[role]:+.0f}" for role in off_cpu) + ")")
    losses = sorted(1 - on / off for (off, _), (on, _) in rounds)
    extra = sorted(sum(on_cpu.values()) / sum(off_cpu.values()) - 1
                   for (_, off_cpu), (_, on_cpu) in rounds)
    print(f"median: throughput lost {losses[len(losses) // 2] * 100:.1f}% (goal <= 10%), "
          f"CPU per invocation +{extra[len(extra) // 2] * 100:.1f}%")
    print(f"receiver ingest, OTLP/protobuf HTTP  {ingest:8.0f} spans/s")
    print(f"store insert                         {store['insert']:8.0f} spans/s")
    print(f"map statistics folded (background)   {store['fold']:8.0f} spans/s")
    print(f"service map over 100,000 spans       {store['map']:8.3f} s (goal <= 0.5 s)   "
          f"rebuilt from every span {store['rebuild']:.2f} s "
          f"({store['rebuild'] / store['map']:.0f}x)")
    print(f"store size per million spans         {store['megabytes']:8.0f} MB")


if __name__ == "__main__":
    main()
