"""Stream pollers: each owned shard is read in order and its records invoked in batches.

A failing batch blocks its shard until it succeeds, its records expire, or it exhausts
MaximumRetryAttempts; BisectBatchOnFunctionError halves it to isolate a poison record;
ReportBatchItemFailures moves the checkpoint up to the lowest failed sequence number.

As on Lambda, a retry sends the same batch again (records written meanwhile wait behind it,
they do not join it), attempts are counted per record at the head of the shard, and a split
does not count towards the retry quota: the two halves are tried in turn, each splitting
again if it fails, and only a batch that cannot be split any more spends retries.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from redis import Redis

from orchestrator.errors import AwsError
from orchestrator.events.destination import stream_failure_record
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.functions.versions import Versions
from orchestrator.invocations.invoke import SyncInvoker
from orchestrator.invocations.message import InvocationReply, InvocationRequest, InvocationType
from orchestrator.invocations.on_failure import OnFailure
from orchestrator.services.dynamodb import streams
from orchestrator.settings import Settings
from tracing.propagation import batch_context
from workers.streams.lease import ShardLease
from workers.streams.mapping import StreamMapping, all_mappings

log = logging.getLogger("ripple.streams")
IDLE_SECONDS = 0.01
BLOCK_MS = 1000  # below the lease's 5 s, so an idle poller renews it in time
RETRY_SECONDS = 0.1
DISCOVER_SECONDS = 0.5


@dataclass
class Entry:
    id: str
    record: dict[str, Any]
    trace: str = ""  # the X-Ray header of the write that made this record

    @property
    def sequence(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])

    @property
    def arrived_ms(self) -> int:
        return int(self.id.split("-", 1)[0])


class ShardPoller(threading.Thread):
    """Polls one shard for one mapping while this process holds its lease."""

    def __init__(self, mapping: StreamMapping, shard_key: str, lease: ShardLease,
                 context: PollerContext) -> None:
        super().__init__(name=f"ripple-shard-{shard_key}", daemon=True)
        self.mapping = mapping
        self.shard_key = shard_key
        self.lease = lease
        self.context = context
        self.stopping = threading.Event()
        # Sizes of the batches owed before reading freely again, the next one last: the same
        # batch again while it is retried, the halves of a split one while bisecting.
        self._owed: list[int] = []
        self._pending = False  # records are waiting for the batching window to close
        self._attempts: dict[str, int] = {}  # failed invocations, by the head record's entry id

    def run(self) -> None:
        try:
            while not self.stopping.is_set() and self.lease.hold():
                if not self._step():
                    self._wait_for_records()
        except Exception:
            log.exception("shard poller %s failed; another poll will take the shard over",
                          self.shard_key)
        finally:
            self.lease.release()

    def _wait_for_records(self) -> None:
        """Block until the shard has a record past the checkpoint (or a second passes, so the
        lease is renewed); while a batching window is open, just wait a little."""
        if self._pending:
            self.stopping.wait(IDLE_SECONDS)
            return
        after = self.lease.checkpoint() or "0-0"
        self.context.redis.xread({self.shard_key: after}, count=1, block=BLOCK_MS)

    def _step(self) -> bool:
        """Read and invoke one batch; False when there was nothing to do yet."""
        after = self.lease.checkpoint() or "0-0"
        raw = streams.read_records(self.context.redis, self.shard_key, after, self._limit)
        batch = [Entry(entry_id, record, trace) for entry_id, record, trace in raw]
        self._pending = bool(batch)
        if not batch or not self._window_closed(batch):
            return False
        if self._too_old(batch[0]):
            self._give_up(batch, "RecordAgeExceeded", attempts=0)
            return True
        try:
            reply = self._invoke(batch)
        except AwsError:  # throttled, lease lost or no reply: try again later, nothing counted
            self.stopping.wait(RETRY_SECONDS)
            return True
        failed_from = self._first_failure(batch, reply)
        if failed_from is None:
            self._done(batch[-1])
            return True
        if failed_from > 0:  # partial success: checkpoint just before the lowest failure
            advanced = self._done(batch[failed_from - 1])
            if advanced and self.mapping.bisect_batch_on_function_error:
                # "bisected at the returned sequence number": the rest is retried as a batch
                self._owed.append(len(batch) - failed_from)
            return True
        return self._failed(batch)

    @property
    def _limit(self) -> int:
        return self._owed[-1] if self._owed else self.mapping.batch_size

    def _invoke(self, batch: list[Entry]) -> InvocationReply:
        """Invoke the function with one batch, synchronously, as Lambda's pollers do. The
        batch starts a new trace linked to each record's write."""
        links = [entry.trace for entry in batch if entry.trace]
        request = InvocationRequest(
            function=self.function(), invocation_type=InvocationType.SYNC, trigger="dynamodb",
            payload=orjson.dumps({"Records": [entry.record for entry in batch]}),
            trace_header=batch_context(links).to_xray(), links=links)
        return self.context.invoker.call_blocking(request, still_wanted=self.lease.hold)

    def _failed(self, batch: list[Entry]) -> bool:
        mapping = self.mapping
        if mapping.bisect_batch_on_function_error and len(batch) > 1:
            half = len(batch) // 2
            self._settle()
            self._owed += [len(batch) - half, half]  # the first half next, then the second
            return True
        # Counted by the head record, which blocks the shard, not by the batch's length.
        head = batch[0].id
        self._attempts[head] = attempts = self._attempts.get(head, 0) + 1
        retries = mapping.maximum_retry_attempts
        if retries >= 0 and attempts > retries:
            self._give_up(batch, "RetryAttemptsExhausted", attempts)
        else:
            self._settle()
            self._owed.append(len(batch))  # retry these records, and no more
            self.stopping.wait(RETRY_SECONDS)
        return True

    def _done(self, last: Entry) -> bool:
        """Move the checkpoint past `last`: the batch that ended there is paid."""
        if not self.lease.advance(last.id):
            return False
        self._settle()
        self._attempts.clear()
        return True

    def _settle(self) -> None:
        """The batch just invoked was read as the one owed (if any): it is no longer owed."""
        if self._owed:
            self._owed.pop()

    def _give_up(self, batch: list[Entry], condition: str, attempts: int) -> None:
        function = self.function()
        record = stream_failure_record(
            str(uuid.uuid4()), function.arn, condition, attempts,
            [entry.record for entry in batch],
            streams.shard_id(int(self.shard_key.rsplit(":", 1)[-1])),
            str(batch[0].record.get("eventSourceARN", "")))
        self.context.on_failure.send(function.name, self.mapping.on_failure, record,
                                     orjson.dumps(record), batch[0].trace)
        log.warning("%s: gave up on %d record(s) of %s (%s)", function.name, len(batch),
                    self.shard_key, condition)
        self._done(batch[-1])

    def _first_failure(self, batch: list[Entry], reply: InvocationReply) -> int | None:
        """Index of the first record to retry; None if the whole batch succeeded."""
        if reply.function_error:
            return 0
        if not self.mapping.report_batch_item_failures:
            return None
        try:
            failures = json.loads(reply.payload or "null")
            items = failures.get("batchItemFailures") if isinstance(failures, dict) else None
            if not items:
                return None
            failed = {str(item["itemIdentifier"]) for item in items}
        except (ValueError, KeyError, TypeError):
            return 0  # a malformed report fails the whole batch, as on Lambda
        positions = [index for index, entry in enumerate(batch) if entry.sequence in failed]
        return min(positions) if positions else 0

    def _window_closed(self, batch: list[Entry]) -> bool:
        window = self.mapping.batching_window / self.context.settings.clock_speed
        if window <= 0 or len(batch) >= self._limit:
            return True
        return time.time() * 1000 - batch[0].arrived_ms >= window * 1000

    def _too_old(self, entry: Entry) -> bool:
        limit = self.mapping.maximum_record_age
        age = (time.time() * 1000 - entry.arrived_ms) / 1000 * self.context.settings.clock_speed
        return limit >= 0 and age > limit

    def function(self) -> FunctionConfig:
        function = self.context.registry.get(self.mapping.function)
        if function is not None and self.mapping.qualifier != "$LATEST":
            function = Versions(self.context.redis).resolve(function, self.mapping.qualifier)
        if function is None:
            raise LookupError(f"function {self.mapping.function} is no longer deployed")
        return function


class PollerContext:
    """What every shard poller of a worker shares."""

    def __init__(self, redis: Redis, registry: Registry, invoker: SyncInvoker,
                 on_failure: OnFailure, settings: Settings) -> None:
        self.redis = redis
        self.registry = registry
        self.invoker = invoker
        self.on_failure = on_failure
        self.settings = settings


class StreamPollers(threading.Thread):
    """Finds every mapping's shards and polls those whose lease this worker wins."""

    def __init__(self, owner: str, context: PollerContext) -> None:
        super().__init__(name="ripple-stream-pollers", daemon=True)
        self.owner = owner
        self.context = context
        self.stopping = threading.Event()
        self.pollers: dict[tuple[str, str], ShardPoller] = {}

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                self._discover()
            except Exception:
                log.exception("stream discovery failed")
            self.stopping.wait(DISCOVER_SECONDS)
        for poller in self.pollers.values():
            poller.stopping.set()

    def _discover(self) -> None:
        redis = self.context.redis
        wanted = set()
        for mapping in all_mappings(self.context.registry):
            for shard_key in streams.shard_keys(redis, mapping.table):
                key = (mapping.id, shard_key)
                wanted.add(key)
                running = self.pollers.get(key)
                if running is not None and running.is_alive():
                    continue
                lease = ShardLease(redis, mapping.id, shard_key, self.owner)
                if not lease.hold():
                    continue
                lease.start_at(self._starting_point(mapping))
                poller = ShardPoller(mapping, shard_key, lease, self.context)
                self.pollers[key] = poller
                poller.start()
        for key in set(self.pollers) - wanted:  # mapping removed: stop polling
            self.pollers.pop(key).stopping.set()

    def _starting_point(self, mapping: StreamMapping) -> str:
        if mapping.starting_position == "TRIM_HORIZON":
            return "0-0"
        # LATEST: records written after the mapping was deployed.
        function = self.context.registry.get(mapping.function)
        deployed = mapping.created_ms or (
            _epoch_ms(function.last_modified) if function else int(time.time() * 1000))
        return f"{deployed - 1}-0"

    def stop(self) -> None:
        self.stopping.set()
        for poller in self.pollers.values():
            poller.stopping.set()


def _epoch_ms(iso: str) -> int:
    try:
        return int(datetime.fromisoformat(iso).timestamp() * 1000)
    except ValueError:
        return int(time.time() * 1000)
