"""Fixtures the tracing tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tracing import FOREVER
from tracing.store.database import SpanStore


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpanStore]:
    """An empty span store that keeps everything (the test traces start in 2023)."""
    opened = SpanStore(tmp_path / "traces.db", max_spans=1_000_000, max_age_hours=FOREVER)
    yield opened
    opened.close()
