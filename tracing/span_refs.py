"""Spans as the viewer's API names them (a "span ref"): ids, name, node, kind, times, outcome,
the Lambda request id and the AWS operation. Shared by `why` and `compare`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from tracing.nodes import Node, outcome
from tracing.spans import Span
from tracing.topology import topology

NodeOf = dict[tuple[str, str], Node]  # span key → the node it belongs to


def nodes_of(spans: Iterable[Span]) -> NodeOf:
    """Which node each span belongs to (`tracing/topology.py`'s occurrences)."""
    return {span_key: occurrence.node for span_key, occurrence in topology(spans).owner.items()}


def operation(span: Span) -> str | None:
    """`S3.PutObject`, `DynamoDB.PutItem`, `Lambda.Invoke`: the AWS API a span calls or serves."""
    attributes = span.attributes
    if attributes.get("rpc.system") != "aws-api":
        return None
    method = attributes.get("rpc.method")
    return f"{attributes.get('rpc.service')}.{method}" if method else None


def label(span: Span, node: Node) -> str:
    """`<node name> <operation>` (the span's own name when it has no operation, or the node
    alone when the span is named after it)."""
    what = operation(span) or span.name
    return node.name if what == node.name else f"{node.name} {what}"


def span_ref(span: Span, node: Node) -> dict[str, Any]:
    request_id = span.attributes.get("faas.invocation_id")
    return {"trace_id": span.trace_id, "span_id": span.span_id, "name": span.name,
            "node": {"name": node.name, "type": node.type}, "kind": span.kind.name,
            "start": span.start_ns / 1e9, "end": span.end_ns / 1e9,
            "status": outcome(span).value,
            "request_id": str(request_id) if request_id else None,
            "operation": operation(span)}
