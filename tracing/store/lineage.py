"""What caused what, indexed as spans arrive, so `why` answers from a few index rows and the
traces they name instead of scanning a million spans.

Two small tables beside the spans:

- `lineage_refs`: a name users ask about → the span that made it: `s3://bucket/key` → the
  S3 PutObject / CopyObject / CompleteMultipartUpload that wrote the object; `ddb://table/…`
  → the DynamoDB write of the item (by its whole key, by its partition key alone and by the
  partition key's bare value); `req:<id>` → the invocation (the handler's SERVER span).
- `lineage_links`: a linked trace → the spans linking into it (a stream batch's CONSUMER span
  links to the writes of its records), which the span itself only says the other way round.

Rows are keyed by their span's start, so retention drops them with their spans
(`on_retention`: the store deletes the spans that started first). Whoever opens the store
attaches the index: `store.add_listener(LineageIndex(store))`.
"""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from tracing.spans import Span, SpanKind
from tracing.store.database import SpanStore
from tracing.store.listener import StoreListener
from tracing.store.rows import trace_key

log = logging.getLogger("ripple.tracing.lineage")
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS lineage_refs (ref TEXT NOT NULL, start_ns INTEGER NOT NULL, "
    "trace_id BLOB NOT NULL, span_id BLOB NOT NULL, "
    "PRIMARY KEY (ref, start_ns, trace_id, span_id)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS lineage_refs_start ON lineage_refs (start_ns)",
    "CREATE TABLE IF NOT EXISTS lineage_links (linked_trace BLOB NOT NULL, "
    "trace_id BLOB NOT NULL, span_id BLOB NOT NULL, linked_span BLOB NOT NULL, "
    "start_ns INTEGER NOT NULL, "
    "PRIMARY KEY (linked_trace, trace_id, span_id, linked_span)) WITHOUT ROWID",
    "CREATE INDEX IF NOT EXISTS lineage_links_start ON lineage_links (start_ns)",
)
S3_WRITES = frozenset({"PutObject", "CopyObject", "CompleteMultipartUpload"})
DYNAMODB_WRITES = frozenset({"PutItem", "UpdateItem", "BatchWriteItem", "TransactWriteItems"})
ITEM_KEYS = "ripple.dynamodb.item_keys"  # as the endpoint's DynamoDB spans carry them
IN_CHUNK = 500
Key = tuple[str, str]  # trace id, span id (hex)


def object_ref(bucket: str, key: str) -> str:
    return f"s3://{bucket}/{key}"


def request_ref(request_id: str) -> str:
    return f"req:{request_id}"


def item_ref(table: str, pairs: Iterable[tuple[str, str]]) -> str:
    """`ddb://table/{"pk":"v","sk":"w"}`: a key (or part of one) by attribute name."""
    return f"ddb://{table}/" + json.dumps(dict(sorted(pairs)), separators=(",", ":"),
                                          ensure_ascii=False)


def item_refs(text: str) -> list[str]:
    """The refs of one written item (`[table, [[name, value], …]]`, partition key first): its
    whole key, its partition key alone and the partition key's bare value."""
    table, pairs = json.loads(text)
    pairs = [(str(name), str(value)) for name, value in pairs]
    refs = [item_ref(table, pairs)]
    if len(pairs) > 1:
        refs.append(item_ref(table, pairs[:1]))
    refs.append(f"ddb://{table}/{pairs[0][1]}")
    return refs


def _successful(span: Span) -> bool:
    code = span.attributes.get("http.response.status_code")
    return not isinstance(code, int) or code < 300


def refs(span: Span) -> list[str]:
    """What `span` made that users may ask about (nothing for most spans)."""
    attributes = span.attributes
    if span.kind != SpanKind.SERVER:
        return []
    request_id = attributes.get("faas.invocation_id")
    if request_id:
        return [request_ref(str(request_id))]
    if attributes.get("rpc.system") != "aws-api" or not _successful(span):
        return []
    method, service = attributes.get("rpc.method"), attributes.get("rpc.service")
    if service == "S3" and method in S3_WRITES:
        bucket, key = attributes.get("aws.s3.bucket"), attributes.get("aws.s3.key")
        return [object_ref(str(bucket), str(key))] if bucket and key else []
    if service == "DynamoDB" and method in DYNAMODB_WRITES:
        found: list[str] = []
        for text in attributes.get(ITEM_KEYS) or ():
            try:
                found += item_refs(str(text))
            except (ValueError, TypeError, IndexError):
                continue  # a key written by someone else's instrumentation
        return found
    return []


class LineageIndex(StoreListener):
    """Feeds `lineage_refs` and `lineage_links` as spans are stored and answers from them."""

    def __init__(self, store: SpanStore) -> None:
        self.store = store
        with store.writing() as connection:
            for statement in SCHEMA:
                connection.execute(statement)

    # the store's listener hooks -----------------------------------------------------------

    def on_ingest(self, spans: Sequence[Span], watermark: int) -> None:
        ref_rows: list[tuple[str, int, bytes, bytes]] = []
        link_rows: list[tuple[bytes, bytes, bytes, bytes, int]] = []
        for span in spans:
            if span.kind == SpanKind.INTERNAL:
                continue
            for ref in refs(span):
                ref_rows.append((ref, span.start_ns, bytes.fromhex(span.trace_id),
                                 bytes.fromhex(span.span_id)))
            for link in span.links:
                if link.trace_id != span.trace_id:
                    link_rows.append((bytes.fromhex(link.trace_id), bytes.fromhex(span.trace_id),
                                      bytes.fromhex(span.span_id), bytes.fromhex(link.span_id),
                                      span.start_ns))
        if not ref_rows and not link_rows:
            return
        connection = self.store.ingest_connection()  # the write lock is held
        connection.execute("BEGIN IMMEDIATE")
        try:
            connection.executemany("INSERT OR IGNORE INTO lineage_refs VALUES (?, ?, ?, ?)",
                                   ref_rows)
            connection.executemany("INSERT OR IGNORE INTO lineage_links VALUES (?, ?, ?, ?, ?)",
                                   link_rows)
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise

    def on_retention(self, connection: sqlite3.Connection, oldest_second: int) -> None:
        """Forget the rows of spans that started before `oldest_second`."""
        cutoff = oldest_second * 1_000_000_000
        connection.execute("DELETE FROM lineage_refs WHERE start_ns < ?", (cutoff,))
        connection.execute("DELETE FROM lineage_links WHERE start_ns < ?", (cutoff,))

    # reading ------------------------------------------------------------------------------

    def made(self, ref: str, limit: int = 5) -> list[Key]:
        """The spans that made `ref`, the latest first."""
        return [(trace_id.hex(), span_id.hex()) for trace_id, span_id in self.store.read(
            "SELECT trace_id, span_id FROM lineage_refs WHERE ref = ? "
            "ORDER BY start_ns DESC LIMIT ?", (ref, limit))]

    def linking(self, trace_ids: Iterable[str]) -> Iterator[tuple[Key, Key]]:
        """(linking span, linked span) for every stored span linking into these traces."""
        keys = [trace_key(trace_id) for trace_id in trace_ids]
        for offset in range(0, len(keys), IN_CHUNK):
            chunk = keys[offset:offset + IN_CHUNK]
            rows: list[Any] = self.store.read(
                "SELECT trace_id, span_id, linked_trace, linked_span FROM lineage_links "
                f"WHERE linked_trace IN ({', '.join('?' * len(chunk))})", chunk)
            for trace_id, span_id, linked_trace, linked_span in rows:
                yield (trace_id.hex(), span_id.hex()), (linked_trace.hex(), linked_span.hex())
