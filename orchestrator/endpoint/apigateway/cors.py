"""CORS at the stage: a preflight (`OPTIONS` with `Origin` and
`Access-Control-Request-Method`) is answered by the stage from the route's `cors` settings,
never by the function, as an HTTP API with a CORS configuration (204) and SAM's REST `Cors`
mock integration (200) answer it.

An HTTP API also adds `Access-Control-Allow-Origin` (and the exposed headers) to its other
answers; a REST API's proxy integration leaves that to the function, as on AWS.
"""

from __future__ import annotations

from orchestrator.endpoint.apigateway.responses import Answer
from orchestrator.endpoint.apigateway.routes import REST_FORMAT
from orchestrator.events.apigateway import HttpRequest
from orchestrator.spec.api_access import Cors


def is_preflight(request: HttpRequest) -> bool:
    return (request.method == "OPTIONS" and bool(request.header("origin"))
            and bool(request.header("access-control-request-method")))


def allowed_origin(cors: Cors, origin: str) -> str | None:
    """What `Access-Control-Allow-Origin` says to this origin, or None if it is not allowed."""
    if origin in cors.allow_origins:
        return origin
    if "*" in cors.allow_origins and origin:
        return "*"
    return None


def preflight(cors: Cors, request: HttpRequest, payload_format: str) -> Answer:
    answer = Answer(200 if payload_format == REST_FORMAT else 204)
    origin = allowed_origin(cors, request.header("origin"))
    method = request.header("access-control-request-method").upper()
    methods = [allowed.upper() for allowed in cors.allow_methods]
    if origin is None or not ("*" in methods or method in methods):
        return answer  # no CORS headers: the browser refuses the request itself
    answer.headers += [("access-control-allow-origin", origin),
                       ("access-control-allow-methods", ",".join(methods))]
    if cors.allow_headers:
        answer.headers.append(("access-control-allow-headers", ",".join(cors.allow_headers)))
    if cors.max_age is not None:
        answer.headers.append(("access-control-max-age", str(cors.max_age)))
    if cors.allow_credentials:
        answer.headers.append(("access-control-allow-credentials", "true"))
    if origin != "*":
        answer.headers.append(("vary", "Origin"))
    return answer


def decorate(answer: Answer, cors: Cors, request: HttpRequest) -> None:
    """An HTTP API's CORS headers on a non-preflight answer to an allowed origin."""
    origin = allowed_origin(cors, request.header("origin"))
    if origin is None or answer.header("access-control-allow-origin") is not None:
        return
    answer.headers.append(("access-control-allow-origin", origin))
    if cors.expose_headers:
        answer.headers.append(("access-control-expose-headers", ",".join(cors.expose_headers)))
    if cors.allow_credentials:
        answer.headers.append(("access-control-allow-credentials", "true"))
    if origin != "*":
        answer.headers.append(("vary", "Origin"))
