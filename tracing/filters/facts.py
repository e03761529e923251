"""What a filter tests: the keywords, and the facts of a whole trace, of one service's segment
or of one edge's call that they read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from tracing.nodes import Node

FLAGS = frozenset({"ok", "error", "fault", "throttle", "partial"})
NUMBERS = frozenset({"responsetime", "duration", "http.status"})
STRINGS = frozenset({"http.url", "http.method", "http.useragent", "http.clientip", "user"})
Value = str | float | bool


@dataclass(frozen=True, kw_only=True)
class Facts:
    """What keywords test: a whole trace, or one service's segment, or one edge's call."""

    ok: bool = True
    error: bool = False
    fault: bool = False
    throttle: bool = False
    partial: bool = False
    response_time: float = 0.0  # seconds
    duration: float = 0.0  # seconds
    http: Mapping[str, str | int] = field(default_factory=dict)  # url method status useragent
    annotations: Mapping[str, tuple[Value, ...]] = field(default_factory=dict)  # clientip
    users: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class ServiceFacts(Facts):
    node: Node


@dataclass(frozen=True, kw_only=True)
class EdgeFacts(Facts):
    source: Node
    target: Node


@dataclass(frozen=True, kw_only=True)
class TraceFacts(Facts):
    services: tuple[ServiceFacts, ...] = ()
    edges: tuple[EdgeFacts, ...] = ()
    entry_point: Node | None = None  # the node of the root segment
    start_time: float = 0.0  # epoch seconds
