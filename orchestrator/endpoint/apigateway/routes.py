"""The stage's route table: which function answers a request, chosen as API Gateway does.

Among the routes that fit a request, the most specific wins: segment by segment from the
left, literal text beats `{param}`, which beats the greedy `{proxy+}`; then an explicit method
beats `ANY`. `{proxy+}` takes one or more segments, so `/{proxy+}` does not answer `/`.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from pydantic import ValidationError
from redis.asyncio import Redis as AsyncRedis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.registry import Registry
from orchestrator.spec.api_access import Cors, HttpAuth, Throttle, UsagePlan
from orchestrator.spec.models import HttpTrigger

log = logging.getLogger("ripple.apigateway")
ANY = "ANY"
REST_FORMAT = "1.0"
HTTP_FORMAT = "2.0"
_PARAMETER = re.compile(r"\{([^}+]+)(\+?)\}")
LITERAL, PARAMETER, GREEDY = 2, 1, 0


@dataclass(frozen=True)
class Route:
    """One `http` event of a deployed function."""

    method: str  # GET, POST, … or ANY
    path: str  # a template: /items/{id}, /files/{proxy+}
    function: str
    payload_format: str = HTTP_FORMAT  # "1.0" (REST API) or "2.0" (HTTP API)
    auth: HttpAuth | None = field(default=None, compare=False)
    usage_plan: UsagePlan | None = field(default=None, compare=False)
    throttle: Throttle | None = field(default=None, compare=False)
    cors: Cors | None = field(default=None, compare=False)
    segments: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        parts = tuple(self.path.strip("/").split("/")) if self.path.strip("/") else ()
        object.__setattr__(self, "segments", parts)

    @property
    def route_key(self) -> str:
        """How API Gateway names the route: `GET /items/{id}`."""
        return f"{self.method} {self.path}"

    @property
    def access(self) -> str:
        """What guards the route, in a few words (`api key, authorizer authz (TOKEN)`)."""
        guards = []
        if self.auth and self.auth.api_key_required:
            guards.append("api key")
        authorizer = self.auth.authorizer if self.auth else None
        if authorizer is not None:
            guards.append(f"jwt {authorizer.jwt.issuer}" if authorizer.jwt else
                          f"authorizer {authorizer.function} ({authorizer.type})")
        if self.throttle or (self.usage_plan and (self.usage_plan.throttle
                                                  or self.usage_plan.quota)):
            guards.append("throttled")
        if self.cors:
            guards.append("cors")
        return ", ".join(guards)

    @property
    def specificity(self) -> tuple[tuple[int, ...], int]:
        kinds = []
        for segment in self.segments:
            parameter = _PARAMETER.fullmatch(segment)
            kinds.append(LITERAL if not parameter else GREEDY if parameter[2] else PARAMETER)
        return tuple(kinds), int(self.method != ANY)

    def shared_prefix(self, segments: list[str]) -> int:
        """How many leading segments of a request path this route's template fits."""
        shared = 0
        for template, segment in zip(self.segments, segments, strict=False):
            if template != segment and not _PARAMETER.fullmatch(template):
                break
            shared += 1
        return shared

    def path_parameters(self, segments: list[str]) -> dict[str, str] | None:
        """The parameters of a (decoded) request path this route fits, else None."""
        found: dict[str, str] = {}
        for index, template in enumerate(self.segments):
            parameter = _PARAMETER.fullmatch(template)
            if parameter and parameter[2]:  # greedy: one or more segments, to the end
                if index >= len(segments):
                    return None
                found[parameter[1]] = "/".join(segments[index:])
                return found
            if index >= len(segments):
                return None
            if parameter:
                found[parameter[1]] = segments[index]
            elif template != segments[index]:
                return None
        return found if len(segments) == len(self.segments) else None


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


def path_segments(raw_path: str) -> list[str]:
    """A request path as decoded segments; an encoded `%2F` stays inside its segment."""
    trimmed = raw_path.strip("/")
    return [unquote(segment) for segment in trimmed.split("/")] if trimmed else []


class RouteTable:
    def __init__(self, routes: Iterable[Route]) -> None:
        # Most specific first, so the first route that fits is the one that answers.
        self.routes = sorted(routes, key=lambda route: (route.specificity, route.function),
                             reverse=True)

    @classmethod
    def of(cls, functions: Iterable[FunctionConfig]) -> RouteTable:
        routes = [_route(function.name, event["http"])
                  for function in functions for event in function.events if "http" in event]
        return cls(route for route in routes if route is not None)

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        segments = path_segments(raw_path)
        for route in self.routes:
            if route.method not in (method, ANY):
                continue
            parameters = route.path_parameters(segments)
            if parameters is not None:
                return RouteMatch(route, parameters)
        return None

    def cors_for(self, raw_path: str) -> tuple[Route, Cors] | None:
        """The CORS settings of the most specific route a path fits, whatever its method."""
        segments = path_segments(raw_path)
        for route in self.routes:
            if route.cors is not None and route.path_parameters(segments) is not None:
                return route, route.cors
        return None

    def unmatched_format(self, raw_path: str) -> str:
        """The payload format of the API a request no route fits is answered by: that of
        the routes sharing the longest path prefix with it (the 2.0 default when they
        disagree or none shares any)."""
        segments = path_segments(raw_path)
        best, formats = 0, {route.payload_format for route in self.routes}
        for route in self.routes:
            shared = route.shared_prefix(segments)
            if shared > best:
                best, formats = shared, set()
            if shared == best:
                formats.add(route.payload_format)
        return REST_FORMAT if formats == {REST_FORMAT} else HTTP_FORMAT

    def describe(self) -> list[dict[str, str]]:
        """The routes, with `access` (what guards one) when anything does."""
        return [{"route": route.route_key, "function": route.function,
                 "payload_format": route.payload_format,
                 **({"access": route.access} if route.access else {})}
                for route in sorted(self.routes, key=lambda route: (route.path, route.method))]


def _route(function: str, http: dict[str, Any]) -> Route | None:
    """A route from an `http` event as the registry keeps it; None (and a warning) when its
    settings no longer read as the spec's (the route then stays unserved, not open)."""
    try:
        trigger = HttpTrigger.model_validate(http)
    except ValidationError as error:
        log.warning("route %s %s of %s not served: %s", http.get("method"), http.get("path"),
                    function, error)
        return None
    return Route(trigger.method, trigger.path, function, trigger.payload_format,
                 auth=trigger.auth, usage_plan=trigger.usage_plan, throttle=trigger.throttle,
                 cors=trigger.cors)


class LiveRoutes:
    """The route table of the deployed functions, rebuilt after any deploy or delete."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self._table: RouteTable | None = None

    def table(self) -> RouteTable:
        if self._table is None:
            self._table = RouteTable.of(self.registry.all())
        return self._table

    def reload(self) -> RouteTable:
        """Read the registry again (a miss may be a route deployed a moment ago)."""
        self._table = None
        return self.table()

    async def follow_changes(self, redis: AsyncRedis) -> None:
        """Drop the table whenever a function changes; drop it too if the feed breaks."""
        while True:
            try:
                async with redis.pubsub() as pubsub:
                    await pubsub.subscribe(keys.FUNCTIONS_CHANGED)
                    self._table = None  # changes made while not subscribed
                    async for message in pubsub.listen():
                        if message["type"] == "message":
                            self._table = None
            except asyncio.CancelledError:
                raise
            except Exception:
                log.warning("lost the function change feed; retrying", exc_info=True)
                self._table = None
                await asyncio.sleep(1)
