"""The parsed form of expressions. Placeholders stay as written (`#n`, `:v`) until `resolve`
swaps them for names and values, so a parsed expression can be cached by its text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PathElement = str | int


@dataclass(frozen=True)
class Path:
    """A document path: a top-level name, then map members (str) and list indexes (int)."""

    elements: tuple[PathElement, ...]

    def __str__(self) -> str:
        return "[" + ", ".join(str(e) if isinstance(e, str) else f"[{e}]"
                               for e in self.elements) + "]"


@dataclass(frozen=True)
class ValueRef:
    """`:name` before resolution."""

    name: str


@dataclass(frozen=True, eq=False)
class Literal:
    """An ExpressionAttributeValue after resolution."""

    value: dict[str, Any]


@dataclass(frozen=True)
class Function:
    name: str
    args: tuple[Operand, ...]


@dataclass(frozen=True)
class Arithmetic:
    """`a + b` or `a - b` in a SET action."""

    operator: str
    left: Operand
    right: Operand


Operand = Path | ValueRef | Literal | Function | Arithmetic


@dataclass(frozen=True)
class Compare:
    operator: str
    left: Operand
    right: Operand


@dataclass(frozen=True)
class Between:
    operand: Operand
    low: Operand
    high: Operand


@dataclass(frozen=True)
class In:
    operand: Operand
    options: tuple[Operand, ...]


@dataclass(frozen=True)
class FunctionCondition:
    """A function used as a whole condition: attribute_exists(a), begins_with(a, :p), …"""

    function: Function


@dataclass(frozen=True)
class And:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Or:
    left: Condition
    right: Condition


@dataclass(frozen=True)
class Not:
    operand: Condition


Condition = Compare | Between | In | FunctionCondition | And | Or | Not


@dataclass(frozen=True)
class SetAction:
    path: Path
    value: Operand


@dataclass(frozen=True)
class RemoveAction:
    path: Path


@dataclass(frozen=True)
class AddAction:
    path: Path
    value: Operand


@dataclass(frozen=True)
class DeleteAction:
    path: Path
    value: Operand


Action = SetAction | RemoveAction | AddAction | DeleteAction


@dataclass(frozen=True)
class Update:
    actions: tuple[Action, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Projection:
    paths: tuple[Path, ...]
