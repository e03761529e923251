"""The expression language on its own: grammar, placeholders, evaluation, updates, projections."""

from __future__ import annotations

from typing import Any

import pytest

from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import (
    Placeholders,
    apply_update,
    ast,
    check_update,
    holds,
    parse_condition,
    parse_projection,
    parse_update,
    project,
)

ITEM = {
    "pk": {"S": "order#1"}, "amount": {"N": "42.5"}, "phase": {"S": "NEW"},
    "tags": {"SS": ["gift", "rush"]}, "parts": {"L": [{"M": {"sku": {"S": "a"}}}, {"N": "3"}]},
    "address": {"M": {"city": {"S": "Lyon"}, "zip": {"S": "69001"}}}, "bits": {"B": "AAEC"},
    "flag": {"BOOL": True}, "nothing": {"NULL": True},
}


def condition(text: str, values: dict[str, Any] | None = None,
              names: dict[str, str] | None = None) -> ast.Condition:
    placeholders = Placeholders(names, values)
    resolved = placeholders.resolve(parse_condition(text), "ConditionExpression")
    placeholders.check_all_used()
    return resolved


def update(text: str, values: dict[str, Any] | None = None,
           names: dict[str, str] | None = None) -> ast.Update:
    return Placeholders(names, values).resolve(parse_update(text), "UpdateExpression")


@pytest.mark.parametrize(("text", "values", "expected"), [
    ("amount = :v", {":v": {"N": "42.50"}}, True),
    ("amount <> :v", {":v": {"N": "42.5"}}, False),
    ("amount > :v", {":v": {"N": "9"}}, True),
    ("amount < :v", {":v": {"N": "100"}}, True),
    ("amount >= :v AND amount <= :v", {":v": {"N": "42.5"}}, True),
    ("phase < :v", {":v": {"S": "OLD"}}, True),
    ("amount = :v", {":v": {"S": "42.5"}}, False),
    ("amount BETWEEN :a AND :b", {":a": {"N": "1"}, ":b": {"N": "50"}}, True),
    ("amount between :a and :b", {":a": {"N": "43"}, ":b": {"N": "50"}}, False),
    ("phase IN (:a, :b)", {":a": {"S": "OLD"}, ":b": {"S": "NEW"}}, True),
    ("phase in (:a)", {":a": {"S": "OLD"}}, False),
    ("attribute_exists(address.city)", None, True),
    ("attribute_exists(address.country)", None, False),
    ("attribute_not_exists(absent)", None, True),
    ("attribute_type(tags, :t)", {":t": {"S": "SS"}}, True),
    ("attribute_type(tags, :t)", {":t": {"S": "L"}}, False),
    ("begins_with(pk, :p)", {":p": {"S": "order#"}}, True),
    ("begins_with(bits, :p)", {":p": {"B": "AAE="}}, True),
    ("contains(tags, :t)", {":t": {"S": "gift"}}, True),
    ("contains(phase, :t)", {":t": {"S": "EW"}}, True),
    ("contains(parts, :t)", {":t": {"N": "3"}}, True),
    ("size(tags) = :two AND size(phase) = :three", {":two": {"N": "2"}, ":three": {"N": "3"}},
     True),
    ("size(parts[0].sku) = :one", {":one": {"N": "1"}}, True),
    ("size(absent) >= :zero", {":zero": {"N": "0"}}, False),
    ("NOT phase = :v", {":v": {"S": "NEW"}}, False),
    ("(phase = :a OR phase = :b) AND NOT (amount < :c)",
     {":a": {"S": "X"}, ":b": {"S": "NEW"}, ":c": {"N": "1"}}, True),
    ("phase = :a OR phase = :b AND amount < :c",  # AND binds tighter than OR
     {":a": {"S": "NEW"}, ":b": {"S": "X"}, ":c": {"N": "1"}}, True),
    ("parts[0].sku = :a AND parts[1] = :three", {":a": {"S": "a"}, ":three": {"N": "3"}}, True),
    ("flag = :t AND nothing = :n", {":t": {"BOOL": True}, ":n": {"NULL": True}}, True),
    ("tags = :same", {":same": {"SS": ["rush", "gift"]}}, True),
    ("absent <> :v", {":v": {"S": "x"}}, True),
    ("absent = :v", {":v": {"S": "x"}}, False),
])
def test_conditions_evaluate_as_dynamodb_does(text: str, values: dict[str, Any] | None,
                                              expected: bool) -> None:
    # Given an item and a condition / When it is evaluated / Then the outcome is DynamoDB's
    assert holds(condition(text, values), ITEM) is expected


def test_name_placeholders_resolve_in_paths() -> None:
    # Given a reserved word and a dotted name behind placeholders
    parsed = condition("#s = :v AND #a.#c = :city", {":v": {"S": "NEW"}, ":city": {"S": "Lyon"}},
                       {"#s": "phase", "#a": "address", "#c": "city"})
    # Then they name the attributes
    assert holds(parsed, ITEM)


def test_keywords_are_case_insensitive_and_prefixes_of_names_are_names() -> None:
    # Given attribute names that start like keywords
    item = {"android": {"S": "x"}, "orderly": {"N": "1"}, "notes": {"S": "n"}}
    parsed = condition("android = :a and orderly between :o and :o AnD notes = :n",
                       {":a": {"S": "x"}, ":o": {"N": "1"}, ":n": {"S": "n"}})
    # Then they parse as names and the condition holds
    assert holds(parsed, item)


def test_reserved_words_need_a_name_placeholder() -> None:
    # Given a bare reserved word (case-insensitive), even as a nested member
    for text in ("Status = :v", "a.name = :v", "size(data) > :v"):
        # When the expression is resolved / Then DynamoDB's refusal names the word
        with pytest.raises(ValidationError, match="Attribute name is a reserved keyword; "
                                                  "reserved keyword: "):
            condition(text, {":v": {"S": "x"}})
    # And behind a placeholder the same name is fine
    assert holds(condition("#s = :v", {":v": {"S": "x"}}, {"#s": "Status"}), {"Status": {"S": "x"}})


@pytest.mark.parametrize(("text", "message"), [
    ("SET a", 'Invalid UpdateExpression: Syntax error; token: "<EOF>", near: "SET a"'),
    ("SET a = = :v", 'Invalid UpdateExpression: Syntax error; token: "=", near: "= = :v"'),
    ("SET a = :v SET b = :v", 'Invalid UpdateExpression: The "SET" section can only be used '
                              "once in an update expression;"),
    ("SET a = size(b)", "Invalid UpdateExpression: The function is not allowed in an update "
                        "expression; function: size"),
    ("", "Invalid UpdateExpression: The expression can not be empty;"),
])
def test_bad_update_expressions_are_refused_with_dynamodb_messages(text: str,
                                                                   message: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_update(text)
    assert error.value.message == message
    assert error.value.code == "ValidationException"


@pytest.mark.parametrize(("text", "message"), [
    ("a = ", 'Syntax error; token: "<EOF>", near: "a ="'),
    ("a $ b", 'Syntax error; token: "$", near: "a $"'),
    ("size(a)", "The function is not allowed to be used this way in an expression; "
                "function: size"),
    ("foo(a)", "Invalid function name; function: foo"),
    ("begins_with(a)", "Incorrect number of operands for operator or function; operator or "
                       "function: begins_with, number of operands: 1"),
    ("attribute_exists(:v)", "Operator or function requires a document path; operator or "
                             "function: attribute_exists"),
    ("begins_with(a, :v) = :v", "The function is not allowed to be used this way in an "
                                "expression; function: begins_with"),
])
def test_bad_conditions_are_refused(text: str, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        parse_condition(text)
    assert error.value.message == f"Invalid ConditionExpression: {message}"


@pytest.mark.parametrize(("text", "names", "values", "message"), [
    ("a = :x", None, {":v": {"S": "1"}}, "Invalid ConditionExpression: An expression attribute "
     "value used in expression is not defined; attribute value: :x"),
    ("#n = :v", None, {":v": {"S": "1"}}, "Invalid ConditionExpression: An expression attribute "
     "name used in the document path is not defined; attribute name: #n"),
    ("a = :v", None, {":v": {"S": "1"}, ":w": {"S": "2"}}, "Value provided in "
     "ExpressionAttributeValues unused in expressions: keys: {:w}"),
    ("a = :v", {"#n": "x"}, {":v": {"S": "1"}}, "Value provided in ExpressionAttributeNames "
     "unused in expressions: keys: {#n}"),
    ("a = :v", None, {"v": {"S": "1"}}, 'ExpressionAttributeValues contains invalid key: Syntax '
     'error; key: "v"'),
    ("a = :v", {"n": "x"}, {":v": {"S": "1"}}, 'ExpressionAttributeNames contains invalid key: '
     'Syntax error; key: "n"'),
    ("a < :v", None, {":v": {"SS": ["x"]}}, "Invalid ConditionExpression: Incorrect operand type "
     "for operator or function; operator or function: <, operand type: SS"),
    ("a BETWEEN :hi AND :lo", None, {":hi": {"N": "5"}, ":lo": {"N": "1"}},
     "Invalid ConditionExpression: The BETWEEN operator requires upper bound to be greater than "
     "or equal to lower bound; lower bound operand: AttributeValue: {N:5,}, upper bound "
     "operand: AttributeValue: {N:1,}"),
    ("attribute_type(a, :t)", None, {":t": {"S": "STRING"}}, "Invalid ConditionExpression: "
     "Invalid attribute type name found in type argument of attribute_type function; type: "
     "STRING"),
])
def test_placeholder_errors(text: str, names: dict[str, str] | None,
                            values: dict[str, Any] | None, message: str) -> None:
    with pytest.raises(ValidationError) as error:
        condition(text, values, names)
    assert error.value.message == message


def test_update_set_remove_add_delete_compute_from_the_old_item() -> None:
    # Given an update with every clause, arithmetic, functions and nested paths
    parsed = update(
        "SET amount = amount + :ten, count_ = if_not_exists(count_, :zero) - :one, "
        "parts = list_append(parts, :more), address.city = :city, parts[0].sku = amount "
        "REMOVE flag, nothing ADD visits :one, tags :new DELETE labels :gone",
        {":ten": {"N": "10"}, ":zero": {"N": "0"}, ":one": {"N": "1"},
         ":more": {"L": [{"S": "x"}]}, ":city": {"S": "Paris"}, ":new": {"SS": ["new"]},
         ":gone": {"SS": ["old"]}})
    item = dict(ITEM, labels={"SS": ["old"]})
    # When it is applied
    new = apply_update(parsed, item)
    # Then every operand was read from the item as it was
    assert new["amount"] == {"N": "52.5"}
    assert new["count_"] == {"N": "-1"}
    assert new["parts"]["L"][-1] == {"S": "x"} and len(new["parts"]["L"]) == 3
    assert new["parts"]["L"][0] == {"M": {"sku": {"N": "42.5"}}}
    assert new["address"]["M"]["city"] == {"S": "Paris"}
    assert "flag" not in new and "nothing" not in new
    assert new["visits"] == {"N": "1"}
    assert new["tags"] == {"SS": ["gift", "rush", "new"]}
    assert "labels" not in new  # an emptied set is removed
    # And the old item is untouched
    assert item["amount"] == {"N": "42.5"} and "flag" in item


def test_list_elements_are_removed_by_their_original_indexes() -> None:
    item = {"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}, {"N": "3"}]}}
    new = apply_update(update("REMOVE l[1], l[2]"), item)
    assert new["l"] == {"L": [{"N": "0"}, {"N": "3"}]}


def test_set_past_the_end_of_a_list_appends() -> None:
    new = apply_update(update("SET l[10] = :v", {":v": {"S": "x"}}), {"l": {"L": [{"S": "a"}]}})
    assert new["l"] == {"L": [{"S": "a"}, {"S": "x"}]}


@pytest.mark.parametrize(("text", "values", "message"), [
    ("SET a = absent + :one", {":one": {"N": "1"}},
     "The provided expression refers to an attribute that does not exist in the item"),
    ("SET a = phase + :one", {":one": {"N": "1"}},
     "An operand in the update expression has an incorrect data type"),
    ("SET address.nowhere.city = :one", {":one": {"N": "1"}},
     "The document path provided in the update expression is invalid for update"),
    ("ADD phase :one", {":one": {"N": "1"}},
     "An operand in the update expression has an incorrect data type"),
    ("SET amount = :big + :big", {":big": {"N": "9.9E+125"}},
     "Number overflow. Attempting to store a number with magnitude larger than supported range"),
])
def test_update_errors_against_the_item(text: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        apply_update(update(text, values), ITEM)
    assert error.value.message == message


@pytest.mark.parametrize(("text", "values", "message"), [
    ("SET a = :v, a.b = :v", {":v": {"S": "x"}}, "Invalid UpdateExpression: Two document paths "
     "overlap with each other; must remove or rewrite one of these paths; path one: [a], path "
     "two: [a, b]"),
    ("SET pk = :v", {":v": {"S": "x"}}, "One or more parameter values were invalid: Cannot "
     "update attribute pk. This attribute is part of the key"),
    ("ADD a :v", {":v": {"S": "x"}}, "Invalid UpdateExpression: Incorrect operand type for "
     "operator or function; operator: ADD, operand type: STRING"),
    ("DELETE a :v", {":v": {"N": "1"}}, "Invalid UpdateExpression: Incorrect operand type for "
     "operator or function; operator: DELETE, operand type: NUMBER"),
])
def test_updates_refused_before_reading_the_item(text: str, values: dict[str, Any],
                                                 message: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_update(update(text, values), ["pk"])
    assert error.value.message == message


def test_projection_keeps_named_paths_and_list_order() -> None:
    # Given nested and indexed paths
    parsed = parse_projection("address.city, parts[1], parts[0].sku, absent, pk")
    # When the item is projected
    projected = project(ITEM, parsed.paths)
    # Then only those paths remain, lists compacted in index order
    assert projected == {"address": {"M": {"city": {"S": "Lyon"}}},
                         "parts": {"L": [{"M": {"sku": {"S": "a"}}}, {"N": "3"}]},
                         "pk": {"S": "order#1"}}


def test_parsed_expressions_are_cached_by_text() -> None:
    assert parse_condition("a = :v AND b = :w") is parse_condition("a = :v AND b = :w")


# DynamoDB's limits on an expression, checked before the tree is built


@pytest.mark.parametrize(("kind", "parse", "told"), [
    ("ConditionExpression", lambda text: parse_condition(text), True),
    ("FilterExpression", lambda text: parse_condition(text, "FilterExpression"), True),
    ("KeyConditionExpression", lambda text: parse_condition(text, "KeyConditionExpression"),
     False),
    ("UpdateExpression", lambda text: parse_update("SET " + text), False),
    ("ProjectionExpression", lambda text: parse_projection(text), False),
])
def test_an_expression_over_4_kb_is_refused_before_parsing(kind: str, parse: Any,
                                                            told: bool) -> None:
    # Given an expression whose text (a long attribute name) passes 4,096 bytes
    name = "a" + "z" * 4_100
    text = {"ProjectionExpression": name, "UpdateExpression": f"{name} = :v"}.get(
        kind, f"{name} = :v")
    # When it is parsed, Then DynamoDB's refusal comes back (with the size where it tells it)
    with pytest.raises(ValidationError) as error:
        parse(text)
    size = len(text) + (4 if kind == "UpdateExpression" else 0)
    suffix = f" expression size: {size}" if told else ""
    assert error.value.message == (f"Invalid {kind}: Expression size has exceeded the maximum "
                                   f"allowed size;{suffix}")


def test_an_expression_of_exactly_4_kb_is_parsed() -> None:
    text = "a" + "z" * 4_095
    assert parse_projection(text).paths == (ast.Path((text,)),)


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    # Given 1,100 three-byte characters (3,300 bytes, 1,100 characters) inside a 4 KB limit
    # and 1,400 of them (4,200 bytes) past it
    with pytest.raises(ValidationError, match="Expression size has exceeded"):
        parse_condition("#" + "\u20ac" * 1_400 + " = :v")
    with pytest.raises(ValidationError, match="Syntax error"):  # parsed, not refused on size
        parse_condition("#" + "\u20ac" * 1_100 + " = :v")


def test_more_than_300_operators_are_refused() -> None:
    # Given 300 operators (150 comparisons joined by 149 ANDs and one NOT) and one more
    within = "NOT " + " AND ".join(["a = :v"] * 150)
    over = "NOT NOT " + " AND ".join(["a = :v"] * 150)
    # When they are parsed, Then the first is a condition and the second DynamoDB's refusal
    assert isinstance(parse_condition(within), ast.And)
    with pytest.raises(ValidationError) as error:
        parse_condition(over)
    assert error.value.message == ("Invalid ConditionExpression: The expression contains too "
                                   "many operators; operator count: 301")


def test_nested_operators_within_the_cap_resolve_and_evaluate() -> None:
    # Given 299 NOTs around one comparison: a tree 300 deep
    text = "NOT " * 299 + "a = :v"
    # When it is resolved and evaluated, Then no walk runs out of stack
    resolved = condition(text, {":v": {"S": "x"}})
    assert holds(resolved, {"a": {"S": "x"}}) is False  # an odd number of NOTs


def test_redundant_parentheses_add_no_depth() -> None:
    text = "(" * 2_000 + "a = :v" + ")" * 2_000
    assert holds(condition(text, {":v": {"S": "x"}}), {"a": {"S": "x"}})


@pytest.mark.parametrize(("text", "one", "two", "verb"), [
    ("REMOVE a.b, c, a", "[a, b]", "[a]", "overlap"),
    ("REMOVE c, a, a.b", "[a]", "[a, b]", "overlap"),
    ("REMOVE x, a[1], y, a[1]", "[a, [1]]", "[a, [1]]", "conflict"),
    ("REMOVE b.c, a.b.c, a, b", "[b, c]", "[b]", "overlap"),
])
def test_the_first_overlapping_pair_in_the_expression_is_named(text: str, one: str, two: str,
                                                               verb: str) -> None:
    with pytest.raises(ValidationError) as error:
        check_update(update(text), ["pk"])
    assert error.value.message == (
        f"Invalid UpdateExpression: Two document paths {verb} with each other; must remove or "
        f"rewrite one of these paths; path one: {one}, path two: {two}")


def test_an_overlap_at_the_end_of_hundreds_of_paths_is_found() -> None:
    # Given a REMOVE of 600 distinct paths (nearly 4 KB) whose last path lies under the first,
    # the worst case of a pair-by-pair check
    text = "REMOVE " + ",".join([*(f"a{index}" for index in range(600)), "a0.x"])
    assert len(text) < 4_096
    # When it is checked, Then the pair found is the first path and the last
    with pytest.raises(ValidationError, match=r"path one: \[a0\], path two: \[a0, x\]"):
        check_update(update(text), ["pk"])


def test_removing_a_member_and_an_index_of_one_attribute_in_one_update() -> None:
    # Given an item and an update removing `m.a` and `m[0]` (a TypeError once: str and int
    # elements were compared to order the removals); found by test_properties
    item = {"pk": {"S": "k"}, "m": {"M": {"a": {"S": "x"}, "b": {"S": "y"}}}}
    # When it is applied, Then the map member goes and the index (of a map) is invalid
    with pytest.raises(ValidationError, match="document path provided in the update expression"):
        apply_update(update("REMOVE m.a, m[0]"), item)
    assert apply_update(update("REMOVE m.a, l[0]"), {**item, "l": {"L": [{"N": "1"}]}}) == {
        "pk": {"S": "k"}, "m": {"M": {"b": {"S": "y"}}}, "l": {"L": []}}
