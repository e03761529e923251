"""Registering a function, the one path both doors share: `ripple deploy` (the control API)
and the Lambda API's CreateFunction, UpdateFunctionCode and UpdateFunctionConfiguration."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.event_sources import EventSourceMappings
from orchestrator.functions.extras import FunctionExtras
from orchestrator.functions.registry import Registry
from orchestrator.functions.urls import FunctionUrls
from orchestrator.functions.versions import Versions
from orchestrator.services.s3.notifications import S3Notifications


def register(request: Request, function: FunctionConfig) -> bool:
    """Store the function as $LATEST, stamped now, and apply its S3 triggers; True when its
    code or configuration changed."""
    registry: Registry = request.app.state.registry
    function.last_modified = datetime.now(UTC).isoformat(timespec="milliseconds")
    changed = registry.put(function)
    request.app.state.invoke.functions.forget(function.name)
    S3Notifications(registry.redis, function.region).apply_function(function)
    return changed


def unregister(request: Request, name: str) -> bool:
    """Remove the function with its versions, aliases, tags, URL and mappings; True when it
    existed."""
    registry: Registry = request.app.state.registry
    deleted = registry.delete(name)
    request.app.state.invoke.functions.forget(name)
    S3Notifications(registry.redis).remove_function(name)
    Versions(registry.redis).forget(name)
    FunctionExtras(registry.redis).forget(name)
    EventSourceMappings(registry.redis).forget_function(name)
    FunctionUrls(registry.redis).forget_function(name)
    return deleted
