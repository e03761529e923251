"""Properties of DynamoDB's input handling on arbitrary input: the body parser, the request-shape
check, item validation and the expression language raise nothing but DynamoDB's own errors
(which the endpoint answers as 4xx), whatever a client sends."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.app import OPERATIONS, parse_body
from orchestrator.services.dynamodb.errors import DynamoDBError, ValidationError
from orchestrator.services.dynamodb.expressions import (
    Placeholders,
    apply_update,
    check_update,
    holds,
    parse_condition,
    parse_projection,
    parse_update,
    project,
)
from orchestrator.services.dynamodb.shapes import check_request

BOUNDED = settings(max_examples=200, deadline=1_000, database=None,
                   suppress_health_check=[HealthCheck.too_slow])

TYPE_NAMES = ["S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL"]
json_scalars = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
                | st.sampled_from(TYPE_NAMES + ["1e999", "-0", "AAEC", "=", "1" * 40]))
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.sampled_from(TYPE_NAMES) | st.text(max_size=4), inner, max_size=4),
    max_leaves=16)

numbers = st.decimals(allow_nan=False, allow_infinity=False).map(str) | st.sampled_from(
    ["0", "-1.50", "1E+125", "1E+126", "1E-130", "1E-131", "9" * 38, "9" * 39, " 1", "1e999"])
base64_texts = st.sampled_from(["AAEC", "", "YQ==", "not base64!", "AAE"])
attribute_values = st.recursive(
    st.one_of(
        st.builds(lambda text: {"S": text}, st.text(max_size=8)),
        st.builds(lambda number: {"N": number}, numbers),
        st.builds(lambda text: {"B": text}, base64_texts),
        st.builds(lambda flag: {"BOOL": flag}, st.booleans()),
        st.just({"NULL": True}),
        st.builds(lambda members: {"SS": members}, st.lists(st.text(max_size=4), max_size=3)),
        st.builds(lambda members: {"NS": members}, st.lists(numbers, max_size=3)),
        st.builds(lambda members: {"BS": members}, st.lists(base64_texts, max_size=3)),
        json_values),  # and anything at all where a value should be
    lambda inner: st.builds(lambda members: {"L": members}, st.lists(inner, max_size=3))
    | st.builds(lambda members: {"M": members},
                st.dictionaries(st.sampled_from(["a", "b", "c"]), inner, max_size=3)),
    max_leaves=10)
items = st.dictionaries(st.sampled_from(["pk", "a", "b", "c", "l", "m"]), attribute_values,
                        max_size=5)

# Expression text: mostly the language's own tokens, so the parser gets past its first
# character, with arbitrary text mixed in.
TOKENS = ["a", "b", "c", "l", "m", "pk", "#n", "#m", ":v", ":w", ".", "[0]", "[1]", "[99]", "(",
          ")", ",", "=", "<>", "<", "<=", ">", ">=", "+", "-", "AND", "OR", "NOT", "BETWEEN",
          "IN", "SET", "REMOVE", "ADD", "DELETE", "size", "attribute_exists",
          "attribute_not_exists", "attribute_type", "begins_with", "contains", "if_not_exists",
          "list_append", "status", "date"]
token_soup = st.lists(st.sampled_from(TOKENS) | st.text(max_size=3), max_size=24).map(" ".join)

# Well-formed expressions, from the grammar, so evaluation and updates get exercised too.
names = st.sampled_from(["a", "b", "l", "m", "#n", "#m"])
paths = st.builds(lambda first, rest: first + "".join(rest), names, st.lists(
    names.map(lambda name: "." + name) | st.integers(0, 3).map(lambda index: f"[{index}]"),
    max_size=3))
placeholders = st.sampled_from([":v", ":w"])
operands = paths | placeholders | paths.map(lambda path: f"size({path})")
comparisons = st.builds(lambda left, op, right: f"{left} {op} {right}", operands,
                        st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), operands)
predicates = comparisons | st.builds("{} BETWEEN {} AND {}".format, operands, operands, operands) \
    | st.builds(lambda left, options: f"{left} IN ({', '.join(options)})", operands,
                st.lists(operands, min_size=1, max_size=3)) \
    | st.builds("{}({})".format, st.sampled_from(["attribute_exists", "attribute_not_exists"]),
                paths) \
    | st.builds("{}({}, {})".format, st.sampled_from(["begins_with", "contains",
                                                      "attribute_type"]), paths, operands)
conditions = st.recursive(predicates, lambda inner: inner.map("NOT {}".format)
                          | inner.map("({})".format)
                          | st.builds("{} {} {}".format, inner, st.sampled_from(["AND", "OR"]),
                                      inner), max_leaves=6)
set_values = operands | st.builds("{} {} {}".format, operands, st.sampled_from(["+", "-"]),
                                  operands) \
    | st.builds("if_not_exists({}, {})".format, paths, operands) \
    | st.builds("list_append({}, {})".format, operands, operands)
clauses = st.builds(lambda actions: "SET " + ", ".join(actions), st.lists(
    st.builds("{} = {}".format, paths, set_values), min_size=1, max_size=3)) \
    | st.builds(lambda removed: "REMOVE " + ", ".join(removed),
                st.lists(paths, min_size=1, max_size=3)) \
    | st.builds("{} {} {}".format, st.sampled_from(["ADD", "DELETE"]), paths, placeholders)
updates = st.lists(clauses, min_size=1, max_size=3).map(" ".join)
expression_texts = conditions | updates | token_soup | st.text(max_size=40)


@BOUNDED
@given(st.binary(max_size=200) | json_values.map(lambda value: json.dumps(value).encode()))
def test_any_body_is_a_request_or_dynamodbs_error(body: bytes) -> None:
    try:
        request = parse_body(body)
    except DynamoDBError:
        return
    assert isinstance(request, dict)


@BOUNDED
@given(st.sampled_from(sorted(OPERATIONS)), st.dictionaries(
    st.sampled_from(["TableName", "Item", "Key", "TransactItems", "RequestItems", "Limit",
                     "ExpressionAttributeValues", "ReturnValues", "ConsistentRead",
                     "TotalSegments", "ExclusiveStartKey", "KeySchema", "StreamArn"]),
    json_values, max_size=5))
def test_any_request_passes_its_shape_check_or_is_a_serialization_error(
        target: str, request: dict[str, Any]) -> None:
    try:
        check_request(target, request)
    except DynamoDBError as error:
        assert error.code == "SerializationException"
        return
    assert None not in request.values()  # a null member counts as absent


@BOUNDED
@given(attribute_values)
def test_a_value_is_validated_or_refused_and_a_valid_one_is_usable(value: Any) -> None:
    # Given any value a client could send
    try:
        valid = types.validate_value(value)
    except ValidationError:
        return
    # Then a value that passes is canonical and every reader of values accepts it
    assert types.validate_value(valid) == valid
    assert types.equal(valid, valid)
    item = {"pk": {"S": "k"}, "v": valid}
    types.check_nesting(item)
    assert types.item_size(item) >= 3
    types.size_function(valid)
    if types.type_of(valid) in types.SCALAR_KEY_TYPES:
        assert types.compare(valid, valid) == 0
        types.encode_key(valid)


@settings(BOUNDED, max_examples=60)
@given(st.integers(1, 3_000), st.sampled_from(["L", "M"]))
def test_nesting_is_refused_exactly_past_32_levels(wraps: int, kind: str) -> None:
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(wraps):
        value = {"L": [value]} if kind == "L" else {"M": {"n": value}}
    try:
        types.validate_value(value)
    except ValidationError as error:
        assert wraps > 31
        assert error.message.startswith("Nesting Levels have exceeded supported limits")
    else:
        assert wraps <= 31


@BOUNDED
@given(expression_texts)
def test_any_text_parses_or_is_a_validation_error(text: str) -> None:
    for parse in (parse_condition, parse_update, parse_projection):
        with contextlib.suppress(ValidationError):
            parse(text)


@BOUNDED
@given(conditions | expression_texts, updates | expression_texts,
       st.lists(paths, min_size=1, max_size=3).map(", ".join) | expression_texts,
       st.just({"#n": "a", "#m": "m"}) | st.dictionaries(
           st.sampled_from(["#n", "#m", "#x", "n", ""]),
           st.sampled_from(["a", "b", "pk", "l", "m", "status"]), max_size=3),
       st.dictionaries(st.sampled_from([":v", ":w"]), attribute_values, min_size=2, max_size=2)
       | st.dictionaries(st.sampled_from([":v", ":w", ":x", "v"]), attribute_values, max_size=3),
       items)
def test_expressions_resolve_evaluate_and_apply_or_raise_dynamodbs_errors(
        condition: str, update: str, projection: str, names: dict[str, str],
        values: dict[str, Any], item: dict[str, Any]) -> None:
    # Given three expressions, placeholders and an item, each as a client could send them
    try:
        stored = types.validate_item(item)
        placeholders = Placeholders(names or None, values or None)
        resolved_condition = placeholders.resolve(parse_condition(condition),
                                                  "ConditionExpression")
        resolved_update = placeholders.resolve(parse_update(update), "UpdateExpression")
        paths = placeholders.resolve(parse_projection(projection), "ProjectionExpression").paths
        # When they are applied as UpdateItem and GetItem would
        holds(resolved_condition, stored)
        holds(resolved_condition, None)
        check_update(resolved_update, ["pk"])
        new = apply_update(resolved_update, stored)
        project(new, paths)
    except DynamoDBError:
        return  # Then only DynamoDB's own errors are raised
    # And what an update builds is still a valid item
    types.check_nesting(new)
    assert types.validate_item(new) == new
