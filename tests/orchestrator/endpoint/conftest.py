"""Fixtures the endpoint tests share with the tracing tests."""

from tests.tracing.conftest import store  # noqa: F401  (the span store fixture)
