"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.farm import Farm
from tests.support.farm_sites import Sites, build_sites

#: the suite's rules: CI-required markers, the subprocess and corpus markers (see the module)
pytest_plugins = ["tests.support.hygiene"]

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpus" / "capture-cascade" / "events"


@pytest.fixture
def corpus() -> Path:
    """The real corpus (../shared); tests that use it are skipped when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("corpus ../shared/corpus/capture-cascade/events is absent")
    return CORPUS


@pytest.fixture
def farm() -> Iterator[Farm]:
    """Local hosts on loopback for one test (archive limiters belong to each night: nothing to reset)."""
    f = Farm().start()
    try:
        yield f
    finally:
        f.stop()


@pytest.fixture(scope="session")
def sites() -> Sites:
    """The checker's loopback web (tests/support/farm_sites.py), started once for the session, before any test:
    its TLS hosts' certificates are made with openssl then, so no test is the one that happens to start it."""
    return build_sites()
