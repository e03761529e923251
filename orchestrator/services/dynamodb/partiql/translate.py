"""A parsed PartiQL statement rendered as the expression parameters the item operations take:
paths become `#n…` names, values (literals and `?` parameters) become `:v…` values."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import lark

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.partiql.grammar import GRAMMAR
from orchestrator.services.dynamodb.types import AttributeValue

MALFORMED = "Statement wasn't well formed, can't be processed: "


@functools.cache
def _parser() -> lark.Lark:
    return lark.Lark(GRAMMAR, parser="lalr")


def parse(statement: Any) -> lark.Tree:
    if not isinstance(statement, str) or not statement.strip():
        raise ValidationError("1 validation error detected: Value null at 'statement' failed to "
                              "satisfy constraint: Member must not be null")
    try:
        return _parser().parse(statement)
    except lark.UnexpectedToken as error:
        raise ValidationError(f"{MALFORMED}Unexpected token: {error.token!s} at line "
                              f"{error.line}, column {error.column}") from None
    except lark.UnexpectedInput as error:
        raise ValidationError(f"{MALFORMED}Unexpected input at line {error.line}, column "
                              f"{error.column}") from None


@dataclass
class Rendered:
    """Placeholders collected while rendering one statement."""

    parameters: list[AttributeValue]
    names: dict[str, str] = field(default_factory=dict)
    values: dict[str, AttributeValue] = field(default_factory=dict)
    used: int = 0

    def expression_parameters(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.names:
            found["ExpressionAttributeNames"] = self.names
        if self.values:
            found["ExpressionAttributeValues"] = self.values
        return found

    def name(self, text: str) -> str:
        for placeholder, known in self.names.items():
            if known == text:
                return placeholder
        placeholder = f"#n{len(self.names)}"
        self.names[placeholder] = text
        return placeholder

    def value(self, node: lark.Tree) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = self.literal(node)
        return placeholder

    def literal(self, node: Any) -> AttributeValue:
        kind = node.data
        if kind == "parameter":
            if self.used >= len(self.parameters):
                raise ValidationError("Number of parameters in request and statement don't "
                                      "match.")
            self.used += 1
            return types.validate_value(self.parameters[self.used - 1])
        if kind == "string":
            return {"S": unquote(node.children[0], "'")}
        if kind == "number":
            return types.validate_value({"N": str(node.children[0])})
        if kind in ("true", "false"):
            return {"BOOL": kind == "true"}
        if kind == "null":
            return {"NULL": True}
        if kind == "map":
            pairs = [pair for pair in node.children if pair is not None]
            return {"M": {unquote(pair.children[0], "'"): self.literal(pair.children[1])
                          for pair in pairs}}
        if kind == "list":
            return {"L": [self.literal(child) for child in node.children if child is not None]}
        members = [self.literal(child) for child in node.children
                   if isinstance(child, lark.Tree)]
        kinds = {types.type_of(member) for member in members}
        if len(kinds) != 1 or not kinds <= {"S", "N", "B"}:
            raise ValidationError("Unsupported type in set: a set holds only strings, only "
                                  "numbers or only binaries")
        kind = kinds.pop()
        return types.validate_value({kind + "S": [member[kind] for member in members]})

    def path(self, node: lark.Tree) -> str:
        text = ""
        for element in node.children:
            if isinstance(element, lark.Token):  # a list index
                text += f"[{element}]"
            else:
                name = str(element.children[0])
                name = unquote(name, '"') if element.data == "quoted" else name
                text += ("." if text else "") + self.name(name)
        return text

    def operand(self, node: lark.Tree) -> str:
        return self.path(node) if node.data == "path" else self.value(node)

    def condition(self, node: lark.Tree) -> str:
        kind, children = node.data, node.children
        if kind in ("and_", "or_"):
            joiner = " AND " if kind == "and_" else " OR "
            return "(" + joiner.join(self.condition(child) for child in children) + ")"
        if kind == "not_":
            return f"(NOT {self.condition(children[0])})"
        if kind == "compare":
            operator = "<>" if str(children[1]) == "!=" else str(children[1])
            return f"{self.operand(children[0])} {operator} {self.operand(children[2])}"
        if kind == "between":
            low, high = (self.operand(child) for child in children[1:])
            return f"{self.operand(children[0])} BETWEEN {low} AND {high}"
        if kind == "in_":
            options = ", ".join(self.operand(child) for child in children[1:])
            return f"{self.operand(children[0])} IN ({options})"
        if kind in ("missing", "present"):
            function = "attribute_not_exists" if kind == "missing" else "attribute_exists"
            return f"{function}({self.operand(children[0])})"
        if kind == "function":
            arguments = ", ".join(self.operand(child) for child in children[1:])
            return f"{children[0]}({arguments})"
        raise ValidationError(f"{MALFORMED}Unsupported condition: {kind}")


def unquote(text: Any, quote: str) -> str:
    return str(text)[1:-1].replace(quote * 2, quote)


def conjuncts(node: lark.Tree | None) -> list[lark.Tree]:
    """The parts of a WHERE clause joined by top-level ANDs."""
    if node is None:
        return []
    if node.data == "and_":
        return [part for child in node.children for part in conjuncts(child)]
    return [node]


def key_equality(part: lark.Tree) -> tuple[str, lark.Tree] | None:
    """(attribute, value node) when a part is `name = value`."""
    if part.data != "compare" or str(part.children[1]) != "=":
        return None
    left, right = part.children[0], part.children[2]
    if left.data != "path" or len(left.children) != 1 or right.data == "path":
        return None
    element = left.children[0]
    name = str(element.children[0])
    return (unquote(name, '"') if element.data == "quoted" else name), right


def target(node: lark.Tree) -> tuple[str, str | None]:
    names = [unquote(child.children[0], '"') if child.data == "quoted"
             else str(child.children[0]) for child in node.children]
    return names[0], names[1] if len(names) > 1 else None
