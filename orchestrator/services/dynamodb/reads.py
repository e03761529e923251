"""Query and Scan: pages of items in key order, with Limit, ExclusiveStartKey/LastEvaluatedKey,
FilterExpression, ProjectionExpression and Select, and DynamoDB's 1 MB page."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

from orchestrator.services.dynamodb import capacity, expressions, types
from orchestrator.services.dynamodb.errors import ValidationError
from orchestrator.services.dynamodb.expressions import ast
from orchestrator.services.dynamodb.indexes import IndexView, find
from orchestrator.services.dynamodb.keyconditions import Bound, KeyRange, key_range
from orchestrator.services.dynamodb.requests import Expressions
from orchestrator.services.dynamodb.schema import Table
from orchestrator.services.dynamodb.store import Store
from orchestrator.services.dynamodb.types import Item

PAGE_BYTES = 1024 * 1024
CHUNK = 200


class Page:
    """Collects evaluated items until Limit or 1 MB; knows the last key evaluated."""

    def __init__(self, table: Table, request: dict[str, Any], given: Expressions,
                 filter_kind: str = "FilterExpression",
                 fetch: Callable[[Item], Item | None] | None = None) -> None:
        limit = request.get("Limit")
        if limit is not None and (not isinstance(limit, int) or limit < 1):
            raise ValidationError(f"1 validation error detected: Value '{limit}' at 'limit' "
                                  "failed to satisfy constraint: Member must have value greater "
                                  "than or equal to 1")
        self.table, self.limit, self.request = table, limit, request
        capacity.wanted(request)
        self.filter = given.condition(filter_kind)
        self.projection = given.projection()
        self.select = _select(request, self.projection, table)
        self.fetch = fetch if fetch and _needs_table(table, self.select, self.projection) \
            else None
        self.items: list[Item] = []
        self.scanned = 0
        self.bytes = 0
        self.last: Item | None = None

    def full(self) -> bool:
        return (self.limit is not None and self.scanned >= self.limit) or self.bytes >= PAGE_BYTES

    def offer(self, item: Item) -> None:
        self.scanned += 1
        self.bytes += types.item_size(item)
        self.last = item
        if self.fetch is not None:
            fetched = self.fetch(item)
            if fetched is None:
                return
            item = fetched
        if self.filter is None or expressions.holds(self.filter, item):
            self.items.append(expressions.project(item, self.projection)
                              if self.projection else item)

    def answer(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"Count": len(self.items), "ScannedCount": self.scanned}
        units = capacity.read_units(self.bytes, bool(self.request.get("ConsistentRead")))
        if isinstance(self.table, IndexView) and self.table.index is not None:
            index = self.table.index
            answer |= capacity.report(self.request, self.table, 0.0, "Read",
                                      {index.name: (index.local, units)})
        else:
            answer |= capacity.report(self.request, self.table, units, "Read")
        if self.select != "COUNT":
            answer["Items"] = self.items
        if self.full() and self.last is not None:
            answer["LastEvaluatedKey"] = {name: self.last[name] for name in self.table.key_names}
        return answer


def _select(request: dict[str, Any], projection: list[ast.Path] | None, table: Table) -> str:
    select = request.get("Select") or ("SPECIFIC_ATTRIBUTES" if projection else
                                       "ALL_PROJECTED_ATTRIBUTES" if isinstance(table, IndexView)
                                       else "ALL_ATTRIBUTES")
    if select not in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT",
                      "SPECIFIC_ATTRIBUTES"):
        raise ValidationError(f"1 validation error detected: Value '{select}' at 'select' failed "
                              "to satisfy constraint: Member must satisfy enum value set: "
                              "[SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, "
                              "ALL_PROJECTED_ATTRIBUTES]")
    if select in ("ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "COUNT") and projection:
        raise ValidationError("Cannot specify the ProjectionExpression when choosing to get "
                              f"{select}")
    if select == "ALL_PROJECTED_ATTRIBUTES" and not isinstance(table, IndexView):
        raise ValidationError("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an "
                              "IndexName")
    index = table.index if isinstance(table, IndexView) else None
    if select == "ALL_ATTRIBUTES" and index and not index.local and index.projection != "ALL":
        raise ValidationError(f"{types.INVALID}Select type ALL_ATTRIBUTES is not supported for "
                              f"global secondary index {index.name} because its projection "
                              "type is not ALL")
    return str(select)


def _needs_table(table: Table, select: str, projection: list[ast.Path] | None) -> bool:
    """An LSI gives what it does not hold from the table (a GSI cannot)."""
    if not isinstance(table, IndexView) or table.index is None or not table.index.local \
            or table.index.projection == "ALL":
        return False
    if select == "ALL_ATTRIBUTES":
        return True
    held = set(table.key_names) | set(table.index.non_key)
    return any(str(path.elements[0]) not in held for path in projection or [])


def target(store: Store, request: dict[str, Any]) -> tuple[Table, Table]:
    """(the table, what to read: the table or the index `IndexName` names)."""
    table = store.table(request.get("TableName"), "item")
    name = request.get("IndexName")
    if name is None:
        return table, table
    index = find(table, name)
    if not index.local and request.get("ConsistentRead"):
        raise ValidationError("Consistent reads are not supported on global secondary indexes")
    if index.status != "ACTIVE":
        raise ValidationError(f"Cannot read from backfilling global secondary index: {name}")
    return table, index.view(table)


def _fetcher(store: Store, base: Table) -> Callable[[Item], Item | None]:
    def fetch(entry: Item) -> Item | None:
        return store.read(base, {name: entry[name] for name in base.key_names})[1]
    return fetch


def _start_key(table: Table, request: dict[str, Any]) -> Item | None:
    start = request.get("ExclusiveStartKey")
    if start is None:
        return None
    try:
        return table.check_key(start)
    except ValidationError as error:
        raise ValidationError(f"The provided starting key is invalid: {error.message}") from None


def _sorted_items(store: Store, table: Table, partition: str, keys: KeyRange,
                  reverse: bool) -> Iterator[Item]:
    while True:
        sorts = store.sort_keys(table, partition, keys.low.lex(b"-"), keys.high.lex(b"+"),
                                reverse, CHUNK)
        for item in store.read_many(table, partition, sorts):
            if item is not None:
                yield item
        if len(sorts) < CHUNK:
            return
        keys.after(sorts[-1], reverse)


def query(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    base, table = target(store, request)
    given = Expressions(request)
    condition = given.condition("KeyConditionExpression")
    if condition is None:
        raise ValidationError("Either the KeyConditions or KeyConditionExpression parameter must "
                              "be specified in the request.")
    page = Page(table, request, given, fetch=_fetcher(store, base))
    given.done()
    keys = key_range(table, condition)
    if isinstance(table, IndexView):
        keys.low, keys.high = _member_bounds(table, keys.low, keys.high)
    if page.filter is not None:
        _check_filter_keys(page.filter, table)
    reverse = request.get("ScanIndexForward") is False
    start = _start_key(table, request)
    if start is not None:
        if not types.equal(start[table.hash_key], keys.hash_value):
            raise ValidationError("The provided starting key is outside query boundaries based "
                                  "on provided conditions")
        keys.after(table.sort(start), reverse)
    partition = types.encode_key(keys.hash_value)
    if start is None or table.sort(start):
        for item in _sorted_items(store, table, partition, keys, reverse):
            page.offer(item)
            if page.full():
                break
    return page.answer()


def _member_bounds(view: IndexView, low: Bound, high: Bound) -> tuple[Bound, Bound]:
    new_low, low_inclusive, new_high, high_inclusive = view.lex_bounds(
        low.value, low.inclusive, high.value, high.inclusive)
    return Bound(new_low, low_inclusive), Bound(new_high, high_inclusive)


def _check_filter_keys(condition: ast.Condition, table: Table) -> None:
    for name in _top_names(condition):
        if name in (table.hash_key, table.range_key):
            raise ValidationError("Filter Expression can only contain non-primary key "
                                  f"attributes: Primary key attribute: {name}")


def _top_names(node: Any) -> set[str]:
    if isinstance(node, ast.Path):
        return {str(node.elements[0])}
    if isinstance(node, tuple):
        return set().union(*(_top_names(child) for child in node)) if node else set()
    if hasattr(node, "__dataclass_fields__") and not isinstance(node, ast.Literal):
        return set().union(*(_top_names(getattr(node, f)) for f in node.__dataclass_fields__))
    return set()


def scan(store: Store, request: dict[str, Any]) -> dict[str, Any]:
    base, table = target(store, request)
    given = Expressions(request)
    page = Page(table, request, given, fetch=_fetcher(store, base))
    given.done()
    segment, total = _segments(request)

    def offer_partition(partition: str, after_sort: str | None = None) -> bool:
        """Offer a partition's items (after `after_sort`); True once the page is full."""
        if total > 1 and zlib.crc32(partition.encode()) % total != segment:
            return False
        keys = KeyRange({}, Bound(), Bound())
        if after_sort is not None:
            keys.after(after_sort, reverse=False)
        for item in _sorted_items(store, table, partition, keys, reverse=False):
            page.offer(item)
            if page.full():
                return True
        return False

    after: str | None = None
    start = _start_key(table, request)
    if start is not None:
        after = table.partition(start)
        if table.sort(start) and offer_partition(after, table.sort(start)):
            return page.answer()
    while True:
        partitions = store.partitions(table, after, CHUNK)
        for partition in partitions:
            after = partition
            if offer_partition(partition):
                return page.answer()
        if len(partitions) < CHUNK:
            return page.answer()


def _segments(request: dict[str, Any]) -> tuple[int, int]:
    segment, total = request.get("Segment"), request.get("TotalSegments")
    if (segment is None) != (total is None):
        raise ValidationError("The TotalSegments parameter is required but was not present in "
                              "the request when Segment parameter is present" if total is None
                              else "The Segment parameter is required but was not present in "
                              "the request when parameter TotalSegments is present")
    if total is None or segment is None:
        return 0, 1
    if not 1 <= total <= 1_000_000 or not 0 <= segment < total:
        raise ValidationError(f"The Segment parameter is zero-based and must be less than "
                              f"parameter TotalSegments: Segment: {segment} is not less than "
                              f"TotalSegments: {total}")
    return int(segment), int(total)
