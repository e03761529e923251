"""A request's JSON checked against its operation's input shape, from botocore's own model of
DynamoDB (and DynamoDB Streams), before any operation reads it.

DynamoDB's front end deserializes a request into its model first and answers a value of the
wrong JSON type with a SerializationException (`Start of list found where not expected`,
`NUMBER_VALUE cannot be converted to String`); the operations then see only well-typed input.
Doing the same here keeps `TotalSegments: [..]` or `TransactItems: [null]` out of operation
code, where each would have been a TypeError and a 500. Members the model does not know are
left alone, and a member given as null counts as absent, as the front end treats both.

The walk is iterative: an attribute value nests as deep as the JSON decoder allowed (about
1,000 levels), past what a recursive walk could follow.
"""

from __future__ import annotations

import functools
from typing import Any

import botocore.session
from botocore.model import Shape

from orchestrator.services.dynamodb.errors import SerializationError

_SERVICES = {"DynamoDB": "dynamodb", "DynamoDBStreams": "dynamodbstreams"}
_NUMBER_NAMES = {"integer": "an Integer", "long": "a Long", "double": "a Double"}


@functools.cache
def _input_shape(target: str) -> Shape | None:
    """The input shape of `DynamoDB_20120810.PutItem` and the like; None if unknown."""
    prefix, _, operation = target.rpartition(".")
    service = _SERVICES.get(prefix.split("_", 1)[0])
    if service is None:
        return None
    model = _session().get_service_model(service)
    if operation not in model.operation_names:
        return None
    return model.operation_model(operation).input_shape


@functools.cache
def _session() -> botocore.session.Session:
    return botocore.session.get_session()


def check_request(target: str, request: dict[str, Any]) -> None:
    """SerializationException, worded as DynamoDB words it, for the first value of the wrong
    JSON type; structure members given as null are removed from `request` in place."""
    shape = _input_shape(target)
    if shape is None:
        return
    pending: list[tuple[Any, Shape]] = [(request, shape)]
    while pending:
        value, shape = pending.pop()
        _check_scalar(value, shape)
        if shape.type_name == "structure":
            members = shape.members
            for name in [name for name, member in value.items() if member is None]:
                del value[name]
            pending.extend((member, members[name]) for name, member in value.items()
                           if name in members)
        elif shape.type_name == "list":
            element = shape.member
            pending.extend((member, element) for member in value)
        elif shape.type_name == "map":
            values = shape.value
            pending.extend((member, values) for member in value.values())


def _check_scalar(value: Any, shape: Shape) -> None:
    kind = shape.type_name
    if kind in ("structure", "map"):
        if not isinstance(value, dict):
            raise SerializationError(_unexpected(value, "a structure"))
    elif kind == "list":
        if not isinstance(value, list):
            raise SerializationError(_unexpected(value, "a list"))
    elif kind in ("string", "blob"):
        if not isinstance(value, str):
            raise SerializationError(_unexpected(value, "String"))
    elif kind == "boolean":
        if not isinstance(value, bool):
            raise SerializationError(_unexpected(value, "a Boolean"))
    elif kind in _NUMBER_NAMES:
        whole = kind != "double"
        if isinstance(value, bool) or not isinstance(value, int | float) or (
                whole and isinstance(value, float) and not value.is_integer()):
            raise SerializationError(_unexpected(value, _NUMBER_NAMES[kind]))
    elif kind == "timestamp" and (isinstance(value, bool) or
                                  not isinstance(value, int | float | str)):
        raise SerializationError(_unexpected(value, "a Timestamp"))


def _unexpected(value: Any, wanted: str) -> str:
    if isinstance(value, dict):
        return "Start of structure or map found where not expected"
    if isinstance(value, list):
        return "Start of list found where not expected"
    if value is None or wanted in ("a structure", "a list"):
        return "Unexpected value type in payload"
    token = ("TRUE_VALUE" if value is True else "FALSE_VALUE" if value is False
             else "STRING_VALUE" if isinstance(value, str) else "NUMBER_VALUE")
    if wanted == "String":
        return f"{token} cannot be converted to String"
    return f"{token} can not be converted to {wanted}"
