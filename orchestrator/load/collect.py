"""What ripple recorded about a load run, read over its control API: the ledger, function
counters, queues and workers (sampled each second while the run lasts), invocation records and
scaling decisions (read at the end)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from orchestrator.load import LoadError

API = "/_ripple/api"
MAX_RECORDS = 10_000  # the invocation API's largest page


@dataclass
class Tick:
    """One second of the stack's state while the run lasts."""

    time: float
    queued: int
    delayed: int
    workers: int
    concurrency: dict[str, int]  # function -> leases held
    counters: dict[str, dict[str, int]]


@dataclass
class Snapshot:
    ledger: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[str, dict[str, int]] = field(default_factory=dict)


class Stack:
    """The running ripple a load run talks to."""

    def __init__(self, endpoint: str, token: str | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        headers = {"X-Ripple-Token": token} if token else {}
        self.http = httpx.Client(base_url=self.endpoint, headers=headers, timeout=30,
                                 trust_env=False)

    def get(self, path: str, **params: Any) -> Any:
        try:
            response = self.http.get(API + path, params=params)
        except httpx.HTTPError as error:
            raise LoadError(f"cannot reach ripple at {self.endpoint} ({error}). Start it with "
                            "`ripple up`, or set RIPPLE_ENDPOINT.") from None
        if response.status_code == 404 and path == "/scaling":
            return None
        if response.status_code >= 400:
            raise LoadError(f"GET {API}{path}: {response.status_code} {response.text[:200]}")
        return response.json()

    def close(self) -> None:
        self.http.close()

    def stage_url(self) -> str:
        return str((self.get("/status").get("apigateway") or {}).get("url") or "")

    def functions(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.get("/functions")
        return found

    def snapshot(self) -> Snapshot:
        return Snapshot(ledger=self.get("/ledger"),
                        counters={entry["name"]: entry["counters"] for entry in self.functions()})

    def tick(self) -> Tick:
        status, functions = self.get("/status"), self.functions()
        return Tick(time=time.time(), queued=sum(status["queued"].values()),
                    delayed=int(status["delayed"]), workers=len(status["workers"]),
                    concurrency={entry["name"]: int(entry.get("concurrency_in_use", 0))
                                 for entry in functions},
                    counters={entry["name"]: entry["counters"] for entry in functions})

    def in_flight(self, functions: set[str] | None = None) -> int:
        return sum(entry["in_flight"] for name, entry in self.get("/ledger").items()
                   if functions is None or name in functions)

    def records(self, roots: set[str]) -> list[dict[str, Any]]:
        """Invocation records of the traces the run started (newest 10,000 records looked at)."""
        found = []
        for record in self.get("/invocations", limit=MAX_RECORDS):
            if root_of(record.get("trace_header") or "") in roots:
                found.append(record)
        return found

    def scaling(self, since: float) -> dict[str, Any]:
        """Worker bounds and decisions; a ripple without the scaling API has fixed workers."""
        answer = self.get("/scaling", since=since)
        if answer is None:
            workers = len(self.get("/status")["workers"])
            return {"workers": workers, "min": workers, "max": workers, "decisions": []}
        return {"workers": answer["workers"], "min": answer["min"], "max": answer["max"],
                "decisions": answer["decisions"]}

    def wait_settled(self, functions: set[str], seconds: float) -> int:
        """Wait up to `seconds` for the functions' async events to leave flight; what is left."""
        deadline = time.monotonic() + seconds
        left = self.in_flight(functions)
        while left and time.monotonic() < deadline:
            time.sleep(0.25)
            left = self.in_flight(functions)
        return left


def root_of(header: str) -> str:
    for part in header.split(";"):
        if part.strip().startswith("Root="):
            return part.strip()[5:]
    return ""
