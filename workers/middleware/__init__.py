"""Hooks around one invocation. Concurrency, retries and records are middleware, not branches."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.client import Pipeline

from orchestrator.errors import RippleError
from orchestrator.invocations.message import InvocationRequest
from workers.environments.outcome import Outcome


class InvocationSkipped(RippleError):
    """Raised by a `before_invoke` hook: the handler does not run this time."""

    reason = "Skipped"


class Throttled(InvocationSkipped):
    reason = "Throttled"


class EventExpired(InvocationSkipped):
    reason = "EventAgeExceeded"


class HookFailed(InvocationSkipped):
    """A `before_invoke` hook raised: ripple's own fault, not the handler's. An async event is
    retried with the throttle backoff (not counted as an attempt); a sync caller gets Lambda's
    500 ServiceException at once."""

    reason = "ServiceException"


@dataclass
class InvocationContext:
    request: InvocationRequest
    pipe: Pipeline  # writes queued here leave in one round trip after the invocation
    outcome: Outcome | None = None
    cold: bool = False
    env_alive: bool = False  # the environment is warm and idle again after this invocation
    runtime_trace_header: str = ""  # what the environment gets as _X_AMZN_TRACE_ID
    skipped: InvocationSkipped | None = None
    lease_id: str | None = None
    extras: dict[str, object] = field(default_factory=dict)
    results: list[Any] = field(default_factory=list)  # what the round trip answered


class Middleware:
    """Base class: every hook does nothing unless overridden."""

    def before_invoke(self, ctx: InvocationContext) -> None:
        """Runs before the handler; raise InvocationSkipped to stop it from running. Any other
        exception is contained: the handler does not run and `ctx.skipped` is a HookFailed."""

    def after_invoke(self, ctx: InvocationContext) -> None:
        """Runs after the handler ran, or after a hook skipped it (`ctx.skipped`), for every
        middleware, even those whose `before_invoke` never ran: check what `ctx` holds."""

    def completed(self, ctx: InvocationContext) -> None:
        """Runs once the reply and bookkeeping are sent: work no caller should wait for."""
