"""API Gateway's Lambda proxy events, exactly as Lambda delivers them: payload format 1.0 (a
REST API's `AWS_PROXY` integration) and 2.0 (an HTTP API's).

The builders take the request as the stage received it and the route it matched; they do not
route, invoke or answer (see `orchestrator/endpoint/apigateway/`).
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from orchestrator.settings import ACCOUNT_ID

HTTP_API_STAGE = "$default"
# Bodies of these types reach the handler as text; any other body is base64, as an HTTP API
# does it (a REST API with `binaryMediaTypes: ["*/*"]` behaves the same).
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/javascript",
              "application/x-www-form-urlencoded", "application/graphql", "application/yaml")
TEXT_SUFFIXES = ("+json", "+xml", "+yaml")


@dataclass(frozen=True)
class HttpRequest:
    """One request as the stage received it."""

    method: str
    path: str  # as sent: percent-encoded, no query string
    query: str = ""  # the raw query string, without '?'
    headers: tuple[tuple[str, str], ...] = ()  # in the order sent, names as sent
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    received: float = field(default_factory=time.time)  # epoch seconds

    def header(self, name: str, default: str = "") -> str:
        """The last value of a header, whatever the case of its name."""
        found = [value for key, value in self.headers if key.lower() == name.lower()]
        return found[-1] if found else default


def request_time(epoch: float) -> str:
    """CLF time, as `requestTime` and `time` carry it: `04/Mar/2020:19:15:17 +0000`."""
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(epoch))


def is_text(content_type: str) -> bool:
    """Whether a body of this media type reaches the handler as text (no type: text)."""
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media.startswith(TEXT_TYPES) or media.endswith(TEXT_SUFFIXES)


def encode_body(body: bytes, content_type: str) -> tuple[str | None, bool]:
    """(body, isBase64Encoded): text as text, anything else (or invalid UTF-8) as base64."""
    if not body:
        return None, False
    if is_text(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def domain_prefix(domain_name: str) -> str:
    return domain_name.split(":", 1)[0].split(".", 1)[0]


def rest_event(request: HttpRequest, *, resource: str, path_parameters: dict[str, str],
               api_id: str, stage: str, request_id: str, extended_request_id: str,
               domain_name: str, resource_id: str | None = None,
               stage_variables: dict[str, str] | None = None,
               account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    """Payload format 1.0: single-value fields hold the last value sent, the `multiValue`
    ones every value; absent parts are null; header names keep the case they arrived in."""
    headers: dict[str, str] = {}
    multi_headers: dict[str, list[str]] = {}
    for name, value in request.headers:
        headers[name] = value
        multi_headers.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body, encoded = encode_body(request.body, request.header("content-type"))
    identity = {
        "accessKey": None, "accountId": None, "caller": None,
        "cognitoAuthenticationProvider": None, "cognitoAuthenticationType": None,
        "cognitoIdentityId": None, "cognitoIdentityPoolId": None, "principalOrgId": None,
        "sourceIp": request.source_ip, "user": None,
        "userAgent": request.header("user-agent"), "userArn": None,
    }
    return {
        "resource": resource,
        "path": request.path,
        "httpMethod": request.method,
        "headers": headers,
        "multiValueHeaders": multi_headers,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "requestContext": {
            "accountId": account_id,
            "apiId": api_id,
            "domainName": domain_name,
            "domainPrefix": domain_prefix(domain_name),
            "extendedRequestId": extended_request_id,
            "httpMethod": request.method,
            "identity": identity,
            "path": request.path,
            "protocol": request.protocol,
            "requestId": request_id,
            "requestTime": request_time(request.received),
            "requestTimeEpoch": int(request.received * 1000),
            "resourceId": resource_id,
            "resourcePath": resource,
            "stage": stage,
        },
        "pathParameters": path_parameters or None,
        "stageVariables": stage_variables or None,
        "body": body,
        "isBase64Encoded": encoded,
    }


def http_event(request: HttpRequest, *, route_key: str, path_parameters: dict[str, str],
               api_id: str, request_id: str, domain_name: str, stage: str = HTTP_API_STAGE,
               stage_variables: dict[str, str] | None = None,
               account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    """Payload format 2.0: header names lower-case, repeated headers and query parameters
    joined with commas, cookies in their own list; absent parts are left out."""
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        name = name.lower()
        if name == "cookie":
            cookies += [cookie.strip() for cookie in value.split(";") if cookie.strip()]
            continue
        headers[name] = f"{headers[name]},{value}" if name in headers else value
    query: dict[str, str] = {}
    for name, value in parse_qsl(request.query, keep_blank_values=True):
        query[name] = f"{query[name]},{value}" if name in query else value
    path = unquote(request.path)  # an HTTP API hands over the path decoded
    event: dict[str, Any] = {"version": "2.0", "routeKey": route_key, "rawPath": path,
                             "rawQueryString": request.query}
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_prefix(domain_name),
        "http": {"method": request.method, "path": path, "protocol": request.protocol,
                 "sourceIp": request.source_ip, "userAgent": request.header("user-agent")},
        "requestId": request_id,
        "routeKey": route_key,
        "stage": stage,
        "time": request_time(request.received),
        "timeEpoch": int(request.received * 1000),
    }
    body, encoded = encode_body(request.body, request.header("content-type"))
    if body is not None:
        event["body"] = body
    if path_parameters:
        event["pathParameters"] = path_parameters
    event["isBase64Encoded"] = encoded
    if stage_variables:
        event["stageVariables"] = stage_variables
    return event
