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
