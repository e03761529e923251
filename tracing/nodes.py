"""Which node of the service map a span enters or calls, and how its request ended.

A node's identity comes from span attributes (`faas.name`, `aws.s3.bucket`,
`aws.dynamodb.table_names`, `ripple.apigateway.stage`), never from the `service.name` of
ripple's own processes, which names the process that happened to record the span (the endpoint
`ripple-endpoint`, workers `ripple-worker`, the environments' template `warm`, an environment
its function, with `faas.name` in its resource). A service ripple does not run (a plain OTel
program) is named by its `service.name`, as X-Ray names it: its SERVER and CONSUMER spans, and
its root spans, enter a node of that name, typed by `tracing.origins`.

How spans group into node occurrences and calls: `tracing.topology`.
"""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

from tracing.origins import node_type
from tracing.spans import Span, SpanKind, StatusCode

CLIENT_TYPE = "client"
STAGE = "AWS::ApiGateway::Stage"
LAMBDA = "AWS::Lambda"
FUNCTION = "AWS::Lambda::Function"
BUCKET = "AWS::S3::Bucket"
TABLE = "AWS::DynamoDB::Table"
REMOTE = "remote"
CALLS = (SpanKind.CLIENT, SpanKind.PRODUCER)
# An X-Ray segment's own `error` / `throttle` flag, kept when it came with no HTTP status.
OUTCOME_FLAG = "ripple.xray.outcome"
RIPPLE_PROCESSES = frozenset({"ripple-endpoint", "ripple-worker", "warm"})  # service.name


class Node(NamedTuple):
    """A service map node: X-Ray identifies a service by its name and type (a tuple: built
    for every span the map counts, and a frozen dataclass costs several times more)."""

    name: str
    type: str


CLIENT = Node("client", CLIENT_TYPE)


class Outcome(Enum):
    """X-Ray's classification of one request."""

    OK = "ok"
    ERROR = "error"  # 4xx other than 429
    THROTTLE = "throttle"  # 429 (X-Ray counts throttles among errors)
    FAULT = "fault"  # 5xx, or an unhandled error, timeout or out-of-memory

    @property
    def is_error(self) -> bool:
        return self in (Outcome.ERROR, Outcome.THROTTLE)


def status_code(span: Span) -> int | None:
    """The HTTP status of the span's response, if it had one."""
    code = span.attributes.get("http.response.status_code", span.attributes.get("http.status_code"))
    try:
        return int(code) if code is not None else None
    except (TypeError, ValueError):
        return None


def outcome(span: Span) -> Outcome:
    """Ok, error (4xx), throttle (429) or fault (5xx or span status ERROR)."""
    code = status_code(span)
    flag = span.attributes.get(OUTCOME_FLAG)
    if code == 429 or span.attributes.get("ripple.lambda.throttled") is True or flag == "throttle":
        return Outcome.THROTTLE
    if (code is not None and 400 <= code < 500) or flag == "error":
        return Outcome.ERROR
    if (code is not None and code >= 500) or span.status == StatusCode.ERROR:
        return Outcome.FAULT
    return Outcome.OK


def _first_table(span: Span) -> str | None:
    tables = span.attributes.get("aws.dynamodb.table_names")
    if isinstance(tables, str):
        return tables or None
    if isinstance(tables, (list, tuple)) and tables:
        return str(tables[0])
    return None


def _aws_resource(span: Span) -> Node | None:
    """The S3 bucket or DynamoDB table an `aws-api` call is about."""
    service = span.attributes.get("rpc.service")
    if service == "S3" and span.attributes.get("aws.s3.bucket"):
        return Node(str(span.attributes["aws.s3.bucket"]), BUCKET)
    table = _first_table(span) if service == "DynamoDB" else None
    return Node(table, TABLE) if table else None


def entry_node(span: Span) -> Node | None:
    """The node `span` enters, or None when it stays in its parent's node."""
    attributes = span.attributes
    if span.kind == SpanKind.SERVER:
        if attributes.get("rpc.system") == "aws-api":
            return _aws_resource(span)  # Lambda's Invoke API: the CONSUMER span is the node
        if attributes.get("ripple.apigateway.stage") is not None:
            api = attributes.get("ripple.apigateway.api")
            stage = str(attributes["ripple.apigateway.stage"])
            return Node(f"{api}/{stage}" if api else stage, STAGE)
        if attributes.get("faas.name"):
            return Node(str(attributes["faas.name"]), FUNCTION)
    if span.kind == SpanKind.CONSUMER and attributes.get("faas.name"):
        return Node(str(attributes["faas.name"]), LAMBDA)
    return _outside_service(span)


def _outside_service(span: Span) -> Node | None:
    """The node of a service ripple does not run, for a span that enters one (a SERVER or
    CONSUMER span, or a root span that is not itself a call)."""
    entering = span.kind in (SpanKind.SERVER, SpanKind.CONSUMER) or (
        not span.parent_span_id and span.kind not in CALLS)
    name = span.resource.get("service.name")
    if not entering or not name or name in RIPPLE_PROCESSES or "faas.name" in span.resource:
        return None
    return Node(str(name), node_type(span.attributes, span.resource))


def call_target(span: Span) -> Node:
    """The node a CLIENT or PRODUCER span calls, inferred from its own attributes."""
    attributes = span.attributes
    if attributes.get("rpc.system") == "aws-api":
        service = str(attributes.get("rpc.service") or "aws")
        if service == "Lambda" and attributes.get("faas.invoked_name"):
            return Node(str(attributes["faas.invoked_name"]), LAMBDA)
        return _aws_resource(span) or Node(service, REMOTE)
    if attributes.get("messaging.system") == "ripple":
        name = attributes.get("faas.invoked_name") or attributes.get("messaging.destination.name")
        if name:
            return Node(str(name), LAMBDA)
    for key in ("server.address", "net.peer.name", "messaging.destination.name",
                "messaging.system", "rpc.service"):
        if attributes.get(key):
            return Node(str(attributes[key]), REMOTE)
    return Node(span.name or "remote", REMOTE)
