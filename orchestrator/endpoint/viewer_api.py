"""The web trace viewer: its pages at `/_ripple/` and the one query only it asks.

- `GET /_ripple/` (and `/_ripple/ui/…`): the page and its ES modules, CSS and SVG, package data
  under `tracing/viewer/`. They are served ahead of the token guard: they hold no data, and a
  browser off this machine could not send a header to fetch them. The page sends the token
  (`/_ripple/?token=T`, kept for the tab) as `X-Ripple-Token` on every API call it makes.
- `GET /_ripple/api/traces/{id}/spans`: one trace's spans as span refs with their parent,
  attributes, events, links, whether each is on the critical path and which part of an
  invocation it is, plus the traces linking into this one and those it links to.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

import tracing
from orchestrator.endpoint import trace_store
from orchestrator.endpoint.xray_api import hex_trace_id
from orchestrator.errors import AwsError
from tracing.critical_path import critical_path
from tracing.nodes import CLIENT
from tracing.span_refs import nodes_of, span_ref
from tracing.spans import Span
from tracing.store.database import SpanStore
from tracing.store.lineage import LineageIndex
from tracing.topology import key

ASSETS = Path(tracing.__file__).resolve().parent / "viewer"  # package data
PAGE = "/_ripple/"
UI = "/_ripple/ui/"
PARTS = ("Initialization", "Invocation", "Overhead")  # an invocation's parts, X-Ray's names
TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".html": "text/html; charset=utf-8", ".svg": "image/svg+xml", ".txt": "text/plain",
         ".png": "image/png"}

router = APIRouter(prefix="/_ripple/api", tags=["viewer"],
                   dependencies=[Depends(trace_store.settled)])


def asset(path: str) -> Path | None:
    """The file under the viewer's folder that `path` names; None outside it or missing."""
    found = (ASSETS / path).resolve()
    if not found.is_relative_to(ASSETS) or not found.is_file():
        return None
    return found


class ViewerPages:
    """Serves the viewer's static files; every other request goes on to `app`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        response: Response | None = None
        if path == "/_ripple":
            response = RedirectResponse(PAGE)
        elif path == PAGE or path.startswith(UI):
            response = self._file(path)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)

    @staticmethod
    def _file(path: str) -> Response:
        found = asset("index.html" if path == PAGE else path[len(UI):])
        if found is None:
            return Response(f"no viewer file {path}\n", 404, media_type="text/plain")
        # Revalidated on every load (ETag / Last-Modified): a new ripple's page is never stale.
        return FileResponse(found, media_type=TYPES.get(found.suffix, "application/octet-stream"),
                            headers={"Cache-Control": "no-cache"})


def _segment(span: Span, by_key: dict[tuple[str, str], Span]) -> str | None:
    """`Initialization`, `Invocation` or `Overhead` for those parts of an invocation."""
    if span.name not in PARTS or not span.parent_span_id:
        return None
    parent = by_key.get((span.trace_id, span.parent_span_id))
    return span.name if parent is not None and parent.attributes.get("faas.name") else None


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def trace_spans(store: SpanStore, trace_id: str) -> dict[str, Any] | None:
    """The viewer's answer for one trace; None when it is not stored."""
    spans = store.trace(trace_id)
    if not spans:
        return None
    nodes = nodes_of(spans)
    by_key = {key(span): span for span in spans}
    critical = {key(span) for span in critical_path(spans)}
    links_to = sorted({link.trace_id for span in spans for link in span.links} - {trace_id})
    index = store.listener(LineageIndex)
    linked_from = sorted({linking[0] for linking, _ in index.linking([trace_id])} - {trace_id}
                         ) if index is not None else []
    answer = []
    for span in spans:
        node = nodes.get(key(span), CLIENT)
        answer.append({
            **span_ref(span, node), "parent_id": span.parent_span_id,
            "attributes": {name: _plain(value) for name, value in span.attributes.items()},
            "events": [{"name": event.name, "time": event.time_ns / 1e9,
                        "attributes": event.attributes} for event in span.events],
            "links": [{"trace_id": link.trace_id, "span_id": link.span_id}
                      for link in span.links],
            "critical": key(span) in critical, "segment": _segment(span, by_key),
            "service": span.resource.get("service.name")})
    return {"trace_id": trace_id, "spans": answer, "linked_from": linked_from,
            "links_to": links_to}


@router.get("/traces/{trace_id}/spans")
async def spans(request: Request, trace_id: str) -> dict[str, Any]:
    store = trace_store.store(request)
    try:
        hexed = hex_trace_id(trace_id)
    except AwsError as error:
        raise HTTPException(400, error.message) from None
    found = await run_in_threadpool(trace_spans, store, hexed)
    if found is None:
        raise HTTPException(404, f"no trace {trace_id} in the store (it may have expired)")
    return found
