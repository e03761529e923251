"""The expression tree: a parsed filter as `Test`s, each evaluated against a trace's facts."""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass

from tracing.filters.facts import FLAGS, Facts, TraceFacts, Value
from tracing.nodes import Node

ORDER = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
         ">": operator.gt, ">=": operator.ge}
TEXT: dict[str, Callable[[str, str], bool]] = {
    "contains": lambda value, part: part in value,
    "beginswith": lambda value, part: value.startswith(part),
    "endswith": lambda value, part: value.endswith(part)}


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
