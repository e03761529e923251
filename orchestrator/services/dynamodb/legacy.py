"""The legacy (pre-expression) parameters, turned into the expression trees the operations
already evaluate: AttributesToGet, KeyConditions, QueryFilter, ScanFilter, Expected (with
ConditionalOperator) and AttributeUpdates. A request mixing them with expressions is refused
as DynamoDB refuses it."""

from __future__ import annotations

from typing import Any

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.types import INVALID

LEGACY = ("AttributesToGet", "KeyConditions", "QueryFilter", "ScanFilter", "Expected",
          "ConditionalOperator", "AttributeUpdates")
EXPRESSIONS = ("ProjectionExpression", "KeyConditionExpression", "FilterExpression",
               "ConditionExpression", "UpdateExpression")
# ComparisonOperator → how many values it takes (None: one or more)
ARGUMENTS: dict[str, int | None] = {
    "EQ": 1, "NE": 1, "LE": 1, "LT": 1, "GE": 1, "GT": 1, "NOT_NULL": 0, "NULL": 0,
    "CONTAINS": 1, "NOT_CONTAINS": 1, "BEGINS_WITH": 1, "IN": None, "BETWEEN": 2}
COMPARATORS = {"EQ": "=", "NE": "<>", "LE": "<=", "LT": "<", "GE": ">=", "GT": ">"}


def check_not_mixed(request: dict[str, Any]) -> None:
    legacy = [name for name in LEGACY if name in request]
    modern = [name for name in EXPRESSIONS if name in request]
    if legacy and modern:
        raise ValidationError("Can not use both expression and non-expression parameters in the "
                              f"same request: Non-expression parameters: {{{', '.join(legacy)}}} "
                              f"Expression parameters: {{{', '.join(modern)}}}")
    if "ConditionalOperator" in request and not any(
            name in request for name in ("QueryFilter", "ScanFilter", "Expected")):
        raise ValidationError("ConditionalOperator can only be used when Filter or Expected has "
                              "been specified")


def projection(names: Any) -> list[ast.Path]:
    if not isinstance(names, list) or not names:
        raise ValidationError("1 validation error detected: Value '[]' at 'attributesToGet' "
                              "failed to satisfy constraint: Member must have length greater "
                              "than or equal to 1")
    if len(set(names)) != len(names):
        raise ValidationError(f"{INVALID}Duplicate value in attribute name: "
                              f"{next(n for n in names if names.count(n) > 1)}")
    return [ast.Path((str(name),)) for name in names]


def _literal(value: Any) -> ast.Literal:
    return ast.Literal(types.validate_value(value))


def comparison(name: str, given: Any) -> ast.Condition:
    """One `{"ComparisonOperator": …, "AttributeValueList": […]}` about attribute `name`."""
    operator = given.get("ComparisonOperator") if isinstance(given, dict) else None
    if operator not in ARGUMENTS:
        raise ValidationError(f"1 validation error detected: Value '{operator}' at "
                              "'comparisonOperator' failed to satisfy constraint: Member must "
                              "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, "
                              "EQ, GT, NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]")
    values = [_literal(value) for value in given.get("AttributeValueList") or []]
    wanted = ARGUMENTS[operator]
    if (wanted is None and not values) or (wanted is not None and len(values) != wanted):
        raise ValidationError(f"{INVALID}Invalid number of argument(s) for the {operator} "
                              "ComparisonOperator")
    path = ast.Path((name,))
    if operator in COMPARATORS:
        return ast.Compare(COMPARATORS[operator], path, values[0])
    if operator in ("NOT_NULL", "NULL"):
        exists = "attribute_exists" if operator == "NOT_NULL" else "attribute_not_exists"
        return ast.FunctionCondition(ast.Function(exists, (path,)))
    if operator == "IN":
        return ast.In(path, tuple(values))
    if operator == "BETWEEN":
        return ast.Between(path, values[0], values[1])
    function = {"CONTAINS": "contains", "NOT_CONTAINS": "contains",
                "BEGINS_WITH": "begins_with"}[operator]
    condition = ast.FunctionCondition(ast.Function(function, (path, values[0])))
    return ast.Not(condition) if operator == "NOT_CONTAINS" else condition


def _expected_one(name: str, given: Any) -> ast.Condition:
    if not isinstance(given, dict):
        raise ValidationError(f"{INVALID}Expected: attribute {name} has no condition")
    if "ComparisonOperator" in given:
        if "Value" in given or "Exists" in given:
            raise ValidationError(f"{INVALID}Value or Exists cannot be used with "
                                  f"ComparisonOperator for Attribute: {name}")
        return comparison(name, given)
    exists = given.get("Exists", True)
    if not exists:
        if "Value" in given:
            raise ValidationError(f"{INVALID}Value cannot be used when Exists is false for "
                                  f"Attribute: {name}")
        return ast.FunctionCondition(ast.Function("attribute_not_exists", (ast.Path((name,)),)))
    if "Value" not in given:
        raise ValidationError(f"{INVALID}Value must be provided when Exists is true for "
                              f"Attribute: {name}")
    return ast.Compare("=", ast.Path((name,)), _literal(given["Value"]))


def conditions(given: Any, operator: Any, expected: bool = False) -> ast.Condition | None:
    """Expected, QueryFilter, ScanFilter or KeyConditions as one condition."""
    if not isinstance(given, dict) or not given:
        return None
    if operator not in (None, "AND", "OR"):
        raise ValidationError(f"1 validation error detected: Value '{operator}' at "
                              "'conditionalOperator' failed to satisfy constraint: Member must "
                              "satisfy enum value set: [AND, OR]")
    parts = [(_expected_one if expected else comparison)(name, value)
             for name, value in given.items()]
    joined = parts[0]
    for part in parts[1:]:
        joined = ast.Or(joined, part) if operator == "OR" else ast.And(joined, part)
    return joined


def attribute_updates(given: Any) -> ast.Update:
    actions: list[ast.Action] = []
    for name, update in (given or {}).items():
        action, path = update.get("Action", "PUT"), ast.Path((str(name),))
        value = _literal(update["Value"]) if "Value" in update else None
        if action == "PUT":
            if value is None:
                raise ValidationError(f"{INVALID}Only DELETE action is allowed when no attribute "
                                      f"value is specified: {name}")
            actions.append(ast.SetAction(path, value))
        elif action == "DELETE":
            actions.append(ast.DeleteAction(path, value) if value else ast.RemoveAction(path))
        elif action == "ADD":
            if value is None:
                raise ValidationError(f"{INVALID}Only DELETE action is allowed when no attribute "
                                      f"value is specified: {name}")
            actions.append(ast.AddAction(path, value))
        else:
            raise ValidationError(f"1 validation error detected: Value '{action}' at "
                                  f"'attributeUpdates.{name}.member.action' failed to satisfy "
                                  "constraint: Member must satisfy enum value set: "
                                  "[ADD, PUT, DELETE]")
    return ast.Update(tuple(actions))
