"""An event source mapping, as a function's `events: - dynamodb:` trigger declares it or
Lambda's CreateEventSourceMapping makes it."""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.event_sources import EventSourceMappings
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
    uuid: str = ""  # made through the Lambda API: its UUID names it
    qualifier: str = "$LATEST"  # the version or alias the API's mapping invokes
    created_ms: int = 0  # the API's mapping: LATEST reads records written after this

    @property
    def id(self) -> str:
        return self.uuid or f"{self.function}:{self.table}:{self.index}"


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
    """The spec's triggers, then the enabled mappings the Lambda API made."""
    declared = [mapping for function in registry.all() for mapping in mappings_of(function)]
    created = [StreamMapping(function=made.function, table=made.table, index=-1,
                             uuid=made.uuid, qualifier=made.qualifier,
                             created_ms=made.created_ms, **made.poller_options())  # type: ignore[arg-type]
               for made in EventSourceMappings(registry.redis).all() if made.enabled]
    return declared + created
