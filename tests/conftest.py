"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parent.parent
CORPUS = PROJECT.parent / "shared" / "corpus" / "capture-cascade" / "events"


@pytest.fixture
def corpus() -> Path:
    """The real corpus (../shared); tests that use it are skipped when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip("corpus ../shared/corpus/capture-cascade/events is absent")
    return CORPUS
