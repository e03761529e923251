"""Published versions and aliases: immutable snapshots of a function, and names for them.

Code is stored by its hash, so a version is only its FunctionConfig frozen at publish time
(code hash and configuration), kept under the function's own key; an alias is a small record
naming a version and, optionally, a second version that takes a share of the invocations
(Lambda's RoutingConfig.AdditionalVersionWeights). Invoking `name:3` or `name:live` hands the
workers that snapshot, so it runs exactly the code and configuration that were published.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from redis import Redis

from orchestrator import keys
from orchestrator.functions.config import FunctionConfig

LATEST = "$LATEST"


class Alias(BaseModel):
    name: str
    function_version: str
    description: str = ""
    weights: dict[str, float] = Field(default_factory=dict)  # other version -> its share
    revision: str = ""

    def pick(self, draw: float | None = None) -> str:
        """The version one invocation runs: the additional one with its weight's chance."""
        draw = random.random() if draw is None else draw
        for version, weight in self.weights.items():
            if draw < weight:
                return version
            draw -= weight
        return self.function_version


class Versions:
    """A function's published versions and aliases, in Redis."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def publish(self, function: FunctionConfig, description: str = "") -> tuple[FunctionConfig,
                                                                                  bool]:
        """Freeze $LATEST as the next version; when the newest version already holds the same
        code and configuration it is returned instead (as Lambda does). True when new."""
        newest = self.newest(function.name)
        if newest is not None and newest.version == function.version:
            return newest, False
        number = str(self.redis.incr(keys.last_version(function.name)))
        snapshot = function.model_copy(update={
            "lambda_version": number, "description": description or function.description,
            "last_modified": datetime.now(UTC).isoformat(timespec="milliseconds")})
        self.redis.hset(keys.versions(function.name), number, snapshot.model_dump_json())
        return snapshot, True

    def get(self, name: str, number: str) -> FunctionConfig | None:
        raw = self.redis.hget(keys.versions(name), number)
        return FunctionConfig.model_validate_json(raw) if raw is not None else None

    def all(self, name: str) -> list[FunctionConfig]:
        raw = self.redis.hgetall(keys.versions(name))
        snapshots = [FunctionConfig.model_validate_json(value) for value in raw.values()]
        return sorted(snapshots, key=lambda snapshot: int(snapshot.lambda_version))

    def newest(self, name: str) -> FunctionConfig | None:
        snapshots = self.all(name)
        return snapshots[-1] if snapshots else None

    def delete(self, name: str, number: str) -> bool:
        return bool(self.redis.hdel(keys.versions(name), number))

    # Aliases

    def alias(self, name: str, alias: str) -> Alias | None:
        raw = self.redis.hget(keys.aliases(name), alias)
        return Alias.model_validate_json(raw) if raw is not None else None

    def aliases(self, name: str) -> list[Alias]:
        raw = self.redis.hgetall(keys.aliases(name))
        return sorted((Alias.model_validate_json(value) for value in raw.values()),
                      key=lambda alias: alias.name)

    def put_alias(self, function: str, alias: Alias) -> None:
        alias.revision = str(uuid.uuid4())  # changes with every update, as on Lambda
        self.redis.hset(keys.aliases(function), alias.name, alias.model_dump_json())

    def delete_alias(self, function: str, alias: str) -> bool:
        return bool(self.redis.hdel(keys.aliases(function), alias))

    def forget(self, name: str) -> None:
        """Every version and alias of a deleted function (the version counter restarts, as
        a function created again under the same name starts at version 1 on Lambda)."""
        self.redis.delete(keys.versions(name), keys.last_version(name), keys.aliases(name))

    def resolve(self, function: FunctionConfig, qualifier: str) -> FunctionConfig | None:
        """The snapshot a qualifier names (a version number, or an alias routed by its
        weights), $LATEST itself, or None when nothing has that name."""
        if qualifier == LATEST:
            return function
        if qualifier.isdigit():
            return _sharing_limits(function, self.get(function.name, qualifier))
        alias = self.alias(function.name, qualifier)
        if alias is None:
            return None
        version = alias.pick()
        if version == LATEST:
            return function
        return _sharing_limits(function, self.get(function.name, version))


def _sharing_limits(function: FunctionConfig, snapshot: FunctionConfig | None
                    ) -> FunctionConfig | None:
    """The snapshot under the function's current reserved concurrency: on Lambda it is the
    function's, shared by all its versions, not frozen with one."""
    if snapshot is None or snapshot.reserved_concurrency == function.reserved_concurrency:
        return snapshot
    return snapshot.model_copy(update={"reserved_concurrency": function.reserved_concurrency})
