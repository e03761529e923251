"""Where an event goes once Lambda gives up on it: the on-failure destination the function (or
its stream mapping) names, else the built-in dead-letter list.

One path for async events and stream batches alike; the destination's invocation carries the
failed event's trace header, so it hangs under the chain that failed.
"""

from __future__ import annotations

from typing import Any

import orjson

from orchestrator.functions.config import DEAD_LETTER_LIST
from orchestrator.functions.registry import Registry
from orchestrator.invocations.dead_letters import DeadLetters
from orchestrator.invocations.dispatch import Dispatcher
from orchestrator.invocations.message import InvocationRequest, InvocationType


class OnFailure:
    def __init__(self, registry: Registry, dispatcher: Dispatcher,
                 dead_letters: DeadLetters) -> None:
        self.registry = registry
        self.dispatcher = dispatcher
        self.dead_letters = dead_letters

    def send(self, function: str, target: str | None, record: dict[str, Any], payload: bytes,
             trace_header: str) -> None:
        """Hand `record` (Lambda's destination record) to the function named `target`, or keep
        it with `payload` in the dead-letter list when there is no such function."""
        destination = self.registry.get(target) if target and target != DEAD_LETTER_LIST else None
        if destination is None:
            self.dead_letters.add(record, function, payload)
            return
        self.dispatcher.send(InvocationRequest(
            function=destination, payload=orjson.dumps(record),
            invocation_type=InvocationType.ASYNC, trigger="destination",
            trace_header=trace_header))
