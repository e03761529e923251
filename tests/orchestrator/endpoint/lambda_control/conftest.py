"""Zip archives built in the test, as a deploy script zips a handler."""

from __future__ import annotations

import io
import uuid
import zipfile
from collections.abc import Callable
from typing import Any

import pytest

ROLE = "arn:aws:iam::000000000000:role/lambda-role"


def zipped(source: str, name: str = "app.py") -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(name, source)
    return buffer.getvalue()


def returning(value: object) -> bytes:
    """A handler (app.handler) answering `value`."""
    return zipped(f"def handler(event, context):\n    return {value!r}\n")


Create = Callable[..., str]


@pytest.fixture
def create(lambda_client: Any) -> Create:
    """CreateFunction with a zip; returns the new function's name."""

    def _create(code: bytes, **settings: Any) -> str:
        name = f"api-{uuid.uuid4().hex[:8]}"
        lambda_client.create_function(FunctionName=name, Runtime="python3.11", Role=ROLE,
                                      Handler="app.handler", Code={"ZipFile": code},
                                      **settings)
        return name

    return _create
