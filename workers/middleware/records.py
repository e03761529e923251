"""Lambda's log lines, the invocation record, counters, and the reply to a sync caller."""

from __future__ import annotations

import base64
import json
import time

import orjson
from redis.client import Pipeline

from orchestrator import keys
from orchestrator.invocations.billing import billed_ms
from orchestrator.invocations.message import InvocationReply
from orchestrator.settings import Settings
from workers.environments.outcome import Outcome
from workers.middleware import InvocationContext, Middleware

LOG_TAIL_BYTES = 4096
PAYLOAD_BYTES = 4096  # of the event and of the response kept in the record, for the viewer
REPLY_TTL_SECONDS = 300


def report_line(request_id: str, outcome: Outcome, memory: int) -> str:
    line = (f"REPORT RequestId: {request_id}\tDuration: {outcome.duration_ms:.2f} ms\t"
            f"Billed Duration: {billed_ms(outcome.duration_ms, outcome.init_ms)} ms\t"
            f"Memory Size: {memory} MB\tMax Memory Used: {outcome.max_memory_mb} MB\t")
    if outcome.init_ms is not None:
        line += f"Init Duration: {outcome.init_ms:.2f} ms\t"
    return line


def head(payload: bytes) -> str:
    """The first `PAYLOAD_BYTES` of a payload as text (a character cut in two is dropped)."""
    return payload[:PAYLOAD_BYTES].decode("utf-8", "ignore")


def error_of(payload: bytes) -> dict[str, object]:
    """Lambda's error shape from a failed invocation's payload (errors are small)."""
    try:
        body = json.loads(payload)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return {"errorType": "Unhandled", "errorMessage": head(payload), "stackTrace": []}
    return {"errorType": body.get("errorType"), "errorMessage": body.get("errorMessage"),
            "stackTrace": body.get("stackTrace") or []}


def log_text(request_id: str, outcome: Outcome, memory: int, version: str = "$LATEST") -> str:
    """START, the handler's output, END and REPORT, as CloudWatch shows them."""
    # awslambdaric frames multi-line entries with \r and indents with no-break spaces.
    output = outcome.output.replace("\r", "\n").replace("\xa0", " ")
    if output and not output.endswith("\n"):
        output += "\n"
    init = outcome.init_output.replace("\r", "\n").replace("\xa0", " ")
    return (f"{init}START RequestId: {request_id} Version: {version}\n{output}"
            f"END RequestId: {request_id}\n{report_line(request_id, outcome, memory)}\n")


class Records(Middleware):
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def after_invoke(self, ctx: InvocationContext) -> None:
        request, outcome, pipe = ctx.request, ctx.outcome, ctx.pipe
        function = request.function
        counters = keys.counters(function.name)
        if outcome is None:
            if ctx.skipped is not None and ctx.skipped.reason == "Throttled":
                pipe.hincrby(counters, "throttles", 1)
            if request.is_sync and ctx.skipped is not None:  # never leave a caller waiting
                self._reply(pipe, InvocationReply(request_id=request.request_id,
                                                  fault=str(ctx.skipped)))
            return
        text = log_text(request.request_id, outcome, function.memory, function.lambda_version)
        pipe.xadd(keys.logs(function.name), {"request_id": request.request_id, "text": text},
                  maxlen=self.settings.log_retention, approximate=True)
        billed = billed_ms(outcome.duration_ms, outcome.init_ms)
        answered = outcome.ended_ns / 1e9 if outcome.ended_ns else time.time()
        record = {
            "request_id": request.request_id, "function": function.name,
            "version": function.version, "trigger": request.trigger,
            "invocation_type": request.invocation_type.value, "attempt": request.attempt,
            "trace_header": request.trace_header, "start": answered - outcome.duration_ms / 1000,
            "queue_ms": round((answered - request.enqueued) * 1000 - outcome.duration_ms, 3),
            "duration_ms": round(outcome.duration_ms, 3), "init_ms": outcome.init_ms,
            "billed_ms": billed, "memory_mb": function.memory,
            "max_memory_mb": outcome.max_memory_mb, "architecture": function.architecture,
            "status": "ok" if outcome.ok else "error", "error_type": outcome.error_type,
            "event": head(request.payload),
            "event_truncated": len(request.payload) > PAYLOAD_BYTES,
            "response": head(outcome.payload) if outcome.ok else None,
            "response_truncated": outcome.ok and len(outcome.payload) > PAYLOAD_BYTES,
            "error": None if outcome.ok else error_of(outcome.payload),
        }
        pipe.xadd(keys.INVOCATIONS, {"record": orjson.dumps(record)},
                  maxlen=self.settings.record_retention, approximate=True)
        pipe.hincrby(counters, "invocations", 1)
        if not outcome.ok:
            pipe.hincrby(counters, "errors", 1)
        if ctx.cold:
            pipe.hincrby(counters, "cold_starts", 1)
        if request.is_sync:
            reply = InvocationReply(
                request_id=request.request_id,
                payload=outcome.payload,
                function_error=None if outcome.ok else "Unhandled",
                error_type=outcome.error_type,
                log_tail=(base64.b64encode(text.encode()[-LOG_TAIL_BYTES:]).decode()
                          if request.tail_log else ""),
            )
            self._reply(pipe, reply)

    @staticmethod
    def _reply(pipe: Pipeline, reply: InvocationReply) -> None:
        reply_key = keys.reply(reply.request_id)
        pipe.lpush(reply_key, reply.to_wire())
        pipe.expire(reply_key, REPLY_TTL_SECONDS)
