"""Placeholders to names and values: ExpressionAttributeNames/Values checked the way DynamoDB
checks them (syntax of keys, undefined, unused) and literal operands checked for type."""

from __future__ import annotations

import dataclasses
from typing import Any, TypeVar

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.expressions.reserved import is_reserved

Node = TypeVar("Node")
ORDERED = {"<", "<=", ">", ">="}
TYPE_NAMES = {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}


class Placeholders:
    """One request's ExpressionAttributeNames and Values, shared by all of its expressions."""

    def __init__(self, names: Any, values: Any) -> None:
        self.names = self._names(names)
        self.values = self._values(values)
        self.used_names: set[str] = set()
        self.used_values: set[str] = set()

    @staticmethod
    def _names(names: Any) -> dict[str, str]:
        if names is None:
            return {}
        if not isinstance(names, dict) or not names:
            raise ValidationError("ExpressionAttributeNames must not be empty")
        for key in names:
            if not key.startswith("#") or len(key) < 2:
                raise ValidationError("ExpressionAttributeNames contains invalid key: Syntax "
                                      f'error; key: "{key}"')
        return {str(key): str(value) for key, value in names.items()}

    @staticmethod
    def _values(values: Any) -> dict[str, types.AttributeValue]:
        if values is None:
            return {}
        if not isinstance(values, dict) or not values:
            raise ValidationError("ExpressionAttributeValues must not be empty")
        resolved = {}
        for key, value in values.items():
            if not key.startswith(":") or len(key) < 2:
                raise ValidationError("ExpressionAttributeValues contains invalid key: Syntax "
                                      f'error; key: "{key}"')
            try:
                resolved[key] = types.validate_value(value)
            except ValidationError as error:
                raise ValidationError("ExpressionAttributeValues contains invalid value: "
                                      f"{error.message} for key {key}") from None
        return resolved

    def given(self) -> bool:
        return bool(self.names or self.values)

    def check_all_used(self) -> None:
        """DynamoDB refuses placeholders that no expression of the request uses."""
        unused_values = sorted(set(self.values) - self.used_values)
        if unused_values:
            raise ValidationError("Value provided in ExpressionAttributeValues unused in "
                                  f"expressions: keys: {{{', '.join(unused_values)}}}")
        unused_names = sorted(set(self.names) - self.used_names)
        if unused_names:
            raise ValidationError("Value provided in ExpressionAttributeNames unused in "
                                  f"expressions: keys: {{{', '.join(unused_names)}}}")

    def resolve(self, node: Node, kind: str) -> Node:
        """`node` with every `#name` and `:value` replaced; `kind` names the expression."""
        resolved = self._walk(node, kind)
        _check_literals(resolved, kind)
        return resolved  # type: ignore[no-any-return]

    def _walk(self, node: Any, kind: str) -> Any:
        if isinstance(node, ast.Path):
            return ast.Path(tuple(self._name(element, kind) for element in node.elements))
        if isinstance(node, ast.ValueRef):
            if node.name not in self.values:
                raise ValidationError(f"Invalid {kind}: An expression attribute value used in "
                                      f"expression is not defined; attribute value: {node.name}")
            self.used_values.add(node.name)
            return ast.Literal(self.values[node.name])
        if isinstance(node, tuple):
            return tuple(self._walk(child, kind) for child in node)
        if dataclasses.is_dataclass(node) and not isinstance(node, ast.Literal):
            changes = {field.name: self._walk(getattr(node, field.name), kind)
                       for field in dataclasses.fields(node)}
            return dataclasses.replace(node, **changes)  # type: ignore[type-var]
        return node

    def _name(self, element: ast.PathElement, kind: str) -> ast.PathElement:
        if isinstance(element, str) and element.startswith("#"):
            if element not in self.names:
                raise ValidationError(f"Invalid {kind}: An expression attribute name used in the "
                                      f"document path is not defined; attribute name: {element}")
            self.used_names.add(element)
            return self.names[element]
        if isinstance(element, str) and is_reserved(element):
            raise ValidationError(f"Invalid {kind}: Attribute name is a reserved keyword; "
                                  f"reserved keyword: {element}")
        return element


def _operand_type(kind: str, function: str, value: types.AttributeValue) -> ValidationError:
    return ValidationError(f"Invalid {kind}: Incorrect operand type for operator or function; "
                           f"operator or function: {function}, operand type: "
                           f"{types.type_of(value)}")


def _unordered(operand: Any) -> bool:
    """A literal operand of a type that <, >, BETWEEN cannot order."""
    return isinstance(operand, ast.Literal) and \
        types.type_of(operand.value) not in types.SCALAR_KEY_TYPES


def _check_literals(node: Any, kind: str) -> None:
    """Type errors DynamoDB finds before reading the item, from literal operands alone."""
    if isinstance(node, ast.Compare) and node.operator in ORDERED:
        for side in (node.left, node.right):
            if isinstance(side, ast.Literal) and _unordered(side):
                raise _operand_type(kind, node.operator, side.value)
    if isinstance(node, ast.Between):
        for side in (node.operand, node.low, node.high):
            if isinstance(side, ast.Literal) and _unordered(side):
                raise _operand_type(kind, "BETWEEN", side.value)
        if isinstance(node.low, ast.Literal) and isinstance(node.high, ast.Literal):
            order = types.compare(node.low.value, node.high.value)
            if order is not None and order > 0:
                low, high = (types.key_text(node.low.value), types.key_text(node.high.value))
                raise ValidationError(
                    f"Invalid {kind}: The BETWEEN operator requires upper bound to be greater "
                    f"than or equal to lower bound; lower bound operand: AttributeValue: {low}, "
                    f"upper bound operand: AttributeValue: {high}")
    if isinstance(node, ast.Function):
        _check_function(node, kind)
    if isinstance(node, tuple):
        for child in node:
            _check_literals(child, kind)
    elif dataclasses.is_dataclass(node) and not isinstance(node, ast.Literal):
        for field in dataclasses.fields(node):
            _check_literals(getattr(node, field.name), kind)


def _check_function(function: ast.Function, kind: str) -> None:
    args = function.args
    if function.name == "attribute_type":
        kind_arg = args[1]
        if isinstance(kind_arg, ast.Literal):
            if types.type_of(kind_arg.value) != "S":
                raise _operand_type(kind, function.name, kind_arg.value)
            if kind_arg.value["S"] not in TYPE_NAMES:
                raise ValidationError(f"Invalid {kind}: Invalid attribute type name found in "
                                      "type argument of attribute_type function; type: "
                                      f"{kind_arg.value['S']}")
    if function.name == "begins_with":
        for arg in args:
            if isinstance(arg, ast.Literal) and types.type_of(arg.value) not in ("S", "B"):
                raise _operand_type(kind, function.name, arg.value)
    if function.name == "list_append":
        for arg in args:
            if isinstance(arg, ast.Literal) and types.type_of(arg.value) != "L":
                raise _operand_type(kind, function.name, arg.value)
