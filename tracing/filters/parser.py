"""Reading an expression: the lark LALR parser, the transformer that builds and checks the
`Test`s, and `FilterError` saying where and why an expression cannot be read."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from tracing.errors import TracingError
from tracing.filters.ast import (
    ORDER,
    TEXT,
    AllOf,
    AnyOf,
    Comparison,
    EdgeTest,
    Flag,
    Negation,
    Selector,
    ServiceTest,
    Test,
    TraceFilter,
)
from tracing.filters.facts import FLAGS, NUMBERS, STRINGS, Value
from tracing.filters.grammar import GRAMMAR


class FilterError(TracingError):
    """A filter expression that cannot be read: says where (0-based `position`) and why."""

    def __init__(self, expression: str, position: int, reason: str) -> None:
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        caret = " " * self.position + "^"
        super().__init__(f"invalid filter expression at column {self.position + 1}: {reason}\n"
                         f"  {expression}\n  {caret}")
        self.reason = reason


@dataclass(frozen=True)
class _Literal:
    value: Value
    token: Token


def _unquote(token: Token) -> str:
    text, out, escaped = str(token)[1:-1], [], False
    for char in text:
        if escaped or char != "\\":
            out.append(char)
        escaped = not escaped and char == "\\"
    return "".join(out)


def _graph_free(test: Test | None) -> bool:
    if isinstance(test, (ServiceTest, EdgeTest)):
        return False
    if isinstance(test, (AllOf, AnyOf)):
        return all(_graph_free(part) for part in test.parts)
    return _graph_free(test.part) if isinstance(test, Negation) else True


class _Build(Transformer[Token, Test]):
    """Turns the parse tree into `Test`s, checking keywords, operators and value types."""

    def __init__(self, expression: str) -> None:
        super().__init__()
        self.expression = expression

    def _fail(self, token: Token, reason: str) -> FilterError:
        return FilterError(self.expression, token.start_pos or 0, reason)

    def _keyword(self, token: Token) -> str:
        text = str(token)
        lower = text.lower()
        if lower.startswith("annotation[") and len(text) > len("annotation[]"):
            return "annotation." + text[len("annotation["):-1]
        if lower.startswith("annotation.") and len(text) > len("annotation."):
            return "annotation." + text[len("annotation."):]
        if lower in FLAGS | NUMBERS | STRINGS:
            return lower
        raise self._fail(token, f"unknown keyword {text!r}")

    def or_expr(self, parts: list[Test]) -> Test:
        return AnyOf(tuple(parts))

    def and_expr(self, parts: list[Test]) -> Test:
        return AllOf(tuple(parts))

    def negation(self, parts: list[Test]) -> Test:
        return Negation(parts[0])

    def string(self, tokens: list[Token]) -> _Literal:
        return _Literal(_unquote(tokens[0]), tokens[0])

    def number(self, tokens: list[Token]) -> _Literal:
        return _Literal(float(tokens[0]), tokens[0])

    def true(self, tokens: list[Token]) -> _Literal:
        return _Literal(True, tokens[0])

    def false(self, tokens: list[Token]) -> _Literal:
        return _Literal(False, tokens[0])

    @v_args(inline=True)
    def comparison(self, field_token: Token, op_token: Token, literal: _Literal) -> Test:
        keyword, op, value = self._keyword(field_token), str(op_token).lower(), literal.value
        allowed: tuple[str, ...]
        kind: type
        if keyword in FLAGS:
            allowed, kind = ("=", "!="), bool
        elif keyword in NUMBERS:
            allowed, kind = tuple(ORDER), float
        elif keyword in STRINGS:
            allowed, kind = ("=", "!=", *TEXT), str
        else:  # an annotation: text operators take text, ordering takes numbers
            allowed = (*ORDER, *TEXT)
            kind = str if op in TEXT else float if op in ("<", "<=", ">", ">=") else object
        if op not in allowed:
            raise self._fail(op_token, f"{field_token} cannot be compared with {op_token}")
        if not isinstance(value, kind) or (kind is float and isinstance(value, bool)):
            wanted = {bool: "true or false", float: "a number", str: "a quoted string"}[kind]
            raise self._fail(literal.token, f"{field_token} {op_token} needs {wanted}")
        return Comparison(keyword, op, value)

    @v_args(inline=True)
    def flag(self, field_token: Token) -> Test:
        keyword = self._keyword(field_token)
        if keyword in NUMBERS | STRINGS:
            raise self._fail(field_token, f"{field_token} needs an operator and a value")
        return Flag(keyword)

    @v_args(inline=True)
    def braces(self, inner: Test) -> Test:
        if not _graph_free(inner):
            raise FilterError(self.expression, self.expression.find("{"),
                              "service() and edge() cannot be nested in { }")
        return inner

    @v_args(inline=True)
    def service(self, selector: Selector | None, inner: Test | None) -> Test:
        return ServiceTest(selector or Selector(), inner)

    @v_args(inline=True)
    def edge(self, source: Selector, target: Selector, inner: Test | None) -> Test:
        return EdgeTest(source, target, inner)

    def name_selector(self, tokens: list[Token]) -> Selector:
        return Selector(name=_unquote(tokens[0]))

    def id_selector(self, pairs: list[tuple[Token, str]]) -> Selector:
        found: dict[str, str] = {}
        for token, value in pairs:
            if token.lower() in found:
                raise self._fail(token, f"id() names {token} twice")
            found[token.lower()] = value
        return Selector(**found)

    @v_args(inline=True)
    def id_arg(self, token: Token, value: Token) -> tuple[Token, str]:
        return token, _unquote(value)


_NAMES = {"LPAR": "(", "RPAR": ")", "LBRACE": "{", "RBRACE": "}", "COMMA": ",",
          "COLON": ":", "FIELD": "a keyword", "STRING": "a quoted string", "NUMBER": "a number",
          "OP": "an operator", "_AND": "AND", "_OR": "OR", "_NOT": "NOT", "TRUE": "true",
          "FALSE": "false", "_SERVICE": "service(", "_EDGE": "edge(", "_ID": "id(",
          "ID_KEY": "name: or type:", "$END": "the end"}


def _explain(error: UnexpectedInput, expression: str) -> tuple[int, str]:
    if isinstance(error, UnexpectedCharacters):
        at = error.pos_in_stream or 0
        return at, f"unexpected character {expression[at]!r}"
    token = getattr(error, "token", None)
    if isinstance(error, UnexpectedEOF) or token is None or token.type == "$END":
        return len(expression), "the expression ends too early"
    expected = sorted(_NAMES.get(name, name) for name in getattr(error, "expected", ()))
    hint = f"; expected {', '.join(expected)}" if expected else ""
    return token.start_pos or 0, f"unexpected {str(token)!r}{hint}"


@cache
def _parser() -> Lark:
    """The LALR parser, built once (about 50 ms) and shared: it holds no state between parses."""
    return Lark(GRAMMAR, parser="lalr")


def parse(expression: str) -> TraceFilter:
    """Read an X-Ray filter expression; raises `FilterError` with the position of the problem."""
    if not expression.strip():
        raise FilterError(expression, 0, "the expression is empty")
    try:
        tree = _parser().parse(expression)
        test = _Build(expression).transform(tree)
    except UnexpectedInput as error:
        position, reason = _explain(error, expression)
        raise FilterError(expression, position, reason) from None
    except VisitError as error:
        if isinstance(error.orig_exc, FilterError):
            raise error.orig_exc from None
        raise
    return TraceFilter(expression, test)
