"""X-Ray filter expressions: every keyword and operator, precedence, and readable errors."""

from __future__ import annotations

import pytest

from tracing.errors import TracingError
from tracing.filters import EdgeFacts, FilterError, ServiceFacts, TraceFacts, parse
from tracing.nodes import FUNCTION, LAMBDA, TABLE, Node

RESIZE = Node("resize", FUNCTION)
RESIZE_SERVICE = Node("resize", LAMBDA)
ORDERS = Node("orders", TABLE)

TRACE = TraceFacts(
    ok=False, error=False, fault=True, throttle=False, response_time=1.5, duration=2.5,
    http={"url": "http://127.0.0.1:3000/v2/thumbs/7", "method": "GET", "status": 500,
          "useragent": "curl/8.0", "clientip": "10.0.0.1"},
    annotations={"k": ("v",), "count": (3.0,), "vip": (True,), "weird key": ("x",)},
    users=("alice",),
    services=(ServiceFacts(node=RESIZE_SERVICE, response_time=2.4, duration=2.4),
              ServiceFacts(node=RESIZE, ok=False, fault=True, response_time=2.3, duration=2.3),
              ServiceFacts(node=ORDERS, ok=False, error=True, throttle=True,
                           response_time=0.01)),
    edges=(EdgeFacts(source=RESIZE_SERVICE, target=RESIZE, ok=False, fault=True,
                     response_time=2.3),
           EdgeFacts(source=RESIZE, target=ORDERS, ok=False, error=True, throttle=True,
                     response_time=0.01)))


def matches(expression: str, facts: TraceFacts = TRACE) -> bool:
    return parse(expression).matches(facts)


@pytest.mark.parametrize(("expression", "expected"), [
    ('service("resize")', True),
    ('service("thumbs")', False),
    ('service(id(name: "resize", type: "AWS::Lambda::Function"))', True),
    ('service(id(type: "AWS::DynamoDB::Table"))', True),
    ('service(id(name: "orders", type: "AWS::Lambda"))', False),
    ('edge("resize", "orders")', True),
    ('edge("orders", "resize")', False),
    ('edge(id(name: "resize", type: "AWS::Lambda"), "resize")', True),
    ("responsetime > 1", True),
    ("responsetime > 2", False),
    ("duration >= 2.5", True),
    ("duration < 2.5", False),
    ("ok", False),
    ("error", False),
    ("fault", True),
    ("throttle", False),
    ("partial", False),
    ("fault = true", True),
    ("error != false", False),
    ("http.status = 500", True),
    ("http.status <= 499", False),
    ('http.url CONTAINS "/v2/"', True),
    ('http.url BEGINSWITH "http://127.0.0.1"', True),
    ('http.url ENDSWITH "/8"', False),
    ('http.method = "GET"', True),
    ('http.method != "GET"', False),
    ('http.useragent BEGINSWITH "curl"', True),
    ('http.clientip = "10.0.0.1"', True),
    ('user = "alice"', True),
    ('annotation.k = "v"', True),
    ('annotation.k = "w"', False),
    ('annotation.k CONTAINS "v"', True),
    ("annotation.count > 2", True),
    ("annotation.count = 3", True),
    ('annotation.count = "3"', False),
    ("annotation.vip", True),
    ("annotation.vip = true", True),
    ("annotation.missing", False),
    ('annotation[weird key] = "x"', True),
])
def test_every_keyword_and_operator(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


@pytest.mark.parametrize(("expression", "expected"), [
    ('service("resize") { fault }', True),
    ('service("orders") { fault }', False),
    ('service("orders") { throttle AND responsetime < 0.1 }', True),
    ("service() { responsetime > 2.35 }", True),
    ('service(id(name: "resize", type: "AWS::Lambda")) { fault = true }', False),
    ('edge("resize", "orders") { throttle }', True),
    ('edge("resize", "resize") { responsetime > 3 }', False),
])
def test_service_and_edge_sub_tests(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


@pytest.mark.parametrize(("expression", "expected"), [
    # NOT binds tighter than AND, AND tighter than OR
    ("ok OR fault AND error", False),  # ok OR (fault AND error)
    ("(ok OR fault) AND error", False),
    ("fault OR ok AND error", True),  # fault OR (ok AND error)
    ("(fault OR ok) AND NOT error", True),
    ("NOT ok AND fault", True),  # (NOT ok) AND fault
    ("NOT (ok AND fault)", True),
    ("!fault OR throttle", False),
    ("! fault OR fault", True),
    ("NOT NOT fault", True),
    # side by side means AND, as in X-Ray's `ok !partial duration < 3`
    ("fault !partial duration < 3", True),
    ("fault !partial duration < 2", False),
    # keywords in any case
    ('SERVICE("resize") and Fault oR ok', True),
    ("not OK", True),
    ('Http.Url contains "v2" AND ResponseTime > 1', True),
    ("fault && !ok || throttle", True),
])
def test_precedence_and_case(expression: str, expected: bool) -> None:
    assert matches(expression) is expected


def test_an_empty_trace_matches_nothing_that_needs_a_value() -> None:
    empty = TraceFacts()
    assert matches("ok", empty) and not matches('service("a")', empty)
    assert not matches('annotation.k = "v"', empty) and not matches("http.status = 200", empty)


@pytest.mark.parametrize(("expression", "column", "reason"), [
    ("", 1, "empty"),
    ("ok AND", 7, "ends too early"),
    ("(ok", 4, "ends too early"),
    ("ok )", 4, "unexpected ')'"),
    ("responsetime > ", 16, "ends too early"),
    ('responsetime > "x"', 16, "needs a number"),
    ("http.url > 1", 10, "cannot be compared"),
    ("http.status CONTAINS 5", 13, "cannot be compared"),
    ('http.method = 5', 15, "needs a quoted string"),
    ("ok = 1", 6, "needs true or false"),
    ("foo = 1", 1, "unknown keyword 'foo'"),
    ("http.url", 1, "needs an operator"),
    ('service("a") { service("b") }', 14, "cannot be nested"),
    ('service(id(name: "a", name: "b"))', 23, "twice"),
    ('http.url = "open', 12, "unexpected character"),
    ("duration >= 2 #", 15, "unexpected character '#'"),
    ('edge("a")', 9, "unexpected ')'"),
])
def test_bad_expressions_say_where_and_why(expression: str, column: int, reason: str) -> None:
    with pytest.raises(FilterError) as raised:
        parse(expression)
    error = raised.value
    assert isinstance(error, TracingError)
    assert reason in error.reason and error.position + 1 == column, str(error)
    assert f"column {column}" in str(error) and expression in str(error)
