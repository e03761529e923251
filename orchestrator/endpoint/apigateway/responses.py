"""What the stage answers: the function's response mapped as API Gateway maps it, or the
gateway's own error answers.

Payload format 1.0 (REST API) needs `{statusCode, headers, multiValueHeaders, body,
isBase64Encoded}` with a string body; anything else is a malformed proxy response (502).
Format 2.0 (HTTP API) takes that shape (plus `cookies`) when `statusCode` is present, and any
other JSON as a 200 `application/json` answer whose body is that JSON (a string as itself).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from orchestrator.endpoint.apigateway.routes import REST_FORMAT


class MalformedResponse(ValueError):
    """The function answered something API Gateway cannot turn into an HTTP response."""


class Failure(Enum):
    """Why the gateway answers itself instead of the function."""

    NO_ROUTE = "no_route"
    TOO_LARGE = "too_large"
    FUNCTION_ERROR = "function_error"  # a handler error, a malformed response, no worker
    TIMEOUT = "timeout"
    THROTTLED = "throttled"
    RATE_LIMITED = "rate_limited"  # over a usage plan's or a route's throttle
    QUOTA_EXCEEDED = "quota_exceeded"  # a key's usage plan quota is used up
    FORBIDDEN = "forbidden"  # no valid API key; a JWT without the route's scopes
    UNAUTHORIZED = "unauthorized"  # no identity, a bad JWT, an authorizer's "Unauthorized"
    DENIED = "denied"  # an authorizer's explicit deny (or no allow)
    AUTHORIZER_ERROR = "authorizer_error"  # the authorizer failed or answered nonsense


# (status, message) per payload format, as each kind of API answers.
REST_ANSWERS: dict[Failure, tuple[int, str | None]] = {
    Failure.NO_ROUTE: (403, "Missing Authentication Token"),
    Failure.TOO_LARGE: (413, "Request Too Long"),
    Failure.FUNCTION_ERROR: (502, "Internal server error"),
    Failure.TIMEOUT: (504, "Endpoint request timed out"),
    Failure.THROTTLED: (429, "Rate exceeded"),
    Failure.RATE_LIMITED: (429, "Too Many Requests"),
    Failure.QUOTA_EXCEEDED: (429, "Limit Exceeded"),
    Failure.FORBIDDEN: (403, "Forbidden"),
    Failure.UNAUTHORIZED: (401, "Unauthorized"),
    Failure.DENIED: (403, "User is not authorized to access this resource with an explicit deny"),
    Failure.AUTHORIZER_ERROR: (500, None),
}
# A REST API names its error in `x-amzn-errortype`.
REST_ERROR_TYPES = {
    Failure.NO_ROUTE: "MissingAuthenticationTokenException",
    Failure.RATE_LIMITED: "TooManyRequestsException",
    Failure.QUOTA_EXCEEDED: "LimitExceededException",
    Failure.FORBIDDEN: "ForbiddenException",
    Failure.UNAUTHORIZED: "UnauthorizedException",
    Failure.DENIED: "AccessDeniedException",
    Failure.AUTHORIZER_ERROR: "AuthorizerConfigurationException",
}
HTTP_ANSWERS: dict[Failure, tuple[int, str | None]] = {
    Failure.NO_ROUTE: (404, "Not Found"),
    Failure.TOO_LARGE: (413, "Request Entity Too Large"),
    Failure.FUNCTION_ERROR: (500, "Internal Server Error"),
    Failure.TIMEOUT: (503, "Service Unavailable"),
    Failure.THROTTLED: (429, "Too Many Requests"),
    Failure.RATE_LIMITED: (429, "Too Many Requests"),
    Failure.QUOTA_EXCEEDED: (429, "Too Many Requests"),  # HTTP APIs have no quotas
    Failure.FORBIDDEN: (403, "Forbidden"),
    Failure.UNAUTHORIZED: (401, "Unauthorized"),
    Failure.DENIED: (403, "Forbidden"),
    Failure.AUTHORIZER_ERROR: (500, "Internal Server Error"),
}
JSON = "application/json"


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name.lower()), None)


def gateway_answer(payload_format: str, failure: Failure) -> Answer:
    status, message = (REST_ANSWERS if payload_format == REST_FORMAT else HTTP_ANSWERS)[failure]
    headers = [("content-type", JSON)]
    body = {"message": message}
    if payload_format == REST_FORMAT:
        if failure in REST_ERROR_TYPES:
            headers.append(("x-amzn-errortype", REST_ERROR_TYPES[failure]))
        if failure is Failure.DENIED:
            body = {"Message": message}  # sic: this one answer is capitalised
    return Answer(status, headers, json.dumps(body).encode())


def function_answer(payload_format: str, payload: bytes) -> Answer:
    """The function's response as the client sees it; raises MalformedResponse."""
    try:
        response = json.loads(payload or b"null")
    except ValueError:
        raise MalformedResponse("the function's response is not JSON") from None
    if payload_format == REST_FORMAT:
        return _structured(response, cookies=False)
    if isinstance(response, dict) and "statusCode" in response:
        return _structured(response, cookies=True)
    body = response if isinstance(response, str) else payload.decode("utf-8", "replace")
    return Answer(200, [("content-type", JSON)], body.encode())


def _structured(response: Any, cookies: bool) -> Answer:
    if not isinstance(response, dict):
        raise MalformedResponse("a proxy response must be a JSON object")
    status = _status(response.get("statusCode"))
    headers = _headers(response.get("headers"), response.get("multiValueHeaders"))
    if cookies:
        values = response.get("cookies") or []
        if not isinstance(values, list) or not all(isinstance(c, str) for c in values):
            raise MalformedResponse("cookies must be a list of strings")
        headers += [("set-cookie", cookie) for cookie in values]
    elif not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("content-type", JSON))  # a REST API's default
    return Answer(status, headers, _body(response.get("body"), response.get("isBase64Encoded")))


def _status(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedResponse(f"statusCode must be a number, not {value!r}")
    try:
        status = int(value)
    except ValueError:
        raise MalformedResponse(f"statusCode must be a number, not {value!r}") from None
    if not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode {status} is not an HTTP status")
    return status


def _headers(single: Any, multiple: Any) -> list[tuple[str, str]]:
    """Both header maps merged; a value given in both appears once."""
    if not isinstance(single or {}, dict) or not isinstance(multiple or {}, dict):
        raise MalformedResponse("headers and multiValueHeaders must be objects")
    merged: dict[str, list[str]] = {}
    for name, values in (multiple or {}).items():
        if not isinstance(values, list):
            raise MalformedResponse(f"multiValueHeaders[{name!r}] must be a list")
        merged[name] = [_text(value) for value in values if value is not None]
    for name, value in (single or {}).items():
        if value is not None and _text(value) not in merged.get(name, []):
            merged.setdefault(name, []).append(_text(value))
    return [(name, value) for name, values in merged.items() for value in values]


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        raise MalformedResponse(f"a header value must be a string, not {value!r}")
    return str(value).lower() if isinstance(value, bool) else str(value)


def _body(body: Any, base64_encoded: Any) -> bytes:
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse("body must be a string (json.dumps it)")
    if base64_encoded not in (None, True, False):
        raise MalformedResponse("isBase64Encoded must be true or false")
    if not base64_encoded:
        return body.encode()
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedResponse("body is not valid base64") from None
