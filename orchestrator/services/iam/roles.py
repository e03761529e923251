"""IAM roles and their policies as recorded: what CreateRole, AttachRolePolicy and
PutRolePolicy were given, kept so GetRole and the List calls answer it back. Nothing here is
enforced: ripple runs every function with the same (no) permissions."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from pydantic import BaseModel, Field
from redis import Redis

from orchestrator import keys
from orchestrator.settings import ACCOUNT_ID


class Role(BaseModel):
    name: str
    path: str = "/"
    assume_role_policy: str = ""
    description: str = ""
    max_session_duration: int = 3600
    created: str = Field(default_factory=lambda: datetime.now(UTC).strftime(
        "%Y-%m-%dT%H:%M:%SZ"))
    attached: list[str] = Field(default_factory=list)  # managed policy ARNs
    inline: dict[str, str] = Field(default_factory=dict)  # policy name -> document
    tags: dict[str, str] = Field(default_factory=dict)

    @property
    def arn(self) -> str:
        return f"arn:aws:iam::{ACCOUNT_ID}:role{self.path}{self.name}"

    @property
    def role_id(self) -> str:
        """AROA and 17 characters, stable for the name, as IAM's role ids look."""
        return "AROA" + hashlib.sha256(self.name.encode()).hexdigest()[:17].upper()


class Roles:
    def __init__(self, redis: Redis) -> None:
        self.redis = redis

    def get(self, name: str) -> Role | None:
        raw = self.redis.hget(keys.IAM_ROLES, name)
        return Role.model_validate_json(raw) if raw is not None else None

    def put(self, role: Role) -> None:
        self.redis.hset(keys.IAM_ROLES, role.name, role.model_dump_json())

    def create(self, role: Role) -> bool:
        """False when a role of that name exists (it is left as it was)."""
        return bool(self.redis.hsetnx(keys.IAM_ROLES, role.name, role.model_dump_json()))

    def all(self) -> list[Role]:
        raw = self.redis.hgetall(keys.IAM_ROLES)
        return sorted((Role.model_validate_json(value) for value in raw.values()),
                      key=lambda role: role.name)

    def delete(self, name: str) -> bool:
        return bool(self.redis.hdel(keys.IAM_ROLES, name))
