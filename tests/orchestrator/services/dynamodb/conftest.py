"""boto3 clients on the real endpoint of the session's ripple, and fresh tables per test."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import boto3
import pytest
from botocore.config import Config
from redis import Redis

from tests.conftest import Ripple

NewTable = Callable[..., str]


def aws(ripple: Ripple) -> dict[str, Any]:
    return {"endpoint_url": ripple.url, "region_name": "us-east-1",
            "aws_access_key_id": "test", "aws_secret_access_key": "test",
            "config": Config(retries={"max_attempts": 1, "mode": "standard"},
                             max_pool_connections=64)}


@pytest.fixture
def dynamodb(ripple: Ripple) -> Any:
    return boto3.client("dynamodb", **aws(ripple))


@pytest.fixture
def resource(ripple: Ripple) -> Any:
    return boto3.resource("dynamodb", **aws(ripple))


@pytest.fixture
def streams_client(ripple: Ripple) -> Any:
    return boto3.client("dynamodbstreams", **aws(ripple))


@pytest.fixture(scope="session")
def redis(ripple: Ripple) -> Redis:
    """The stack's Redis: its address from the status, its password (which the status never
    hands out) from the data directory, as the stack's own processes get it."""
    shown = ripple.api("GET", "/_ripple/api/status")["redis_url"]
    password = ripple.data_dir / "redis" / "password"
    if password.exists():
        shown = shown.replace(":****@", f":{quote(password.read_text().strip(), safe='')}@")
    return Redis.from_url(shown)


@pytest.fixture
def new_table(dynamodb: Any) -> NewTable:
    """Create a table with a unique name: `new_table(pk="S", sk="N", stream="NEW_IMAGE")`."""

    def create(stream: str | None = None, **keys: str) -> str:
        name = f"t-{uuid.uuid4().hex[:10]}"
        keys = keys or {"pk": "S", "sk": "S"}
        request: dict[str, Any] = {
            "TableName": name, "BillingMode": "PAY_PER_REQUEST",
            "KeySchema": [{"AttributeName": key, "KeyType": kind}
                          for key, kind in zip(keys, ("HASH", "RANGE"), strict=False)],
            "AttributeDefinitions": [{"AttributeName": key, "AttributeType": kind}
                                     for key, kind in keys.items()]}
        if stream:
            request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream}
        dynamodb.create_table(**request)
        return name

    return create
