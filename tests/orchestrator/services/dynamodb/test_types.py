"""Attribute values: number semantics, ordering of encoded keys, sizes and validation."""

from __future__ import annotations

import random
from decimal import Decimal
from typing import Any

import pytest

from orchestrator.services.dynamodb import types
from orchestrator.services.dynamodb.errors import ValidationError


def test_numbers_are_normalized_like_dynamodb() -> None:
    assert types.validate_value({"N": "1.50"}) == {"N": "1.5"}
    assert types.validate_value({"N": "100"}) == {"N": "100"}
    assert types.validate_value({"N": "-0.0"}) == {"N": "0"}
    assert types.validate_value({"N": "1E+3"}) == {"N": "1000"}
    assert types.validate_value({"NS": ["1", "2.0"]}) == {"NS": ["1", "2"]}


@pytest.mark.parametrize(("value", "message"), [
    ({"N": "abc"}, "A value provided cannot be converted into a number"),
    ({"N": "NaN"}, "A value provided cannot be converted into a number"),
    ({"N": "1E+126"}, types.OVERFLOW),
    ({"N": "1E+999999999"}, types.OVERFLOW),
    ({"N": "1E-999999999"}, "Number underflow. Attempting to store a number with magnitude "
                            "smaller than supported range"),
    ({"N": "1" * 39}, "Attempting to store more than 38 significant digits in a Number"),
    ({"SS": []}, "One or more parameter values were invalid: An string set  may not be empty"),
    ({"SS": ["a", "a"]}, "One or more parameter values were invalid: Input collection [a, a] "
                         "contains duplicates."),
    ({"NS": ["1", "1.0"]}, "One or more parameter values were invalid: Input collection [1, "
                           "1.0] contains duplicates."),
    ({}, "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes"),
    ({"S": "a", "N": "1"}, "Supplied AttributeValue has more than one datatypes set, must "
                           "contain exactly one of the supported datatypes"),
    ({"NULL": False}, "One or more parameter values were invalid: Null attribute value types "
                      "must have the value of true"),
])
def test_invalid_values_are_refused(value: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError) as error:
        types.validate_value(value)
    assert error.value.message == message


def nested(levels: int, kind: str = "M") -> dict[str, Any]:
    """A string wrapped `levels` times in single-member maps (or lists)."""
    value: dict[str, Any] = {"S": "leaf"}
    for _ in range(levels):
        value = {"M": {"n": value}} if kind == "M" else {"L": [value]}
    return value


@pytest.mark.parametrize("kind", ["M", "L"])
def test_nesting_is_allowed_to_32_levels_and_refused_past_them(kind: str) -> None:
    # Given values whose leaf sits at level 32 (31 wraps) and at level 33 (32 wraps)
    deepest, too_deep = nested(31, kind), nested(32, kind)
    # When they are validated, Then the first passes and the second gets DynamoDB's refusal
    assert types.validate_value(deepest) == deepest
    with pytest.raises(ValidationError) as error:
        types.validate_item({"pk": {"S": "a"}, "deep": too_deep})
    assert error.value.message == ("Nesting Levels have exceeded supported limits: Attributes "
                                   "in the item have nested levels beyond supported limit")


def test_nesting_far_past_the_limit_is_refused_without_recursing_through_it() -> None:
    # Given a value nested 5,000 levels, deeper than Python's recursion limit
    # When it is validated, Then the refusal comes at level 33, not as a RecursionError
    with pytest.raises(ValidationError, match="Nesting Levels have exceeded"):
        types.validate_value(nested(5_000))


def test_an_item_built_deeper_than_32_levels_is_refused() -> None:
    # Given an item an update nested past the limit (each part alone was within it)
    item = {"pk": {"S": "a"}, "deep": {"M": {"n": nested(31)}}}
    # When its nesting is checked, Then DynamoDB's refusal comes back
    with pytest.raises(ValidationError, match="Nesting Levels have exceeded"):
        types.check_nesting(item)
    types.check_nesting({"pk": {"S": "a"}, "deep": nested(31)})


def test_encoded_numbers_sort_as_decimals() -> None:
    # Given numbers of every sign and magnitude, in a shuffled order
    numbers = ["-1E+100", "-123.45", "-10", "-9.99", "-1", "-0.5", "-0.05", "0", "1E-130",
               "0.05", "0.5", "1", "1.2", "1.25", "9.99", "10", "123.45", "1E+100",
               "99999999999999999999999999999999999999"]
    shuffled = random.Random(7).sample(numbers, len(numbers))
    # When they are sorted by their encoded key's bytes
    by_key = sorted(shuffled, key=lambda n: types.encode_key(types.validate_value({"N": n}))
                    .encode())
    # Then the order is numeric
    assert by_key == sorted(numbers, key=Decimal)


def test_strings_and_binaries_sort_by_bytes() -> None:
    words = ["b", "a", "ab", "Z", "é", "aa", ""]
    assert sorted(words, key=lambda w: types.encode_key({"S": w}).encode()) == sorted(
        words, key=str.encode)
    assert types.encode_key({"B": "AAE="}) < types.encode_key({"B": "AAI="})


def test_item_sizes_follow_dynamodb_rules() -> None:
    # Given AWS's example item: {"Message": "New item!", "Id": 101}
    item = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
    # Then it counts 21 bytes (names + UTF-8 text + about one byte per two digits, plus one)
    assert types.item_size(item) == 21
    assert types.value_size({"L": [{"BOOL": True}, {"NULL": True}]}) == 3 + 2 + 2


def test_comparisons_and_equality() -> None:
    assert types.compare({"N": "10"}, {"N": "9"}) == 1
    assert types.compare({"S": "10"}, {"S": "9"}) == -1
    assert types.compare({"S": "1"}, {"N": "1"}) is None
    assert types.equal({"NS": ["1", "2"]}, {"NS": ["2", "1"]})
    assert types.equal({"M": {"a": {"L": [{"N": "1"}]}}}, {"M": {"a": {"L": [{"N": "1.0"}]}}})
