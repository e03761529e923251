"""A table's definition: key schema, stream settings, and the checks of keys against it."""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from orchestrator.events.dynamodb import stream_arn
from orchestrator.services.dynamodb import keys, types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.types import Item
from orchestrator.settings import ACCOUNT_ID

KEY_MISMATCH = "The provided key element does not match the schema"
NAME_PATTERN = re.compile(r"[a-zA-Z0-9_.-]+")
# A table's ARN is accepted wherever its name is (`arn:aws:dynamodb:us-east-1:…:table/orders`).
TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]*:[0-9]*:table/([a-zA-Z0-9_.-]{3,255})")


def exact_key(key: Any, wanted: dict[str, str]) -> Item:
    """`key` validated as exactly the attributes `wanted` names, each of the type it names
    ("S", "N", "B"); DynamoDB's key mismatch otherwise."""
    if not isinstance(key, dict):
        raise ValidationError(KEY_MISMATCH)
    key = {name: types.validate_value(value) for name, value in key.items()}
    if set(key) != set(wanted) or any(types.type_of(key[name]) != kind
                                       for name, kind in wanted.items()):
        raise ValidationError(KEY_MISMATCH)
    return key


def check_table_name(name: Any, member: str = "tableName") -> str:
    if not isinstance(name, str) or not name:
        raise ValidationError(f"1 validation error detected: Value null at '{member}' failed to "
                              "satisfy constraint: Member must not be null")
    arn = TABLE_ARN.fullmatch(name)
    if arn:
        return arn.group(1)
    if not NAME_PATTERN.fullmatch(name):
        raise ValidationError(f"1 validation error detected: Value '{name}' at '{member}' failed "
                              "to satisfy constraint: Member must satisfy regular expression "
                              "pattern: [a-zA-Z0-9_.-]+")
    if not 3 <= len(name) <= 255:
        bound = "greater than or equal to 3" if len(name) < 3 else "less than or equal to 255"
        raise ValidationError(f"1 validation error detected: Value '{name}' at '{member}' failed "
                              f"to satisfy constraint: Member must have length {bound}")
    return name


def stream_label(when: float) -> str:
    """DynamoDB's stream label: the creation time, e.g. `2015-06-27T00:48:05.899`."""
    return datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3]


@dataclass
class Table:
    name: str
    hash_key: str
    hash_type: str
    region: str
    id: str
    created: float
    range_key: str | None = None
    range_type: str | None = None
    stream_view_type: str | None = None
    stream_label: str | None = None
    billing_mode: str = "PAY_PER_REQUEST"
    throughput: dict[str, int] = field(default_factory=dict)
    attribute_types: dict[str, str] = field(default_factory=dict)  # index keys' types
    indexes: list[dict[str, Any]] = field(default_factory=list)  # Index.to_dict() each
    index_version: int = 0  # changes when an index is added or removed (writes check it)
    ttl_attribute: str | None = None
    deletion_protection: bool = False
    tags: dict[str, str] = field(default_factory=dict)

    def items_key(self, partition: str) -> str:
        return keys.items(self.name, partition)

    def order_key(self, partition: str) -> str:
        return keys.order(self.name, partition)

    def partitions_key(self) -> str:
        return keys.partitions(self.name)

    def counter_names(self) -> tuple[str, str]:
        """The fields of the table's hash counting its items and their bytes."""
        return "count", "size"

    @property
    def key_names(self) -> list[str]:
        return [self.hash_key] + ([self.range_key] if self.range_key else [])

    @property
    def arn(self) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{self.name}"

    @property
    def stream_arn(self) -> str | None:
        if not self.stream_view_type or not self.stream_label:
            return None
        return stream_arn(self.region, self.name, self.stream_label)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str | bytes) -> Table:
        return cls(**json.loads(text))

    def _key_types(self) -> list[tuple[str, str]]:
        pairs = [(self.hash_key, self.hash_type)]
        if self.range_key and self.range_type:
            pairs.append((self.range_key, self.range_type))
        return pairs

    def key_of_item(self, item: Item) -> Item:
        """The primary key of a whole item (PutItem): DynamoDB's messages for what is wrong."""
        for name, kind in self._key_types():
            if name not in item:
                raise ValidationError(f"{types.INVALID}Missing the key {name} in the item")
            actual = types.type_of(item[name])
            if actual != kind:
                raise ValidationError(f"{types.INVALID}Type mismatch for key {name} expected: "
                                      f"{kind} actual: {actual}")
        key = {name: item[name] for name in self.key_names}
        self._check_key_values(key)
        return key

    def check_key(self, key: Any) -> Item:
        """A `Key` parameter (GetItem, DeleteItem, …): exactly the key attributes, right types."""
        key = exact_key(key, dict(self._key_types()))
        self._check_key_values(key)
        return key

    def _check_key_values(self, key: Item) -> None:
        for name, value in key.items():
            if types.value_size(value) == 0 and types.type_of(value) in ("S", "B"):
                raise ValidationError("One or more parameter values are not valid. The "
                                      "AttributeValue for a key attribute cannot contain an "
                                      f"empty {'string' if 'S' in value else 'binary'} value. "
                                      f"Key: {name}")
        if types.value_size(key[self.hash_key]) > 2048:
            raise ValidationError(f"{types.INVALID}Size of hashkey has exceeded the maximum "
                                  "size limit of 2048 bytes")
        if self.range_key and types.value_size(key[self.range_key]) > 1024:
            raise ValidationError(f"{types.INVALID}Aggregated size of all range keys has "
                                  "exceeded the size limit of 1024 bytes")

    def partition(self, key: Item) -> str:
        return types.encode_key(key[self.hash_key])

    def sort(self, key: Item) -> str:
        return types.encode_key(key[self.range_key]) if self.range_key else ""

    def key_schema(self) -> list[dict[str, str]]:
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        return schema

    def description(self, item_count: int, size: int) -> dict[str, Any]:
        """DescribeTable's TableDescription."""
        described: dict[str, Any] = {
            "TableName": self.name,
            "TableStatus": "ACTIVE",
            "TableArn": self.arn,
            "TableId": self.id,
            "CreationDateTime": self.created,
            "KeySchema": self.key_schema(),
            "AttributeDefinitions": [{"AttributeName": name, "AttributeType": kind}
                                     for name, kind in [*self._key_types(),
                                                        *self.attribute_types.items()]],
            "ItemCount": item_count,
            "TableSizeBytes": size,
            "ProvisionedThroughput": {"NumberOfDecreasesToday": 0,
                                      "ReadCapacityUnits": self.throughput.get("read", 0),
                                      "WriteCapacityUnits": self.throughput.get("write", 0)},
            "BillingModeSummary": {"BillingMode": self.billing_mode},
            "DeletionProtectionEnabled": self.deletion_protection,
        }
        if self.stream_view_type:
            described["StreamSpecification"] = {"StreamEnabled": True,
                                                "StreamViewType": self.stream_view_type}
        if self.stream_label:
            described["LatestStreamLabel"] = self.stream_label
            described["LatestStreamArn"] = stream_arn(self.region, self.name, self.stream_label)
        return described
