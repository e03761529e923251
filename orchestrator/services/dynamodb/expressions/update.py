"""Applying a resolved UpdateExpression: SET, REMOVE, ADD and DELETE, all computed from the
item as it was before the update (DynamoDB evaluates every operand first, then writes)."""

from __future__ import annotations

import copy

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.expressions.evaluate import WRONG_TYPE, update_value
from orchestrator.services.dynamodb.expressions.paths import (
    check_no_overlap,
    get_path,
    remove_path,
    set_path,
)
from orchestrator.services.dynamodb.types import AttributeValue, Item

SETS = ("SS", "NS", "BS")


def action_paths(update: ast.Update) -> list[ast.Path]:
    return [action.path for action in update.actions]


def check_update(update: ast.Update, key_names: list[str]) -> None:
    """Refusals that need no item: overlapping paths, key attributes, ADD/DELETE operand types."""
    check_no_overlap(action_paths(update), "UpdateExpression")
    for action in update.actions:
        top = action.path.elements[0]
        if top in key_names:
            raise ValidationError(f"{types.INVALID}Cannot update attribute {top}. This attribute "
                                  "is part of the key")
        if isinstance(action, ast.AddAction | ast.DeleteAction):
            assert isinstance(action.value, ast.Literal)
            kind = types.type_of(action.value.value)
            allowed = ("N", *SETS) if isinstance(action, ast.AddAction) else SETS
            if kind not in allowed:
                operator = "ADD" if isinstance(action, ast.AddAction) else "DELETE"
                raise ValidationError("Invalid UpdateExpression: Incorrect operand type for "
                                      f"operator or function; operator: {operator}, operand "
                                      f"type: {_type_word(kind)}")


def _type_word(kind: str) -> str:
    return {"S": "STRING", "N": "NUMBER", "B": "BINARY", "BOOL": "BOOLEAN", "NULL": "NULL",
            "L": "LIST", "M": "MAP", "SS": "STRING SET", "NS": "NUMBER SET",
            "BS": "BINARY SET"}[kind]


def apply_update(update: ast.Update, old: Item) -> Item:
    """The new item; `old` is left untouched."""
    writes: list[tuple[ast.Path, AttributeValue | None]] = []
    for action in update.actions:
        writes.append((action.path, _new_value(action, old)))
    new = copy.deepcopy(old)
    # Removing list elements by their original indexes: highest first, so none shifts another.
    # (Index or not, element) keeps `m.a` and `m[0]` comparable: str and int do not order.
    removes = sorted((path for path, value in writes if value is None),
                     key=lambda path: [(isinstance(e, int), e) for e in path.elements],
                     reverse=True)
    for path, value in writes:
        if value is not None:
            set_path(new, path, copy.deepcopy(value))
    for path in removes:
        remove_path(new, path)
    return new


def _new_value(action: ast.Action, old: Item) -> AttributeValue | None:
    """What the action writes at its path; None removes the value there."""
    if isinstance(action, ast.SetAction):
        return update_value(action.value, old)
    if isinstance(action, ast.RemoveAction):
        return None
    assert isinstance(action.value, ast.Literal)
    operand = action.value.value
    existing = get_path(old, action.path)
    if isinstance(action, ast.AddAction):
        if existing is None:
            return operand
        if types.type_of(existing) != types.type_of(operand):
            raise ValidationError(WRONG_TYPE)
        if types.type_of(operand) == "N":
            try:
                total = types.NUMBER_CONTEXT.add(types.number_of(existing),
                                                 types.number_of(operand))
            except ArithmeticError:
                raise ValidationError(types.OVERFLOW) from None
            return types.number_value(total)
        return types.set_union(existing, operand)
    if existing is None:
        return None
    if types.type_of(existing) != types.type_of(operand):
        raise ValidationError(WRONG_TYPE)
    return types.set_difference(existing, operand)
