"""The Redis store's compare-and-swap commit: a stale writer writes nothing, not even a record."""

from __future__ import annotations

import uuid

import pytest
from redis import Redis

from orchestrator.services.dynamodb import streams
from orchestrator.services.dynamodb.errors import ResourceNotFound
from orchestrator.services.dynamodb.store import Store, Write
from orchestrator.services.dynamodb.tables import ensure_table


def test_a_stale_write_is_refused_and_leaves_no_record(redis: Redis) -> None:
    # Given a table with a stream and an item two writers read
    table = ensure_table(redis, f"cas-{uuid.uuid4().hex[:8]}", {"pk": "S"}, "NEW_IMAGE")
    store = Store(redis, "us-east-1")
    key = {"pk": {"S": "a"}}
    assert store.commit([Write(table, key, None, key | {"v": {"N": "1"}})])
    first_read, _ = store.read(table, key)
    second_read, _ = store.read(table, key)
    # When the first writer commits, then the second commits what it read before that
    assert store.commit([Write(table, key, first_read, key | {"v": {"N": "2"}})])
    stale = store.commit([Write(table, key, second_read, key | {"v": {"N": "3"}})])
    # Then the second commit is refused, and the item and the stream hold the first's change
    assert stale is False
    assert store.read(table, key)[1] == key | {"v": {"N": "2"}}
    found = [record for shard in streams.shard_keys(redis, table.name)
             for _, record, _ in streams.read_records(redis, shard)]
    assert [r["dynamodb"]["NewImage"]["v"]["N"] for r in found] == ["1", "2"]


def test_a_transaction_is_refused_whole_when_one_item_changed(redis: Redis) -> None:
    table = ensure_table(redis, f"cas-{uuid.uuid4().hex[:8]}", {"pk": "S"}, None)
    store = Store(redis, "us-east-1")
    one, two = {"pk": {"S": "1"}}, {"pk": {"S": "2"}}
    store.commit([Write(table, two, None, two)])
    # When a two-item commit expects the second item to be absent
    refused = store.commit([Write(table, one, None, one), Write(table, two, None, two)])
    # Then neither item is written
    assert refused is False and store.read(table, one) == (None, None)
    assert store.counters(table.name)[0] == 1


def test_a_write_to_a_deleted_table_is_refused(redis: Redis) -> None:
    table = ensure_table(redis, f"cas-{uuid.uuid4().hex[:8]}", {"pk": "S"}, None)
    store = Store(redis, "us-east-1")
    store.delete_table(table)
    with pytest.raises(ResourceNotFound):
        store.commit([Write(table, {"pk": {"S": "1"}}, None, {"pk": {"S": "1"}})])
    assert not redis.keys(f"ripple:ddb:*:{table.name}*")
