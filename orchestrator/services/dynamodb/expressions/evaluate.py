"""Evaluating resolved conditions and operands against an item (None: the item is absent)."""

from __future__ import annotations

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.expressions.paths import get_path
from orchestrator.services.dynamodb.types import AttributeValue, Item

MISSING_ATTRIBUTE = "The provided expression refers to an attribute that does not exist in the item"
WRONG_TYPE = "An operand in the update expression has an incorrect data type"


def operand_value(node: ast.Operand, item: Item) -> AttributeValue | None:
    """A condition operand's value: a path's value, a literal, or size(path); None if missing."""
    if isinstance(node, ast.Path):
        return get_path(item, node)
    if isinstance(node, ast.Literal):
        return node.value
    if isinstance(node, ast.Function) and node.name == "size":
        value = operand_value(node.args[0], item)
        size = types.size_function(value) if value is not None else None
        return {"N": str(size)} if size is not None else None
    raise ValidationError(f"Unsupported operand: {node}")


def _compare(operator: str, left: AttributeValue | None, right: AttributeValue | None) -> bool:
    if left is None or right is None:
        return operator == "<>" and (left is not None or right is not None)
    if operator == "=":
        return types.equal(left, right)
    if operator == "<>":
        return not types.equal(left, right)
    order = types.compare(left, right)
    if order is None:
        return False
    return {"<": order < 0, "<=": order <= 0, ">": order > 0, ">=": order >= 0}[operator]


def holds(condition: ast.Condition, item: Item | None) -> bool:
    """Whether a resolved condition is true of `item` (an absent item has no attributes)."""
    item = item or {}
    if isinstance(condition, ast.And):
        return holds(condition.left, item) and holds(condition.right, item)
    if isinstance(condition, ast.Or):
        return holds(condition.left, item) or holds(condition.right, item)
    if isinstance(condition, ast.Not):
        return not holds(condition.operand, item)
    if isinstance(condition, ast.Compare):
        return _compare(condition.operator, operand_value(condition.left, item),
                        operand_value(condition.right, item))
    if isinstance(condition, ast.Between):
        value = operand_value(condition.operand, item)
        return (_compare(">=", value, operand_value(condition.low, item))
                and _compare("<=", value, operand_value(condition.high, item)))
    if isinstance(condition, ast.In):
        value = operand_value(condition.operand, item)
        return value is not None and any(
            _compare("=", value, operand_value(option, item)) for option in condition.options)
    return _function_holds(condition.function, item)


def _function_holds(function: ast.Function, item: Item) -> bool:
    name, args = function.name, function.args
    value = operand_value(args[0], item)
    if name == "attribute_exists":
        return value is not None
    if name == "attribute_not_exists":
        return value is None
    argument = operand_value(args[1], item)
    if value is None or argument is None:
        return False
    if name == "attribute_type":
        return types.type_of(argument) == "S" and types.type_of(value) == argument["S"]
    if name == "begins_with":
        kind = types.type_of(value)
        if kind not in ("S", "B") or types.type_of(argument) != kind:
            return False
        whole, prefix = types.scalar(value), types.scalar(argument)
        return bool(whole.startswith(prefix))
    return types.contains(value, argument)  # contains


def update_value(node: ast.Operand, item: Item) -> AttributeValue:
    """The value a SET action writes, computed from the item as it was before the update."""
    if isinstance(node, ast.Arithmetic):
        left, right = update_value(node.left, item), update_value(node.right, item)
        if types.type_of(left) != "N" or types.type_of(right) != "N":
            raise ValidationError(WRONG_TYPE)
        a, b = types.number_of(left), types.number_of(right)
        try:
            result = types.NUMBER_CONTEXT.add(a, b) if node.operator == "+" \
                else types.NUMBER_CONTEXT.subtract(a, b)
        except ArithmeticError:
            raise ValidationError(types.OVERFLOW) from None
        return types.number_value(result)
    if isinstance(node, ast.Function):
        if node.name == "if_not_exists":
            existing = operand_value(node.args[0], item)
            return existing if existing is not None else update_value(node.args[1], item)
        first, second = update_value(node.args[0], item), update_value(node.args[1], item)
        if types.type_of(first) != "L" or types.type_of(second) != "L":
            raise ValidationError(WRONG_TYPE)
        return {"L": first["L"] + second["L"]}
    value = operand_value(node, item)
    if value is None:
        raise ValidationError(MISSING_ATTRIBUTE)
    return value
