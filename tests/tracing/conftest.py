"""Fixtures the tracing tests share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.tracing import FOREVER
from tracing.store.database import SpanStore
from tracing.store.rollup import MapRollup


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SpanStore]:
    """An empty span store that keeps everything (the test traces start in 2023), with the
    service-map rollup attached as the endpoint attaches it."""
    opened = SpanStore(tmp_path / "traces.db", max_spans=1_000_000, max_age_hours=FOREVER)
    opened.add_listener(MapRollup(opened))
    yield opened
    opened.close()


@pytest.fixture
def rollup(store: SpanStore) -> MapRollup:
    """The `store` fixture's rollup."""
    attached = store.map
    assert isinstance(attached, MapRollup)
    return attached
