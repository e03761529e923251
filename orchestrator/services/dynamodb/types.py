"""Attribute values as DynamoDB's wire format has them (`{"S": "x"}`, `{"N": "1.5"}`, …):
validation, Decimal numbers, comparisons, sizes and an order-preserving key encoding."""

from __future__ import annotations

import base64
import binascii
from decimal import Context, Decimal, InvalidOperation
from typing import Any

from orchestrator.services.dynamodb.errors import ValidationError

AttributeValue = dict[str, Any]
Item = dict[str, AttributeValue]

TYPES = ("S", "N", "B", "SS", "NS", "BS", "M", "L", "BOOL", "NULL")
SCALAR_KEY_TYPES = ("S", "N", "B")
MAX_ITEM_SIZE = 400 * 1024
# Levels of nesting, the attribute's own value being level 1: 31 wraps of L or M are allowed.
MAX_NESTING = 32
NESTING_EXCEEDED = ("Nesting Levels have exceeded supported limits: Attributes in the item have "
                    "nested levels beyond supported limit")
# DynamoDB numbers: 38 significant digits, magnitudes 1E-130 to 9.99…E+125.
NUMBER_CONTEXT = Context(prec=38, Emax=125, Emin=-130)
_EXACT = Context(prec=1000, Emax=10**6, Emin=-(10**6))  # normalizes without rounding
INVALID = "One or more parameter values were invalid: "
OVERFLOW = ("Number overflow. Attempting to store a number with magnitude larger than supported "
            "range")


def type_of(value: AttributeValue) -> str:
    return next(iter(value))


def parse_number(text: Any) -> Decimal:
    """A DynamoDB number as a Decimal, or the ValidationException DynamoDB answers."""
    if not isinstance(text, str):
        raise ValidationError("A value provided cannot be converted into a number")
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        raise ValidationError("A value provided cannot be converted into a number") from None
    if not number.is_finite() or text.strip() != text or text == "":
        raise ValidationError("A value provided cannot be converted into a number")
    return check_number(number)


def check_number(number: Decimal) -> Decimal:
    if number.is_zero():
        return Decimal(0)
    # Counted before normalizing: `1E999999999` is past what even _EXACT can hold.
    significant = "".join(map(str, number.as_tuple().digits)).rstrip("0")
    if len(significant) > 38:
        raise ValidationError("Attempting to store more than 38 significant digits in a Number")
    if number.adjusted() > 125:
        raise ValidationError(OVERFLOW)
    if number.adjusted() < -130:
        raise ValidationError("Number underflow. Attempting to store a number with magnitude "
                              "smaller than supported range")
    return number.normalize(_EXACT)


def format_number(number: Decimal) -> str:
    """DynamoDB's canonical text: no exponent, no trailing zeros (`1.50` → `1.5`)."""
    return "0" if number.is_zero() else format(number.normalize(_EXACT), "f")


def number_of(value: AttributeValue) -> Decimal:
    return Decimal(value["N"])


def number_value(number: Decimal) -> AttributeValue:
    return {"N": format_number(check_number(number))}


def _binary(text: Any) -> bytes:
    if not isinstance(text, str):
        raise ValidationError("Invalid binary value: expected a base64 string")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("Invalid binary value: not valid base64") from None


def _no_duplicates(members: list[Any], shown: list[str]) -> None:
    if len(set(members)) != len(members):
        raise ValidationError(f"{INVALID}Input collection [{', '.join(shown)}] contains "
                              "duplicates.")


def validate_value(value: Any, level: int = 1) -> AttributeValue:
    """A normalized copy of a client's attribute value; raises ValidationError as DynamoDB does.
    `level` is how deep the value sits (an attribute's own value is level 1)."""
    if level > MAX_NESTING:
        raise ValidationError(NESTING_EXCEEDED)
    if not isinstance(value, dict) or not value:
        raise ValidationError("Supplied AttributeValue is empty, must contain exactly one of the "
                              "supported datatypes")
    if len(value) > 1:
        raise ValidationError("Supplied AttributeValue has more than one datatypes set, must "
                              "contain exactly one of the supported datatypes")
    kind, payload = next(iter(value.items()))
    if kind == "S":
        if not isinstance(payload, str):
            raise ValidationError("Invalid value for S: expected a string")
        return {"S": payload}
    if kind == "N":
        return {"N": format_number(parse_number(payload))}
    if kind == "B":
        _binary(payload)
        return {"B": payload}
    if kind == "BOOL":
        if not isinstance(payload, bool):
            raise ValidationError("Invalid value for BOOL: expected true or false")
        return {"BOOL": payload}
    if kind == "NULL":
        if payload is not True:
            raise ValidationError(f"{INVALID}Null attribute value types must have the value of "
                                  "true")
        return {"NULL": True}
    if kind in ("SS", "NS", "BS"):
        return _validate_set(kind, payload)
    if kind == "L":
        if not isinstance(payload, list):
            raise ValidationError("Invalid value for L: expected a list")
        return {"L": [validate_value(member, level + 1) for member in payload]}
    if kind == "M":
        if not isinstance(payload, dict):
            raise ValidationError("Invalid value for M: expected a map")
        return {"M": {str(name): validate_value(member, level + 1)
                      for name, member in payload.items()}}
    raise ValidationError(f"Supplied AttributeValue has an unsupported datatype: {kind}")


def _validate_set(kind: str, payload: Any) -> AttributeValue:
    if not isinstance(payload, list):
        raise ValidationError(f"Invalid value for {kind}: expected a list")
    if not payload:
        empty = {"SS": "An string set  may not be empty", "NS": "An number set  may not be empty",
                 "BS": "Binary sets should not be empty"}[kind]
        raise ValidationError(INVALID + empty)
    if kind == "SS":
        if not all(isinstance(member, str) for member in payload):
            raise ValidationError("Invalid value for SS: expected strings")
        _no_duplicates(payload, payload)
        return {"SS": list(payload)}
    if kind == "NS":
        numbers = [parse_number(member) for member in payload]
        _no_duplicates(numbers, [str(member) for member in payload])
        return {"NS": [format_number(number) for number in numbers]}
    _no_duplicates([_binary(member) for member in payload], list(payload))
    return {"BS": list(payload)}


def validate_item(item: Any) -> Item:
    if not isinstance(item, dict):
        raise ValidationError("Item must be a map of attribute names to attribute values")
    return {str(name): validate_value(value) for name, value in item.items()}


def check_nesting(item: Item) -> None:
    """An item built by an update (`SET a.b.c = :deep`) may nest deeper than either part did."""
    pending = [(value, 1) for value in item.values()]
    while pending:
        value, level = pending.pop()
        if level > MAX_NESTING:
            raise ValidationError(NESTING_EXCEEDED)
        kind = type_of(value)
        if kind == "L":
            pending.extend((member, level + 1) for member in value["L"])
        elif kind == "M":
            pending.extend((member, level + 1) for member in value["M"].values())


def _set_members(value: AttributeValue) -> set[Any]:
    kind = type_of(value)
    if kind == "NS":
        return {Decimal(member) for member in value["NS"]}
    if kind == "BS":
        return {_binary(member) for member in value["BS"]}
    return set(value[kind])


def scalar(value: AttributeValue) -> Any:
    """The comparable Python value of an S, N or B (str, Decimal, bytes)."""
    kind = type_of(value)
    if kind == "N":
        return Decimal(value["N"])
    if kind == "B":
        return _binary(value["B"])
    return value[kind]


def compare(left: AttributeValue, right: AttributeValue) -> int | None:
    """-1, 0 or 1 for two S, N or B values of one type; None when they are not ordered."""
    kind = type_of(left)
    if kind != type_of(right) or kind not in SCALAR_KEY_TYPES:
        return None
    a, b = scalar(left), scalar(right)
    if kind == "S":
        a, b = a.encode(), b.encode()  # DynamoDB orders strings by their UTF-8 bytes
    return (a > b) - (a < b)


def equal(left: AttributeValue, right: AttributeValue) -> bool:
    kind = type_of(left)
    if kind != type_of(right):
        return False
    if kind in SCALAR_KEY_TYPES:
        return compare(left, right) == 0
    if kind in ("SS", "NS", "BS"):
        return _set_members(left) == _set_members(right)
    if kind == "L":
        return len(left["L"]) == len(right["L"]) and all(
            equal(a, b) for a, b in zip(left["L"], right["L"], strict=True))
    if kind == "M":
        return left["M"].keys() == right["M"].keys() and all(
            equal(value, right["M"][name]) for name, value in left["M"].items())
    return bool(left[kind] == right[kind])


def set_union(left: AttributeValue, right: AttributeValue) -> AttributeValue:
    kind = type_of(left)
    known = _set_members(left)
    added = [member for member, parsed in zip(right[kind], _members_parsed(right), strict=True)
             if parsed not in known]
    return {kind: list(left[kind]) + list(dict.fromkeys(added))}


def set_difference(left: AttributeValue, right: AttributeValue) -> AttributeValue | None:
    """`left` without `right`'s members; None when nothing is left (DynamoDB removes the set)."""
    kind = type_of(left)
    removed = _set_members(right)
    kept = [member for member, parsed in zip(left[kind], _members_parsed(left), strict=True)
            if parsed not in removed]
    return {kind: kept} if kept else None


def _members_parsed(value: AttributeValue) -> list[Any]:
    kind = type_of(value)
    if kind == "NS":
        return [Decimal(member) for member in value["NS"]]
    if kind == "BS":
        return [_binary(member) for member in value["BS"]]
    return list(value[kind])


def contains(container: AttributeValue, member: AttributeValue) -> bool:
    kind = type_of(container)
    if kind == "S":
        return type_of(member) == "S" and member["S"] in container["S"]
    if kind == "B":
        return type_of(member) == "B" and _binary(member["B"]) in _binary(container["B"])
    if kind in ("SS", "NS", "BS"):
        return type_of(member) == kind[0] and scalar(member) in _set_members(container)
    if kind == "L":
        return any(equal(element, member) for element in container["L"])
    return False


def size_function(value: AttributeValue) -> int | None:
    """What the expression function `size()` returns; None for types it does not apply to."""
    kind = type_of(value)
    if kind == "S":
        return len(value["S"])
    if kind == "B":
        return len(_binary(value["B"]))
    if kind in ("SS", "NS", "BS", "L", "M"):
        return len(value[kind])
    return None


def _number_size(text: str) -> int:
    digits = Decimal(text).as_tuple().digits if text != "0" else (0,)
    return (len(digits) + 1) // 2 + 1


def value_size(value: AttributeValue) -> int:
    """DynamoDB's byte count of a value (names excluded), as its item-size rules define it."""
    kind = type_of(value)
    payload = value[kind]
    if kind == "S":
        return len(payload.encode())
    if kind == "N":
        return _number_size(payload)
    if kind == "B":
        return len(_binary(payload))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(member.encode()) for member in payload)
    if kind == "NS":
        return sum(_number_size(member) for member in payload)
    if kind == "BS":
        return sum(len(_binary(member)) for member in payload)
    if kind == "L":
        return 3 + sum(1 + value_size(member) for member in payload)
    return 3 + sum(1 + len(name.encode()) + value_size(member) for name, member in payload.items())


def item_size(item: Item) -> int:
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


def encode_key(value: AttributeValue) -> str:
    """A string whose byte order is the value's DynamoDB order (S, N or B), for Redis lex ranges."""
    kind = type_of(value)
    if kind == "S":
        return str(value["S"])
    if kind == "B":
        return _binary(value["B"]).hex()
    number = Decimal(value["N"])
    if number.is_zero():
        return "1"
    sign, digits, _ = number.normalize(_EXACT).as_tuple()
    biased = number.adjusted() + 200
    text = "".join(map(str, digits))
    if not sign:
        return f"2{biased:03d}{text}"
    complement = "".join(str(9 - digit) for digit in digits)
    return f"0{999 - biased:03d}{complement}~"


def key_text(value: AttributeValue) -> str:
    """How a key value appears in DynamoDB's messages."""
    kind = type_of(value)
    return f"{{{kind}:{value[kind]},}}"
