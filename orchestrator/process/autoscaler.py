"""When `ripple up --workers auto[:MIN-MAX]` adds or removes worker processes: a pure function of
what was observed (queue depth and age, slots busy) and what it remembers (since when).

Hysteresis, so that a burst does not make workers come and go: a worker is added only once the
pressure has lasted `up_after_seconds` (and not again until the workers it added have had as long
to start), and removed only after `idle_seconds` with nothing queued and at least one whole
worker's slots free. Between the two, nothing changes.

Lambda's own rules bound it, as they would bound the same burst on AWS:

- account concurrency: slots beyond it would only be throttled, so the workers' slots never
  exceed it;
- reserved concurrency: events queued for a function at its reserved concurrency cannot run
  sooner with more workers (Lambda throttles them), so they are not counted as demand;
- the scale-out rate, 1,000 new environments per 10 s: a worker brings up to its slots of new
  environments, and workers are not added faster than that (it binds only with thousands of
  slots; a machine this size is bound by its cores long before).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

SCALE_OUT_ENVIRONMENTS = 1000  # Lambda: new execution environments per function per window
SCALE_OUT_WINDOW_SECONDS = 10.0


@dataclass(frozen=True)
class Policy:
    min_workers: int
    max_workers: int
    slots_per_worker: int  # invocations one worker runs at once
    queue_per_worker: int = 8
    age_seconds: float = 2.0
    up_after_seconds: float = 3.0
    idle_seconds: float = 60.0
    account_concurrency: int = 1000

    @property
    def ceiling(self) -> tuple[int, str]:
        """The most workers allowed, and what sets it (the maximum or account concurrency)."""
        by_account = max(1, self.account_concurrency // self.slots_per_worker)
        if by_account < self.max_workers:
            return max(self.min_workers, by_account), \
                f"account concurrency {self.account_concurrency}"
        return self.max_workers, f"max {self.max_workers}"


@dataclass(frozen=True)
class Observation:
    time: float  # seconds, any monotonic origin
    workers: int  # this stack's worker processes
    queued: int  # invocations waiting in the queues
    oldest_age: float = 0.0  # seconds the oldest queued invocation has waited
    running: int = 0  # delivered to a worker and not yet acknowledged
    blocked: int = 0  # of `queued`, those for functions at their reserved concurrency
    other_workers: int = 0  # live workers elsewhere (`ripple worker` on other machines)


@dataclass(frozen=True)
class Memory:
    pressure_since: float | None = None
    idle_since: float | None = None
    changed_at: float | None = None
    added: tuple[tuple[float, int], ...] = field(default=())  # (time, environments) of scale-outs


@dataclass(frozen=True)
class Decision:
    from_workers: int
    to_workers: int
    reason: str


def decide(policy: Policy, memory: Memory, seen: Observation) -> tuple[Memory, Decision | None]:
    """What to do now: the memory to keep, and a decision, or None to stay as is."""
    if seen.workers < policy.min_workers:
        return (replace(memory, changed_at=seen.time), Decision(
            seen.workers, policy.min_workers, f"below the minimum {policy.min_workers}"))
    demand = max(0, seen.queued - seen.blocked)
    pressure = _pressure(policy, seen, demand)
    if pressure is not None:
        return _scale_out(policy, replace(memory, idle_since=None), seen, demand, pressure)
    memory = replace(memory, pressure_since=None)
    return _scale_in(policy, memory, seen, demand)


def _pressure(policy: Policy, seen: Observation, demand: int) -> str | None:
    per_worker = demand / max(1, seen.workers + seen.other_workers)
    if per_worker > policy.queue_per_worker:
        return f"queue depth {demand} > {policy.queue_per_worker} per worker"
    if demand and seen.oldest_age > policy.age_seconds:
        return f"oldest queued {seen.oldest_age:.1f} s > {policy.age_seconds:g} s"
    return None


def _scale_out(policy: Policy, memory: Memory, seen: Observation, demand: int,
               pressure: str) -> tuple[Memory, Decision | None]:
    since = memory.pressure_since if memory.pressure_since is not None else seen.time
    memory = replace(memory, pressure_since=since)
    lasted = seen.time - since
    settling = memory.changed_at is not None and \
        seen.time - memory.changed_at < policy.up_after_seconds
    ceiling, bound = policy.ceiling
    if lasted < policy.up_after_seconds or settling or seen.workers >= ceiling:
        return memory, None
    slots = policy.slots_per_worker
    wanted = math.ceil((seen.running + demand) / slots) - seen.other_workers
    target = min(ceiling, max(seen.workers + 1, wanted))
    limits = []
    if target < wanted:
        limits.append(f"capped by {bound}")
    recent = tuple((when, count) for when, count in memory.added
                   if seen.time - when < SCALE_OUT_WINDOW_SECONDS)
    room = (SCALE_OUT_ENVIRONMENTS - sum(count for _, count in recent)) // slots
    if target - seen.workers > room:
        target = seen.workers + room
        limits.append(f"scale-out rate {SCALE_OUT_ENVIRONMENTS} environments per "
                      f"{SCALE_OUT_WINDOW_SECONDS:g} s")
    if target <= seen.workers:
        return replace(memory, added=recent), None
    reason = f"{pressure} for {lasted:.0f} s" + "".join(f"; {limit}" for limit in limits)
    memory = replace(memory, pressure_since=None, changed_at=seen.time,
                     added=(*recent, (seen.time, (target - seen.workers) * slots)))
    return memory, Decision(seen.workers, target, reason)


def _scale_in(policy: Policy, memory: Memory, seen: Observation,
              demand: int) -> tuple[Memory, Decision | None]:
    slots = policy.slots_per_worker
    total = seen.workers + seen.other_workers
    spare = demand == 0 and seen.running <= (total - 1) * slots
    if not spare or seen.workers <= policy.min_workers:
        return replace(memory, idle_since=None), None
    since = memory.idle_since if memory.idle_since is not None else seen.time
    idle = seen.time - since
    if idle < policy.idle_seconds:
        return replace(memory, idle_since=since), None
    needed = math.ceil(seen.running / slots) - seen.other_workers
    target = max(policy.min_workers, min(seen.workers - 1, needed))
    reason = (f"idle {idle:.0f} s: {seen.running} of {total * slots} slots busy, "
              f"{seen.queued} queued")
    return (replace(memory, idle_since=None, changed_at=seen.time),
            Decision(seen.workers, target, reason))
