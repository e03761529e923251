"""X-Ray's blocks as the span attributes and events ripple reads (`tracing/nodes.py`,
`tracing/segments.py`, the filters): `http` as OTel's `http.*`/`url.*`, `aws` as `rpc.*` and
`aws.*`, annotations as `ripple.annotation.<key>`, metadata as `ripple.*`, `cause` as
`exception` events."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from tracing.spans import SpanEvent

# The X-Ray SDKs name an AWS call's subsegment by the service's endpoint prefix ("dynamodb");
# X-Ray's console, ripple's nodes and OTel's `rpc.service` use the service's name ("DynamoDB").
SERVICES = {"s3": "S3", "dynamodb": "DynamoDB", "lambda": "Lambda", "sqs": "SQS",
            "sns": "SNS", "kinesis": "Kinesis", "states": "SFN", "events": "EventBridge",
            "xray": "XRay", "sts": "STS", "ssm": "SSM", "secretsmanager": "SecretsManager"}
_AWS_FIELDS = {"bucket_name": "aws.s3.bucket", "key": "aws.s3.key",
               "function_name": "faas.invoked_name", "request_id": "aws.request_id",
               "region": "cloud.region", "queue_url": "aws.sqs.queue_url",
               "account_id": "cloud.account.id"}
# What segments.py files under metadata["ripple"] without the `ripple.` prefix.
_UNPREFIXED = ("faas.coldstart", "faas.trigger", "faas.invocation_id")


def block(part: dict[str, Any], name: str) -> dict[str, Any]:
    """The object `part[name]`, or an empty one when it is missing or not an object."""
    value = part.get(name)
    return value if isinstance(value, dict) else {}


def http_attributes(http: dict[str, Any]) -> dict[str, Any]:
    """`http.request` and `http.response` as OTel's attributes."""
    request, response = block(http, "request"), block(http, "response")
    attributes: dict[str, Any] = {}
    for field, name in (("method", "http.request.method"), ("url", "url.full"),
                        ("user_agent", "user_agent.original"), ("client_ip", "client.address")):
        if isinstance(request.get(field), str):
            attributes[name] = request[field]
    url = attributes.get("url.full")
    if url:
        try:
            host = urlsplit(url).hostname
        except ValueError:
            host = None
        if host:
            attributes["server.address"] = host
    for field, name in (("status", "http.response.status_code"),
                        ("content_length", "http.response.body.size")):
        value = response.get(field)
        if isinstance(value, int | float) and not isinstance(value, bool):
            attributes[name] = int(value)
    return attributes


def service_name(name: str) -> str:
    """X-Ray's name for the AWS service an SDK's subsegment calls."""
    return SERVICES.get(name.lower(), name)


def aws_attributes(block: dict[str, Any], call_name: str | None) -> dict[str, Any]:
    """The `aws` block: `rpc.*` for an AWS call (`call_name` is the subsegment's name, for a
    `namespace: aws` subsegment), and the resource it touched."""
    attributes: dict[str, Any] = {}
    if call_name is not None or block.get("operation"):
        attributes["rpc.system"] = "aws-api"
        service = service_name(call_name) if call_name else ""
        if not service and block.get("function_name"):
            service = "Lambda"
        if service:
            attributes["rpc.service"] = service
        if block.get("operation"):
            attributes["rpc.method"] = str(block["operation"])
    for field, name in _AWS_FIELDS.items():
        if block.get(field) is not None:
            attributes[name] = str(block[field])
    if block.get("table_name") is not None:
        attributes["aws.dynamodb.table_names"] = [str(block["table_name"])]
    elif isinstance(block.get("table_names"), list):
        attributes["aws.dynamodb.table_names"] = [str(table) for table in block["table_names"]]
    return attributes


def annotation_attributes(annotations: dict[str, Any]) -> dict[str, Any]:
    """Annotations as `ripple.annotation.<key>`: what BatchGetTraces and `annotation.k = "v"`
    filters read back."""
    return {f"ripple.annotation.{key}": value for key, value in annotations.items()}


def metadata_attributes(metadata: dict[str, Any]) -> dict[str, Any]:
    """Metadata by namespace: ripple's own back to the attributes it came from, any other
    namespace as one `ripple.metadata.<namespace>` object."""
    attributes: dict[str, Any] = {}
    for namespace, values in metadata.items():
        if namespace != "ripple":
            attributes[f"ripple.metadata.{namespace}"] = values
            continue
        for key, value in values.items():
            if key.startswith("annotation."):
                continue  # annotations come from the annotations block only
            attributes[key if key in _UNPREFIXED else f"ripple.{key}"] = value
    return attributes


def exception_events(cause: Any, time_ns: int) -> tuple[SpanEvent, ...]:
    """`cause.exceptions` as OTel `exception` events, stack frames in Python's traceback
    form (which segments.py parses back into frames)."""
    if not isinstance(cause, dict) or not isinstance(cause.get("exceptions"), list):
        return ()
    events = []
    for exception in cause["exceptions"]:
        if not isinstance(exception, dict):
            continue
        attributes: dict[str, Any] = {
            "exception.type": str(exception.get("type") or "Exception"),
            "exception.message": str(exception.get("message") or "")}
        frames = [frame for frame in exception.get("stack") or [] if isinstance(frame, dict)]
        if frames:
            attributes["exception.stacktrace"] = "Traceback (most recent call last):\n" + "".join(
                f'  File "{frame.get("path", "?")}", line {_line(frame)}, '
                f'in {frame.get("label", "?")}\n' for frame in frames)
        if exception.get("remote") is True:
            attributes["ripple.exception.remote"] = True
        events.append(SpanEvent("exception", time_ns, attributes))
    return tuple(events)


def _line(frame: dict[str, Any]) -> int:
    line = frame.get("line")
    return line if isinstance(line, int) and not isinstance(line, bool) else 0
