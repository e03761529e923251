"""What the S3 test modules share: a boto3 client on the session's ripple, and new buckets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from tests.conftest import Ripple
from tests.orchestrator.services.test_s3 import NewBucket, s3_client


@pytest.fixture
def s3(ripple: Ripple) -> Any:
    return s3_client(ripple)


@pytest.fixture
def new_bucket(s3: Any) -> NewBucket:
    def create() -> str:
        name = f"b-{uuid.uuid4().hex[:12]}"
        s3.create_bucket(Bucket=name)
        return name

    return create
