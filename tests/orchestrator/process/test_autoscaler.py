"""The autoscaler's decisions, a pure function of what it observed and remembers."""

from __future__ import annotations

from orchestrator.process.autoscaler import (
    SCALE_OUT_ENVIRONMENTS,
    Decision,
    Memory,
    Observation,
    Policy,
    decide,
)

POLICY = Policy(min_workers=1, max_workers=4, slots_per_worker=4, queue_per_worker=8,
                age_seconds=2.0, up_after_seconds=3.0, idle_seconds=60.0)


def run(policy: Policy, seen: list[Observation],
        memory: Memory | None = None) -> tuple[Memory, list[Decision | None]]:
    memory = memory or Memory()
    decisions = []
    for observation in seen:
        memory, decision = decide(policy, memory, observation)
        decisions.append(decision)
    return memory, decisions


def test_a_deep_queue_adds_workers_once_it_has_lasted() -> None:
    # Given one worker and 240 invocations queued from t=0
    seen = [Observation(time=t, workers=1, queued=240, running=4) for t in (0, 1, 2, 3)]
    # When the pressure has lasted 3 s
    _, decisions = run(POLICY, seen)
    # Then nothing changes before then, and at 3 s it scales to the maximum, saying why
    assert decisions[:3] == [None, None, None]
    assert decisions[3] == Decision(1, 4, "queue depth 240 > 8 per worker for 3 s; "
                                          "capped by max 4")


def test_a_short_spike_changes_nothing() -> None:
    # Given a queue deep for 2 s only, then drained
    seen = [Observation(time=0, workers=1, queued=100), Observation(time=2, workers=1, queued=100),
            Observation(time=2.5, workers=1, queued=0), Observation(time=4, workers=1, queued=100)]
    # When the autoscaler sees it
    _, decisions = run(POLICY, seen)
    # Then it adds no worker: the pressure never lasted 3 s in a row
    assert decisions == [None, None, None, None]


def test_an_old_message_adds_a_worker_even_when_the_queue_is_short() -> None:
    # Given 3 queued invocations the oldest of which has waited 5 s, all slots busy
    seen = [Observation(time=t, workers=2, queued=3, oldest_age=5.0, running=8)
            for t in (0, 3)]
    # When it has lasted 3 s
    _, decisions = run(POLICY, seen)
    # Then enough workers are added to run them all
    assert decisions[1] == Decision(2, 3, "oldest queued 5.0 s > 2 s for 3 s")


def test_new_workers_get_time_to_start_before_more_are_added() -> None:
    # Given a scale-out at t=3 and the queue still deep just after
    policy = Policy(min_workers=1, max_workers=10, slots_per_worker=4)
    seen = [Observation(time=t, workers=1 if t <= 3 else 3, queued=20 if t <= 3 else 60)
            for t in (0, 3, 4, 5, 6, 7)]
    # When the autoscaler keeps looking
    _, decisions = run(policy, seen)
    # Then the next decision waits until the pressure has lasted again after the change
    assert decisions[1] == Decision(1, 5, "queue depth 20 > 8 per worker for 3 s")
    assert decisions[2:5] == [None, None, None]
    assert decisions[5] is not None and decisions[5].to_workers == 10


def test_idle_workers_are_removed_after_the_idle_period() -> None:
    # Given four workers, nothing queued and one invocation running, from t=0
    seen = [Observation(time=t, workers=4, queued=0, running=1) for t in (0, 30, 59, 60)]
    # When 60 s have passed so
    _, decisions = run(POLICY, seen)
    # Then they go down to what the running invocation needs, at once, with the reason
    assert decisions[:3] == [None, None, None]
    assert decisions[3] == Decision(4, 1, "idle 60 s: 1 of 16 slots busy, 0 queued")


def test_a_busy_stretch_resets_the_idle_clock() -> None:
    # Given two workers idle for 50 s, then every slot busy once, then idle again
    seen = [Observation(time=0, workers=2, queued=0), Observation(time=50, workers=2, queued=0),
            Observation(time=51, workers=2, queued=0, running=8),
            Observation(time=100, workers=2, queued=0), Observation(time=160, workers=2, queued=0)]
    # When the autoscaler looks
    _, decisions = run(POLICY, seen)
    # Then the worker is removed only 60 s after the busy moment's end
    assert decisions[:4] == [None, None, None, None]
    assert decisions[4] == Decision(2, 1, "idle 60 s: 0 of 8 slots busy, 0 queued")


def test_never_below_the_minimum_nor_above_the_maximum() -> None:
    # Given a stack at its minimum that idles, and one at its maximum under pressure
    policy = Policy(min_workers=2, max_workers=3, slots_per_worker=4, idle_seconds=1)
    idle = [Observation(time=t, workers=2, queued=0) for t in (0, 5)]
    busy = [Observation(time=t, workers=3, queued=500) for t in (0, 5)]
    # When it decides
    _, idle_decisions = run(policy, idle)
    _, busy_decisions = run(policy, busy)
    # Then neither changes
    assert idle_decisions == [None, None]
    assert busy_decisions == [None, None]


def test_account_concurrency_caps_the_workers() -> None:
    # Given an account concurrency of 10 and 4 slots per worker (Lambda throttles the rest)
    policy = Policy(min_workers=1, max_workers=8, slots_per_worker=4, account_concurrency=10)
    seen = [Observation(time=t, workers=1, queued=400) for t in (0, 3)]
    # When a burst arrives
    _, decisions = run(policy, seen)
    # Then it stops at 2 workers (8 slots) and says what capped it
    assert decisions[1] == Decision(1, 2, "queue depth 400 > 8 per worker for 3 s; "
                                          "capped by account concurrency 10")


def test_events_for_functions_at_their_reserved_concurrency_are_not_demand() -> None:
    # Given 300 queued, 295 of them for a function at its reserved concurrency
    seen = [Observation(time=t, workers=1, queued=300, blocked=295) for t in (0, 3)]
    # When the autoscaler looks
    _, decisions = run(POLICY, seen)
    # Then it adds none: more workers would only meet Lambda's throttle
    assert decisions == [None, None]


def test_the_scale_out_rate_bounds_new_environments() -> None:
    # Given workers of 400 slots each and a huge backlog
    policy = Policy(min_workers=1, max_workers=20, slots_per_worker=400,
                    account_concurrency=100_000, up_after_seconds=1)
    seen = [Observation(time=t, workers=w, queued=100_000) for t, w in
            ((0, 1), (1, 1), (2.5, 3), (5, 3), (11.5, 3), (13, 5))]
    # When it scales out as fast as it may
    memory, decisions = run(policy, seen)
    # Then no 10 s window adds more than 1,000 environments (2 workers), and it says so
    assert decisions[1] == Decision(1, 3, "queue depth 100000 > 8 per worker for 1 s; "
                                          "capped by max 20; "
                                          "scale-out rate 1000 environments per 10 s")
    assert decisions[2:4] == [None, None]
    assert decisions[4] is not None and decisions[4].to_workers == 5
    assert sum(count for _, count in memory.added) <= SCALE_OUT_ENVIRONMENTS


def test_workers_elsewhere_count_as_capacity() -> None:
    # Given 40 queued, one local worker and three `ripple worker`s on other machines
    policy = Policy(min_workers=1, max_workers=10, slots_per_worker=4)
    seen = [Observation(time=t, workers=1, queued=40, other_workers=3) for t in (0, 3)]
    # When the autoscaler looks
    _, decisions = run(policy, seen)
    # Then 10 per worker is pressure, and it adds only what the others do not cover
    assert decisions[1] == Decision(1, 7, "queue depth 40 > 8 per worker for 3 s")
