"""Tracing on vs off, in interleaved rounds (issue 12; `benchmarks/core.py` runs them).

End-to-end throughput through the Invoke API with ripple's default sampler (Lambda's rule: the
first new trace a second, then 5%, per process) and with every trace recorded (`always_on`);
the invokes leave the decision to ripple, as `ripple load`'s do. Each round starts the arms'
stacks afresh, up at once (a Redis database each), and loads them in turn in chunks of half a
second or so, the order mirrored every chunk, from one sender pool that stays up
(`senders.py`): this machine's speed drifts by 10-20% within seconds, and a drift must fall on
every arm alike. Each condition has two stacks, read as one; how far the two differ is the
method's own spread. The every-trace arm then runs against "off" in chunks of its own, so its
deferred work never falls in the chunks of the arms the goal compares.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchmarks.core_parts import Stack, deploy_noop, wait_until
from benchmarks.senders import Senders

# Tracing's arms, two stacks each: each stack is a few percent faster or slower for as long as
# it runs, and each condition's pair is read as one (`pooled`), so one stack's draw moves it
# half as far. "off again" against "off" (and "on again" against "on") is the machine's own
# spread, against which a round's tracing cost can be read. The arm that records every trace
# runs in a phase of its own after them, against "off" again: its deferred work (span batches
# posted, decoded and stored after the chunk that made them) is ten times the default
# sampler's, and measurably slowed whichever arm's chunk came next. (In the mirrored order the
# chunks after an "on" chunk are mostly "on" chunks: what tracing defers is counted as its own.
# Ordering off, on, on again, off again would give each condition two chunks in a row at most,
# but the chunks after "on" would be "off" half the time, and tracing's deferred work would
# slow both conditions alike: in six rounds so, tracing's throughput cost came out -0.5% while
# its CPU per invocation was +2.0%.)
TRACING_ARMS: dict[str, dict[str, Any]] = {
    "off": {"tracing": False}, "off again": {"tracing": False}, "on": {}, "on again": {}}
EVERY_ARM: dict[str, Any] = {"sampler": "always_on"}
# Invokes an arm gets in one go: 0.4-0.7 s on this project's VM, so the "on" stacks' four
# chunks in a row take 2-3 s. (With chunks of 1,000 they took 4-6 s, and the rounds costlier than
# 10% were those where a slow stretch of the machine that long fell on them: every role took
# more CPU per invocation, the environments too, which run no tracing code for a no-op.)
TRACING_CHUNK = 500


def tracing_rounds(url: str, work: Path, rounds: int, tasks: int, every_tasks: int
                   ) -> list[dict[str, ArmLoad]]:
    """Each round starts every arm's stack afresh, all up at once on a Redis database each,
    and loads them in turn in chunks of `TRACING_CHUNK` invokes, the order mirrored every
    chunk (A B C C B A ...), `tasks` per arm. A drift of the machine's speed, which lasts
    seconds, then falls on every arm alike; fresh stacks each round draw again the few percent
    by which two identical stacks differ for as long as they run. Then the every-trace arm and
    "off" take `every_tasks` each the same way ("every" and "off beside every" in the loads).
    Returns each round's loads."""
    runs: list[dict[str, ArmLoad]] = []
    with Senders() as senders:
        for round_number in range(rounds):
            with contextlib.ExitStack() as running:
                stacks: dict[str, Stack] = {}
                arms = {**TRACING_ARMS, "every": EVERY_ARM}
                for index, (arm, options) in enumerate(arms.items(), start=1):
                    stack = running.enter_context(Stack(database(url, index), work,
                                                        workers=2, **options))
                    running.callback(senders.forget, stack.endpoint)
                    deploy_noop(stack.endpoint, work)
                    stack.warm()
                    stacks[arm] = stack
                for stack in stacks.values():  # the senders' connections opened, kept busy
                    load_chunk(senders, stack, 100)
                flip = round_number % 2 == 1
                found = chunked_loads(senders, {arm: stacks[arm] for arm in TRACING_ARMS},
                                      tasks, reverse=flip)
                every = chunked_loads(senders, {"off": stacks["off"], "every": stacks["every"]},
                                      every_tasks, reverse=flip)
                runs.append({**found, "both off": pooled(found["off"], found["off again"]),
                             "both on": pooled(found["on"], found["on again"]),
                             "every": every["every"], "off beside every": every["off"]})
            rate = {arm: load.rate for arm, load in runs[-1].items()}
            print(f"tracing round {round_number + 1}: off {rate['both off']:,.0f}/s, on "
                  f"{rate['both on']:,.0f}/s ({1 - rate['both on'] / rate['both off']:+.1%}); "
                  f"off again against off {1 - rate['off again'] / rate['off']:+.1%}, on again "
                  f"against on {1 - rate['on again'] / rate['on']:+.1%}; every trace "
                  f"{rate['every']:,.0f}/s against off {rate['off beside every']:,.0f}/s "
                  f"({1 - rate['every'] / rate['off beside every']:+.1%})", flush=True)
            on, off = runs[-1]["both on"], runs[-1]["both off"]  # which role a costly round was
            print("  on's extra CPU, ms per invocation: " + ", ".join(
                f"{role} {on.cpu[role] - off.cpu[role]:+.3f}" for role in on.cpu)
                + f"; {on.spans:.2f} spans stored per invocation", flush=True)
    return runs


@dataclass(frozen=True)
class ArmLoad:
    """One arm's load in a tracing round."""

    rate: float  # events/s: its chunks' invokes over their time, first send to last run
    cpu: dict[str, float]  # CPU ms per invocation per role of ripple's processes, settled
    spans: float  # spans stored per invocation


def pooled(first: ArmLoad, second: ArmLoad) -> ArmLoad:
    """Two arms of the same kind as one: their invokes over their time, their mean CPU. Each
    stack is a few percent faster or slower for as long as it runs (in 10 rounds of four
    identical stacks, 1.2% one standard deviation, beside 1.5% from the chunks' own noise), and
    a pair's mean varies less than either."""
    return ArmLoad(2 / (1 / first.rate + 1 / second.rate),
                   {role: (first.cpu[role] + second.cpu[role]) / 2 for role in first.cpu},
                   (first.spans + second.spans) / 2)


def chunked_loads(senders: Senders, stacks: dict[str, Stack], tasks: int, reverse: bool
                  ) -> dict[str, ArmLoad]:
    """`tasks` invokes per stack in mirrored chunks. Redis serves every stack, so its CPU is
    counted during each stack's chunks only; every other role's over the whole call, once the
    spans are stored."""
    if tasks < 1:  # no invokes, no time to divide them by
        raise ValueError(f"each arm needs at least one invoke, not {tasks}")
    order = list(stacks)[::-1] if reverse else list(stacks)
    seconds = dict.fromkeys(stacks, 0.0)
    redis_seconds = dict.fromkeys(stacks, 0.0)
    spans_before = {arm: stack.settle() for arm, stack in stacks.items()}
    before = {arm: stack.cpu() for arm, stack in stacks.items()}
    chunks = max(1, tasks // TRACING_CHUNK)
    size = tasks // chunks
    for chunk in range(chunks):
        for arm in order if chunk % 2 == 0 else order[::-1]:
            redis_before = stacks[arm].redis_cpu()
            seconds[arm] += load_chunk(senders, stacks[arm], size)
            redis_seconds[arm] += stacks[arm].redis_cpu() - redis_before
    stored = {arm: stack.settle() - spans_before[arm] for arm, stack in stacks.items()}
    loads = {}
    sent = size * chunks
    for arm, stack in stacks.items():
        used = {role: seconds_used - before[arm][role]
                for role, seconds_used in stack.cpu().items()}
        used["redis"] = redis_seconds[arm]
        loads[arm] = ArmLoad(sent / seconds[arm],
                             {role: value * 1000 / sent for role, value in used.items()},
                             stored[arm] / sent)
    return loads


def load_chunk(senders: Senders, stack: Stack, size: int) -> float:
    """Seconds from sending `size` invokes to the last of them counted as run."""
    counted, begun = stack.invocations(), time.perf_counter()
    senders.send(stack.endpoint, size)
    wait_until(lambda: stack.invocations() - counted >= size)
    return time.perf_counter() - begun


def database(url: str, index: int) -> str:
    """`url` (redis://…/0) with another database number."""
    return f"{url.rsplit('/', 1)[0]}/{index}"
