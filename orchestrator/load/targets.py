"""What one event of a load run is: a target (`invoke:NAME`, `s3:BUCKET/PREFIX`, `ddb:TABLE`,
`http:METHOD /path`) and a payload template rendered per event, as a ready HTTP request.

Requests are built by hand rather than with boto3: a signed boto3 call costs ~1 ms of CPU in
the sender, more than the endpoint spends on a no-op invoke, and the simulated services route
by the credential scope alone (`orchestrator/endpoint/routing.py`), which a fixed header gives.
"""

from __future__ import annotations

import json
import random
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from orchestrator.load import LoadError

KINDS = ("invoke", "s3", "ddb", "http")
HTTP_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
VARIABLES = re.compile(r"\{(n|uuid|now|now_ms|rand)\}")
DEFAULT_PAYLOAD = {"invoke": '{"n": {n}, "id": "{uuid}", "sent": {now}}',
                   "s3": '{"n": {n}, "id": "{uuid}", "sent": {now}}',
                   "ddb": '{"id": "{uuid}", "n": {n}, "sent": {now}}',
                   "http": ""}


def signature(service: str) -> str:
    """An Authorization header naming `service` in its credential scope (not verified)."""
    return (f"AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/{service}/aws4_request, "
            "SignedHeaders=host, Signature=0")


@dataclass(frozen=True)
class Target:
    kind: str
    name: str  # function, bucket, table, or the stage path
    prefix: str = ""  # s3 key prefix
    method: str = "POST"  # http only

    @classmethod
    def parse(cls, text: str) -> Target:
        kind, _, rest = text.partition(":")
        if kind not in KINDS or not rest.strip():
            raise LoadError(f"target {text!r}: use invoke:NAME, s3:BUCKET/PREFIX, ddb:TABLE or "
                            "'http:METHOD /path'")
        rest = rest.strip()
        if kind == "s3":
            bucket, _, prefix = rest.partition("/")
            return cls(kind, bucket, prefix=prefix)
        if kind == "http":
            method, _, path = rest.partition(" ")
            if method.upper() not in HTTP_METHODS or not path.strip().startswith("/"):
                raise LoadError(f"target {text!r}: use 'http:METHOD /path', e.g. "
                                "'http:GET /items/{n}'")
            return cls(kind, path.strip(), method=method.upper())
        return cls(kind, rest)

    def __str__(self) -> str:
        if self.kind == "s3":
            return f"s3:{self.name}/{self.prefix}"
        if self.kind == "http":
            return f"http:{self.method} {self.name}"
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes


def render(template: str, n: int, now: float | None = None) -> str:
    """`template` with `{n}` (the event's number), `{uuid}`, `{now}` (epoch seconds),
    `{now_ms}` and `{rand}` (0..1) replaced; every other brace is left as it is (JSON)."""
    moment = time.time() if now is None else now
    values = {"n": lambda: str(n), "uuid": lambda: uuid.uuid4().hex,
              "now": lambda: f"{moment:.6f}", "now_ms": lambda: str(int(moment * 1000)),
              "rand": lambda: f"{random.random():.6f}"}
    return VARIABLES.sub(lambda match: values[match[1]](), template)


def dynamodb_value(value: Any) -> dict[str, Any]:
    """A plain JSON value in DynamoDB's typed form."""
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, int | float):
        return {"N": repr(value)}
    if isinstance(value, str):
        return {"S": value}
    if value is None:
        return {"NULL": True}
    if isinstance(value, list):
        return {"L": [dynamodb_value(item) for item in value]}
    return {"M": {key: dynamodb_value(item) for key, item in value.items()}}


class Builder:
    """Builds event `n`'s request for a target; `trace_header` makes the event a trace root."""

    def __init__(self, target: Target, endpoint: str, stage: str = "", payload: str | None = None,
                 key: str = "{n}-{uuid}", invocation_type: str = "Event") -> None:
        self.target, self.endpoint, self.stage = target, endpoint.rstrip("/"), stage.rstrip("/")
        self.payload = DEFAULT_PAYLOAD[target.kind] if payload is None else payload
        self.key, self.invocation_type = key, invocation_type
        if target.kind == "http" and not self.stage:
            raise LoadError("the API Gateway stage is off: start ripple with --api-port")
        self.base_url = self.stage if target.kind == "http" else self.endpoint
        if target.kind == "ddb":
            self._check_json(render(self.payload, 0))

    def _check_json(self, text: str) -> dict[str, Any]:
        try:
            item = json.loads(text)
        except ValueError as error:
            raise LoadError(f"--payload for a DynamoDB item must be a JSON object: {error}") \
                from None
        if not isinstance(item, dict):
            raise LoadError("--payload for a DynamoDB item must be a JSON object")
        return item

    def build(self, n: int, trace_header: str) -> Request:
        now = time.time()
        body = render(self.payload, n, now).encode()
        headers = {"X-Amzn-Trace-Id": trace_header}
        kind = self.target.kind
        if kind == "invoke":
            headers["X-Amz-Invocation-Type"] = self.invocation_type
            return Request("POST", f"{self.endpoint}/2015-03-31/functions/"
                           f"{quote(self.target.name)}/invocations", headers, body)
        if kind == "s3":
            key = self.target.prefix + render(self.key, n, now)
            headers.update({"Authorization": signature("s3"),
                            "x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
            return Request("PUT", f"{self.endpoint}/{quote(self.target.name)}/{quote(key)}",
                           headers, body)
        if kind == "ddb":
            item = {key: dynamodb_value(value)
                    for key, value in self._check_json(body.decode()).items()}
            headers.update({"X-Amz-Target": "DynamoDB_20120810.PutItem",
                            "Content-Type": "application/x-amz-json-1.0",
                            "Authorization": signature("dynamodb")})
            return Request("POST", self.endpoint + "/", headers,
                           json.dumps({"TableName": self.target.name, "Item": item}).encode())
        path = render(self.target.name, n, now)
        return Request(self.target.method, self.stage + path, headers, body)


def trace_header(now: float | None = None) -> tuple[str, str]:
    """A new X-Ray root id and the header that starts a trace with it, leaving the sampling
    decision to ripple (`Sampled=?`, as X-Ray words it): `OTEL_TRACES_SAMPLER` applies."""
    root = f"1-{int(time.time() if now is None else now):08x}-{uuid.uuid4().hex[:24]}"
    return root, f"Root={root};Sampled=?"
