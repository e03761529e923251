"""KeyConditionExpression: checked for the shapes DynamoDB allows and turned into a partition
and a range of encoded sort keys (Redis lex bounds)."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.types import AttributeValue

NOT_SUPPORTED = "Query key condition not supported"
KIND = "KeyConditionExpression"


@dataclass
class Bound:
    """One end of a sort-key range; `value` None means unbounded."""

    value: bytes | None = None
    inclusive: bool = True

    def lex(self, unbounded: bytes) -> bytes:
        if self.value is None:
            return unbounded
        return (b"[" if self.inclusive else b"(") + self.value


@dataclass
class KeyRange:
    hash_value: AttributeValue
    low: Bound
    high: Bound

    def after(self, sort: str, reverse: bool) -> None:
        """Narrow the range to sort keys strictly after `sort` in the reading direction."""
        start = sort.encode()
        if not reverse:
            if self.low.value is None or start >= self.low.value:
                self.low = Bound(start, inclusive=False)
        elif self.high.value is None or start <= self.high.value:
            self.high = Bound(start, inclusive=False)


def _conditions(node: ast.Condition) -> list[ast.Condition]:
    if isinstance(node, ast.And):
        return _conditions(node.left) + _conditions(node.right)
    if isinstance(node, ast.Or | ast.Not):
        raise ValidationError(f"Invalid {KIND}: Invalid operator used in KeyConditionExpression: "
                              f"{'OR' if isinstance(node, ast.Or) else 'NOT'}")
    return [node]


def _subject(condition: ast.Condition) -> tuple[str, list[AttributeValue]]:
    """The key attribute a condition is about, and its literal operands."""
    if isinstance(condition, ast.Compare):
        path, operands = condition.left, [condition.right]
    elif isinstance(condition, ast.Between):
        path, operands = condition.operand, [condition.low, condition.high]
    elif isinstance(condition, ast.FunctionCondition) and \
            condition.function.name == "begins_with":
        path, operands = condition.function.args[0], [condition.function.args[1]]
    else:
        raise ValidationError(NOT_SUPPORTED)
    if not isinstance(path, ast.Path) or len(path.elements) != 1 or \
            not all(isinstance(operand, ast.Literal) for operand in operands):
        raise ValidationError(NOT_SUPPORTED)
    return str(path.elements[0]), [operand.value for operand in operands]  # type: ignore[union-attr]


def key_range(table: Table, condition: ast.Condition) -> KeyRange:
    by_name: dict[str, ast.Condition] = {}
    for part in _conditions(condition):
        name, values = _subject(part)
        if name in by_name:
            raise ValidationError(f"{NOT_SUPPORTED}: more than one condition on key {name}")
        if name not in (table.hash_key, table.range_key):
            raise ValidationError(f"Query condition missed key schema element: {table.hash_key}"
                                  if table.hash_key not in by_name else NOT_SUPPORTED)
        expected = table.hash_type if name == table.hash_key else table.range_type
        if any(types.type_of(value) != expected for value in values):
            raise ValidationError(f"{types.INVALID}Condition parameter type does not match "
                                  "schema type")
        by_name[name] = part
    if table.hash_key not in by_name:
        raise ValidationError(f"Query condition missed key schema element: {table.hash_key}")
    hash_condition = by_name[table.hash_key]
    if not isinstance(hash_condition, ast.Compare) or hash_condition.operator != "=":
        raise ValidationError(NOT_SUPPORTED)
    hash_value = _subject(hash_condition)[1][0]
    low, high = Bound(), Bound()
    if table.range_key and table.range_key in by_name:
        low, high = _sort_bounds(by_name[table.range_key])
    return KeyRange(hash_value, low, high)


def _sort_bounds(condition: ast.Condition) -> tuple[Bound, Bound]:
    values = [types.encode_key(value).encode() for value in _subject(condition)[1]]
    if isinstance(condition, ast.Between):
        return Bound(values[0]), Bound(values[1])
    if isinstance(condition, ast.FunctionCondition):  # begins_with
        return Bound(values[0]), Bound(values[0] + b"\xff", inclusive=False)
    assert isinstance(condition, ast.Compare)
    value = values[0]
    bounds = {"=": (Bound(value), Bound(value)),
              "<": (Bound(), Bound(value, inclusive=False)),
              "<=": (Bound(), Bound(value)),
              ">": (Bound(value, inclusive=False), Bound()),
              ">=": (Bound(value), Bound())}
    if condition.operator not in bounds:
        raise ValidationError(f"Invalid {KIND}: Invalid operator used in KeyConditionExpression: "
                              f"{condition.operator}")
    return bounds[condition.operator]
