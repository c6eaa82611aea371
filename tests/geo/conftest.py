"""Fixtures of the geo tests."""

from __future__ import annotations

import pytest

from civicgrid.authz.scope import Principal
from tests.geo.factories import principal


@pytest.fixture
def admin() -> Principal:
    return principal()
