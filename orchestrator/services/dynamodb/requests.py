"""What every item operation shares: a request's expressions and placeholders, ReturnValues,
and the write loop (read, decide, compare-and-swap) that makes one write atomic."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from orchestrator.services.dynamodb import expressions, legacy
from orchestrator.services.dynamodb.errors import (
    ConditionalCheckFailed,
    InternalServerError,
    ValidationError,
)
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.expressions.paths import check_no_overlap
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.store import Store, Write
from orchestrator.services.dynamodb.types import Item

MAX_ATTEMPTS = 10_000


_LEGACY_CONDITIONS = {"ConditionExpression": ("Expected",),
                      "FilterExpression": ("QueryFilter", "ScanFilter"),
                      "KeyConditionExpression": ("KeyConditions",)}


class Expressions:
    """The expressions of one request, resolved against the request's placeholders."""

    def __init__(self, request: dict[str, Any]) -> None:
        legacy.check_not_mixed(request)
        self.request = request
        self.placeholders = expressions.Placeholders(request.get("ExpressionAttributeNames"),
                                                     request.get("ExpressionAttributeValues"))
        self.used = False

    def _text(self, name: str) -> str | None:
        text = self.request.get(name)
        if text is None:
            return None
        if not isinstance(text, str):
            raise ValidationError(f"Invalid {name}: expected a string")
        self.used = True
        return text

    def condition(self, name: str = "ConditionExpression") -> ast.Condition | None:
        given = next((self.request[legacy_name] for legacy_name in _LEGACY_CONDITIONS[name]
                      if legacy_name in self.request), None)
        if given is not None:
            operator = None if name == "KeyConditionExpression" else \
                self.request.get("ConditionalOperator")  # key conditions are always AND-ed
            return legacy.conditions(given, operator, expected=name == "ConditionExpression")
        text = self._text(name)
        if text is None:
            return None
        return self.placeholders.resolve(expressions.parse_condition(text, name), name)

    def update(self) -> ast.Update | None:
        if "AttributeUpdates" in self.request:
            return legacy.attribute_updates(self.request["AttributeUpdates"])
        text = self._text("UpdateExpression")
        if text is None:
            return None
        return self.placeholders.resolve(expressions.parse_update(text), "UpdateExpression")

    def projection(self) -> list[ast.Path] | None:
        if "AttributesToGet" in self.request:
            return legacy.projection(self.request["AttributesToGet"])
        text = self._text("ProjectionExpression")
        if text is None:
            return None
        paths = self.placeholders.resolve(expressions.parse_projection(text),
                                          "ProjectionExpression").paths
        check_no_overlap(list(paths), "ProjectionExpression")
        return list(paths)

    def done(self) -> None:
        """After all expressions are read: placeholders given without expressions, or unused."""
        if not self.used:
            if self.placeholders.names:
                raise ValidationError("ExpressionAttributeNames can only be specified when using "
                                      "expressions")
            if self.placeholders.values:
                raise ValidationError("ExpressionAttributeValues can only be specified when "
                                      "using expressions")
        self.placeholders.check_all_used()


def return_values(request: dict[str, Any], allowed: tuple[str, ...]) -> str:
    value = request.get("ReturnValues") or "NONE"
    if value not in allowed:
        raise ValidationError("Return values set to invalid value")
    return str(value)


def check_condition(condition: ast.Condition | None, old: Item | None,
                    request: dict[str, Any]) -> None:
    """ConditionalCheckFailedException (with the old item if asked for) when it is false."""
    if condition is not None and not expressions.holds(condition, old):
        wants_item = request.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD"
        raise ConditionalCheckFailed(old if wants_item and old is not None else None)


def write_one(store: Store, table: Table, key: Item,
              change: Callable[[Item | None], Item | None]) -> tuple[Item | None, Item | None]:
    """Read the item, let `change` decide the new one (None deletes; raising writes nothing),
    and swap it in atomically; retried while other writers get there first."""
    with store.locked([(table, key)]):
        for _ in range(MAX_ATTEMPTS):
            raw, old = store.read(table, key)
            new = change(old)
            if store.commit([Write(table, key, raw, new)]):
                return old, new
    raise InternalServerError("The item is under too much contention: try again")
