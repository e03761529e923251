"""X-Ray's own API over the span store, as `boto3.client("xray", endpoint_url=...)` calls it.

REST-JSON: `POST /ServiceGraph` (GetServiceGraph), `POST /TraceSummaries`
(GetTraceSummaries), `POST /Traces` (BatchGetTraces), `POST /TraceGraph` (GetTraceGraph) and
`POST /TraceSegments` (PutTraceSegments, through the X-Ray daemon receiver's own ingest).
Errors are `{"__type": "InvalidRequestException", "Message": ...}` with `x-amzn-ErrorType`, which
botocore raises as `ClientError`. The query functions are shared with ripple's own trace API.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp

from orchestrator.errors import AwsError
from tracing.filters import FilterError
from tracing.graph import graph_answer, trace_graph
from tracing.segments import trace_document
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.summaries import trace_summaries
from tracing.trace_ids import TraceIdError, w3c_trace_id, xray_trace_id
from tracing.xray.ingest import SegmentIngest

MAX_TRACES = 1_000  # traces a summary query considers
PAGE_SIZE = 100  # summaries per GetTraceSummaries page

StoreGetter = Callable[[], SpanStore]


class InvalidRequest(AwsError):
    code = "InvalidRequestException"
    status = 400


# Queries, shared with orchestrator/endpoint/traces_api.py ------------------------------------

def get_service_graph(store: SpanStore, start: float, end: float) -> dict[str, Any]:
    """A `GetServiceGraph` answer for the requests that started within [start, end]."""
    return graph_answer(store.map.services(start, end), start, end)


def get_trace_summaries(store: SpanStore, start: float, end: float,
                        expression: str | None = None) -> list[dict[str, Any]]:
    """`GetTraceSummaries` items of the latest traces within [start, end] that pass the
    filter expression, latest first."""
    traces = store.traces_between(start, end, limit=MAX_TRACES)
    try:
        return trace_summaries(traces, expression)
    except FilterError as error:
        raise InvalidRequest(str(error)) from None


def batch_get_traces(store: SpanStore, trace_ids: Iterable[str]) -> dict[str, Any]:
    """A `BatchGetTraces` answer: the stored traces as segment documents, the rest listed as
    unprocessed."""
    traces, missing = [], []
    for trace_id in trace_ids:
        spans = store.trace(hex_trace_id(trace_id))
        if not spans:
            missing.append(trace_id)
            continue
        traces.append(trace_document(trace_id, spans + _linked(store, spans)))
    return {"Traces": traces, "UnprocessedTraceIds": missing}


def get_trace_graph(store: SpanStore, trace_ids: Iterable[str]) -> dict[str, Any]:
    """A `GetTraceGraph` answer: the services of the given traces."""
    found = store.traces(hex_trace_id(trace_id) for trace_id in trace_ids)
    return trace_graph([span for spans in found.values() for span in spans])


def hex_trace_id(trace_id: str) -> str:
    """The 32-hex id of an X-Ray (`1-…-…`) or W3C trace id."""
    try:
        return w3c_trace_id(trace_id)
    except TraceIdError as error:
        raise InvalidRequest(str(error)) from None


def _linked(store: SpanStore, spans: list[Span]) -> list[Span]:
    """Spans of the other traces these spans link to (a stream batch's records)."""
    own = spans[0].trace_id
    others = {link.trace_id for span in spans for link in span.links} - {own}
    return [span for found in store.traces(sorted(others)).values() for span in found]


# The ASGI app -----------------------------------------------------------------------------

def put_trace_segments(ingest: SegmentIngest, documents: list[str]) -> dict[str, Any]:
    """A `PutTraceSegments` answer: the documents stored, the refused ones listed with
    X-Ray's error code."""
    refused = ingest.put(documents)
    return {"UnprocessedTraceSegments": [
        {**({"Id": item.id} if item.id else {}), "ErrorCode": item.code, "Message": item.message}
        for item in refused]}


def create_app(store_getter: StoreGetter, ingest: SegmentIngest | None = None,
               settle: Callable[[], object] = lambda: True) -> ASGIApp:
    """X-Ray's API over the store `store_getter()` returns at each request; segments put go
    through `ingest` (by default one of this app's own over that store). Reads call `settle`
    first, so they see every span received before them."""

    async def reading() -> SpanStore:
        await run_in_threadpool(settle)
        return store_getter()

    app = FastAPI(title="ripple X-Ray API", docs_url=None, redoc_url=None, openapi_url=None,
                  telemetry={"tracing": False, "metrics": False, "logs": False})

    @app.exception_handler(AwsError)
    async def aws_error(_: Request, error: Exception) -> JSONResponse:
        assert isinstance(error, AwsError)
        return xray_error(error.code, error.message, error.status)

    @app.post("/ServiceGraph")
    async def get_service_graph_call(request: Request) -> JSONResponse:
        body = await _body(request)
        start, end = _window(body)
        return await _answer(get_service_graph, await reading(), start, end)

    @app.post("/TraceSummaries")
    async def get_trace_summaries_call(request: Request) -> JSONResponse:
        body = await _body(request)
        start, end = _window(body)
        expression = _optional_string(body, "FilterExpression")
        offset = _offset(body.get("NextToken"))
        summaries = await run_in_threadpool(get_trace_summaries, await reading(), start, end,
                                            expression)
        page: dict[str, Any] = {"TraceSummaries": summaries[offset:offset + PAGE_SIZE],
                                "ApproximateTime": end,
                                "TracesProcessedCount": len(summaries)}
        if offset + PAGE_SIZE < len(summaries):
            page["NextToken"] = str(offset + PAGE_SIZE)
        return JSONResponse(page)

    @app.post("/Traces")
    async def batch_get_traces_call(request: Request) -> JSONResponse:
        trace_ids = _trace_ids(await _body(request))
        return await _answer(batch_get_traces, await reading(), trace_ids)

    @app.post("/TraceGraph")
    async def get_trace_graph_call(request: Request) -> JSONResponse:
        trace_ids = _trace_ids(await _body(request))
        return await _answer(get_trace_graph, await reading(), trace_ids)

    @app.post("/TraceSegments")
    async def put_trace_segments_call(request: Request) -> JSONResponse:
        nonlocal ingest
        documents = _documents(await _body(request))
        ingest = ingest or SegmentIngest(store_getter())
        return await _answer(put_trace_segments, ingest, documents)

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD"])
    async def unknown(request: Request) -> JSONResponse:
        return xray_error("UnknownOperationException",
                          f"ripple does not implement X-Ray's {request.method} "
                          f"{request.url.path}", 404)

    return app


def xray_error(code: str, message: str, status: int) -> JSONResponse:
    return JSONResponse({"__type": code, "Message": message}, status_code=status,
                        headers={"x-amzn-ErrorType": code})


async def _answer(query: Callable[..., dict[str, Any]], *args: Any) -> JSONResponse:
    return JSONResponse(await run_in_threadpool(query, *args))


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw or b"{}")
    except ValueError as error:
        raise InvalidRequest(f"the request body is not JSON ({error})") from None
    if not isinstance(body, dict):
        raise InvalidRequest("the request body must be a JSON object")
    return body


def _time(body: dict[str, Any], name: str) -> float:
    value = body.get(name)
    if value is None:
        raise InvalidRequest(f"{name} is required")
    if isinstance(value, bool):
        raise InvalidRequest(f"{name} must be a timestamp, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    text = str(value)
    try:
        return float(text) if text.replace(".", "", 1).isdigit() else datetime.fromisoformat(
            text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise InvalidRequest(f"{name} must be a timestamp, got {value!r}") from None


def _window(body: dict[str, Any]) -> tuple[float, float]:
    start, end = _time(body, "StartTime"), _time(body, "EndTime")
    if end < start:
        raise InvalidRequest(f"EndTime ({end}) is before StartTime ({start})")
    return start, end


def _optional_string(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise InvalidRequest(f"{name} must be a string")
    return value


def _offset(token: Any) -> int:
    if token in (None, ""):
        return 0
    if not (isinstance(token, str) and token.isdigit()):
        raise InvalidRequest(f"NextToken {token!r} is not one this API returned")
    return int(token)


def _trace_ids(body: dict[str, Any]) -> list[str]:
    trace_ids = body.get("TraceIds")
    if not isinstance(trace_ids, list) or not trace_ids:
        raise InvalidRequest("TraceIds is required: a list of trace ids")
    if not all(isinstance(trace_id, str) for trace_id in trace_ids):
        raise InvalidRequest("TraceIds must be strings")
    for trace_id in trace_ids:
        hex_trace_id(trace_id)  # an unreadable id fails the whole request, as on X-Ray
    return [xray_trace_id(trace_id) for trace_id in trace_ids]


def _documents(body: dict[str, Any]) -> list[str]:
    documents = body.get("TraceSegmentDocuments")
    if not isinstance(documents, list) or not documents:
        raise InvalidRequest("TraceSegmentDocuments is required: a list of segment documents "
                             "(JSON strings)")
    if not all(isinstance(document, str) for document in documents):
        raise InvalidRequest("TraceSegmentDocuments must be strings (JSON documents)")
    return documents
