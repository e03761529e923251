"""Secondary indexes: their definitions (CreateTable's GlobalSecondaryIndexes and
LocalSecondaryIndexes, UpdateTable's GlobalSecondaryIndexUpdates), the entries an item makes
in them, and `IndexView`, an index seen as a table so Query and Scan read it as they read one.

An index is stored as a table is (items hash and order zset per partition, a partitions zset)
under its own keys. One base item is one index entry: its member is the index sort key, then the
base partition and sort key, separated by NUL, so entries with equal index keys stay distinct
and in a stable order. `store.commit` writes the entries with the base item, atomically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from orchestrator.services.dynamodb import keys, types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.schema import Table, exact_key
from orchestrator.services.dynamodb.types import INVALID, Item

SEPARATOR = "\x00"
PROJECTIONS = ("ALL", "KEYS_ONLY", "INCLUDE")


@dataclass
class Index:
    name: str
    local: bool
    hash_key: str
    range_key: str | None
    projection: str = "ALL"
    non_key: list[str] = field(default_factory=list)
    status: str = "ACTIVE"
    throughput: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()

    def key_names(self) -> list[str]:
        return [self.hash_key] + ([self.range_key] if self.range_key else [])

    def view(self, table: Table) -> IndexView:
        types_ = table.attribute_types | dict(table._key_types())
        return IndexView(name=table.name, hash_key=self.hash_key,
                         hash_type=types_[self.hash_key], region=table.region, id=table.id,
                         created=table.created, range_key=self.range_key,
                         range_type=types_[self.range_key] if self.range_key else None,
                         index=self, base_keys=table.key_names,
                         base_types=dict(table._key_types()))

    def arn(self, table: Table) -> str:
        return f"{table.arn}/index/{self.name}"

    def description(self, table: Table, count: int, size: int) -> dict[str, Any]:
        projection: dict[str, Any] = {"ProjectionType": self.projection}
        if self.projection == "INCLUDE":
            projection["NonKeyAttributes"] = self.non_key
        schema = [{"AttributeName": self.hash_key, "KeyType": "HASH"}]
        if self.range_key:
            schema.append({"AttributeName": self.range_key, "KeyType": "RANGE"})
        described: dict[str, Any] = {"IndexName": self.name, "KeySchema": schema,
                                     "Projection": projection, "IndexSizeBytes": size,
                                     "ItemCount": count, "IndexArn": self.arn(table)}
        if not self.local:
            described["IndexStatus"] = self.status
            if self.status == "CREATING":
                described["Backfilling"] = True
            described["ProvisionedThroughput"] = {
                "NumberOfDecreasesToday": 0,
                "ReadCapacityUnits": self.throughput.get("read", 0),
                "WriteCapacityUnits": self.throughput.get("write", 0)}
        return described


def indexes_of(table: Table) -> list[Index]:
    return [Index(**definition) for definition in table.indexes]


def find(table: Table, name: Any) -> Index:
    for index in indexes_of(table):
        if index.name == name:
            return index
    raise ValidationError(f"The table does not have the specified index: {name}")


@dataclass
class IndexView(Table):
    """An index read as a table: its key schema is the index's, its keys (LastEvaluatedKey,
    ExclusiveStartKey) are the index's and the table's together."""

    index: Index | None = None
    base_keys: list[str] = field(default_factory=list)
    base_types: dict[str, str] = field(default_factory=dict)

    @property
    def key_names(self) -> list[str]:
        own = [self.hash_key] + ([self.range_key] if self.range_key else [])
        return own + [name for name in self.base_keys if name not in own]

    @property
    def index_name(self) -> str:
        assert self.index is not None
        return self.index.name

    def items_key(self, partition: str) -> str:
        return keys.index(self.name, self.index_name, f"items:{partition}")

    def order_key(self, partition: str) -> str:
        return keys.index(self.name, self.index_name, f"order:{partition}")

    def partitions_key(self) -> str:
        return keys.index(self.name, self.index_name, "partitions")

    def counter_names(self) -> tuple[str, str]:
        return f"count:{self.index_name}", f"size:{self.index_name}"

    def sort(self, key: Item) -> str:
        """The entry's member: index sort key, base partition, base sort key."""
        own = types.encode_key(key[self.range_key]) if self.range_key else ""
        base = [types.encode_key(key[name]) for name in self.base_keys]
        return SEPARATOR.join([own, base[0], base[1] if len(base) > 1 else ""])

    def check_key(self, key: Any) -> Item:
        """An ExclusiveStartKey: the index's and the table's key attributes."""
        return exact_key(key, self.base_types | dict(self._key_types()))

    def entry(self, item: Item | None) -> tuple[str, str, Item] | None:
        """(partition, member, projected item) of the item's entry; None when the item lacks
        the index's keys (a sparse index). A key of the wrong type is refused, as DynamoDB does."""
        assert self.index is not None
        if item is None or any(name not in item for name in self.index.key_names()):
            return None
        for name, kind in self._key_types():
            actual = types.type_of(item[name])
            if actual != kind:
                raise ValidationError(f"{INVALID}Type mismatch for Index Key {name} Expected: "
                                      f"{kind} Actual: {actual} IndexName: {self.index_name}")
            if types.value_size(item[name]) == 0 and kind in ("S", "B"):
                raise ValidationError(
                    "One or more parameter values are not valid. A value specified for a "
                    "secondary index key is not supported. The AttributeValue for a key "
                    f"attribute cannot contain an empty {'string' if kind == 'S' else 'binary'} "
                    f"value. IndexName: {self.index_name}, IndexKey: {name}")
        return self.partition(item), self.sort(item), self.project(item)

    def project(self, item: Item) -> Item:
        assert self.index is not None
        if self.index.projection == "ALL":
            return item
        wanted = set(self.key_names) | set(self.index.non_key)
        return {name: value for name, value in item.items() if name in wanted}

    def lex_bounds(self, low: bytes | None, low_inclusive: bool, high: bytes | None,
                   high_inclusive: bool) -> tuple[bytes | None, bool, bytes | None, bool]:
        """Bounds on the index sort key, as bounds on members (sort key, NUL, base keys)."""
        if low is not None and not low_inclusive:
            low, low_inclusive = low + b"\x01", True
        if high is not None and high_inclusive:
            high, high_inclusive = high + b"\x01", False
        return low, low_inclusive, high, high_inclusive
