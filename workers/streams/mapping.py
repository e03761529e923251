"""An event source mapping, as a function's `events: - dynamodb:` trigger declares it."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry


@dataclass(frozen=True)
class StreamMapping:
    function: str
    table: str
    index: int
    batch_size: int = 100
    batching_window: int = 0
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = -1
    maximum_record_age: int = -1
    bisect_batch_on_function_error: bool = False
    report_batch_item_failures: bool = False
    on_failure: str | None = None

    @property
    def id(self) -> str:
        return f"{self.function}:{self.table}:{self.index}"


def mappings_of(function: FunctionConfig) -> list[StreamMapping]:
    found = []
    for index, trigger in enumerate(function.events):
        options = trigger.get("dynamodb")
        if options is None:
            continue
        known = {name: value for name, value in options.items()
                 if name in StreamMapping.__dataclass_fields__}
        found.append(StreamMapping(function=function.name, index=index, **known))
    return found


def all_mappings(registry: Registry) -> list[StreamMapping]:
    return [mapping for function in registry.all() for mapping in mappings_of(function)]
