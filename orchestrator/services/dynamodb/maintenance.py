"""The endpoint's DynamoDB background duties, in one daemon thread: the TTL sweep, and
finishing any GSI backfill that no process is running (one whose endpoint stopped mid-way)."""

from __future__ import annotations

import logging
import threading

from orchestrator.services.dynamodb import backfill
from orchestrator.services.dynamodb.store import Store
from orchestrator.services.dynamodb.ttl import Sweeper

log = logging.getLogger(__name__)


class Maintenance(threading.Thread):
    def __init__(self, store: Store, interval: float, budget: int) -> None:
        super().__init__(name="ripple-dynamodb-maintenance", daemon=True)
        self.store, self.interval = store, interval
        self.sweeper = Sweeper(store, budget)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.interval):
            try:
                self.sweeper.sweep()
                self.resume_backfills()
            except Exception:  # Redis restarting: keep trying, never die
                log.exception("DynamoDB maintenance failed")

    def resume_backfills(self) -> None:
        after = None
        while True:
            names = self.store.table_names(after, 100)
            for name in names:
                after = name
                for index in backfill.pending(self.store, name):
                    backfill.backfill(self.store, name, index)
            if len(names) < 100:
                return
