"""Fixtures of the deadline engine's tests."""

from __future__ import annotations

import pytest

from xinfang.workflow import calendar, deadlines


@pytest.fixture(autouse=True)
def _fresh_workflow_caches():
    """The legal calendar and the rule book are cached per process; a test's rows roll back with its
    transaction but a cached copy would not, so every test starts and ends with empty caches."""
    calendar.clear_cache()
    deadlines.clear_cache()
    yield
    calendar.clear_cache()
    deadlines.clear_cache()
