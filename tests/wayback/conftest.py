"""The Wayback double the stage tests share (tests/wayback/test_wayback_client.py has its own, pre-filled)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.farm import Farm
from tests.support.wayback_double import WaybackDouble
from tests.wayback.test_wayback_stage import NOW


@pytest.fixture
def double() -> Iterator[WaybackDouble]:
    farm = Farm().start()
    d = WaybackDouble(access="IAKEY-access-7f3a", secret="IAKEY-secret-9c2b", clock=lambda: NOW)
    d.start(farm)
    try:
        yield d
    finally:
        farm.stop()
