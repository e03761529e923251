"""X-Ray filter expressions: `service("resize") { fault }`, `responsetime > 1 AND NOT error`,
`annotation.k = "v"`, `edge("a", "b")`, `http.url CONTAINS "/v2/"`.

`parse` reads an expression with a real grammar (lark, LALR) into a small tree of tests;
`TraceFilter.matches` evaluates it against the `TraceFacts` of one trace. Keywords are
case-insensitive, `NOT`/`!` binds tighter than `AND`, `AND` tighter than `OR`, and two tests
side by side mean `AND` (`ok !partial duration < 3`), as in X-Ray.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, VisitError

from orchestrator.errors import RippleError
from tracing.nodes import Node

GRAMMAR = r"""
?start: or_expr
?or_expr: and_expr (_OR and_expr)*
?and_expr: unary (_AND? unary)*
?unary: _NOT unary -> negation
      | "(" or_expr ")"
      | test
?test: FIELD OP value -> comparison
     | FIELD -> flag
     | _SERVICE "(" [selector] ")" [braces] -> service
     | _EDGE "(" selector "," selector ")" [braces] -> edge
braces: "{" or_expr "}"
?selector: STRING -> name_selector
         | _ID "(" id_arg ("," id_arg)* ")" -> id_selector
id_arg: ID_KEY ":" STRING
?value: STRING -> string
      | NUMBER -> number
      | TRUE -> true
      | FALSE -> false

_OR.3: /or\b/i | "||"
_AND.3: /and\b/i | "&&"
_NOT.3: /not\b/i | "!"
_SERVICE.3: /service(?=\s*\()/i
_EDGE.3: /edge(?=\s*\()/i
_ID.3: /id(?=\s*\()/i
TRUE.3: /true\b/i
FALSE.3: /false\b/i
ID_KEY.3: /(name|type)(?=\s*:)/i
OP.3: "=" | "!=" | "<=" | ">=" | "<" | ">" | /contains\b/i | /beginswith\b/i | /endswith\b/i
FIELD: /annotation\[[^\]]+\]/i | /[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_\-]+)*/
STRING: /"(\\.|[^"\\])*"/
NUMBER: /-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/

%ignore /\s+/
"""
FLAGS = frozenset({"ok", "error", "fault", "throttle", "partial"})
NUMBERS = frozenset({"responsetime", "duration", "http.status"})
STRINGS = frozenset({"http.url", "http.method", "http.useragent", "http.clientip", "user"})
ORDER = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
         ">": operator.gt, ">=": operator.ge}
TEXT: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, part: part in value,
    "beginswith": lambda value, part: value.startswith(part),
    "endswith": lambda value, part: value.endswith(part)}
Value = str | float | bool


class FilterError(RippleError):
    """A filter expression that cannot be read: says where (0-based `position`) and why."""

    def __init__(self, expression: str, position: int, reason: str) -> None:
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.reason = reason
        caret = " " * self.position + "^"
        super().__init__(f"invalid filter expression at column {self.position + 1}: {reason}\n"
                         f"  {expression}\n  {caret}")


# What a filter tests ------------------------------------------------------------------------

@dataclass(frozen=True, kw_only=True)
class Facts:
    """What keywords test: a whole trace, or one service's segment, or one edge's call."""

    ok: bool = True
    error: bool = False
    fault: bool = False
    throttle: bool = False
    partial: bool = False
    response_time: float = 0.0  # seconds
    duration: float = 0.0  # seconds
    http: Mapping[str, str | int] = field(default_factory=dict)  # url method status useragent
    annotations: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)  # clientip
    users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ServiceFacts(Facts):
    node: Node


@dataclass(frozen=True, kw_only=True)
class EdgeFacts(Facts):
    source: Node
    target: Node


@dataclass(frozen=True, kw_only=True)
class TraceFacts(Facts):
    services: tuple[ServiceFacts, ...] = ()
    edges: tuple[EdgeFacts, ...] = ()
    entry_point: Node | None = None  # the node of the root segment
    start_time: float = 0.0  # epoch seconds


def _values(facts: Facts, name: str) -> tuple[Value, ...]:
    if name == "responsetime":
        return (facts.response_time,)
    if name == "duration":
        return (facts.duration,)
    if name in FLAGS:
        return (bool(getattr(facts, name)),)
    if name == "user":
        return facts.users
    if name.startswith("http."):
        found = facts.http.get(name[len("http."):])
        return () if found is None else (found if isinstance(found, str) else float(found),)
    return facts.annotations.get(name[len("annotation."):], ())


def _compare(found: Value, op: str, expected: Value) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool):
        same_type = isinstance(expected, bool) and isinstance(found, bool)
    else:
        same_type = isinstance(expected, str) == isinstance(found, str)
    if not same_type:
        return op == "!="
    if op in TEXT:
        return TEXT[op](str(found), str(expected))
    return bool(ORDER[op](found, expected))


# The expression tree ------------------------------------------------------------------------

class Test:
    """One node of a parsed expression."""

    def matches(self, facts: Facts) -> bool:
        raise NotImplementedError


@dataclass(frozen=True)
class AllOf(Test):
    parts: tuple[Test, ...]

    def matches(self, facts: Facts) -> bool:
        return all(part.matches(facts) for part in self.parts)


@dataclass(frozen=True)
class AnyOf(Test):
    parts: tuple[Test, ...]

    def matches(self, facts: Facts) -> bool:
        return any(part.matches(facts) for part in self.parts)


@dataclass(frozen=True)
class Negation(Test):
    part: Test

    def matches(self, facts: Facts) -> bool:
        return not self.part.matches(facts)


@dataclass(frozen=True)
class Comparison(Test):
    keyword: str
    op: str
    value: Value

    def matches(self, facts: Facts) -> bool:
        return any(_compare(found, self.op, self.value) for found in _values(facts, self.keyword))


@dataclass(frozen=True)
class Flag(Test):
    keyword: str  # a boolean keyword, or an annotation: true when present and not false

    def matches(self, facts: Facts) -> bool:
        return any(found is not False for found in _values(facts, self.keyword))


@dataclass(frozen=True)
class Selector:
    name: str | None = None
    type: str | None = None

    def accepts(self, node: Node) -> bool:
        return self.name in (None, node.name) and self.type in (None, node.type)


@dataclass(frozen=True)
class ServiceTest(Test):
    selector: Selector
    inner: Test | None = None

    def matches(self, facts: Facts) -> bool:
        return isinstance(facts, TraceFacts) and any(
            self.selector.accepts(service.node)
            and (self.inner is None or self.inner.matches(service))
            for service in facts.services)


@dataclass(frozen=True)
class EdgeTest(Test):
    source: Selector
    target: Selector
    inner: Test | None = None

    def matches(self, facts: Facts) -> bool:
        return isinstance(facts, TraceFacts) and any(
            self.source.accepts(edge.source) and self.target.accepts(edge.target)
            and (self.inner is None or self.inner.matches(edge))
            for edge in facts.edges)


@dataclass(frozen=True)
class TraceFilter:
    """A parsed filter expression."""

    expression: str
    test: Test

    def matches(self, summary: TraceFacts) -> bool:
        """Whether the trace these facts describe passes the filter."""
        return self.test.matches(summary)


# Reading an expression ----------------------------------------------------------------------

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
