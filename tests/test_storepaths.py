"""Link folder names: readable, deterministic, distinct, and safe on every OS with hostile URLs."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from archiver.support.storepaths import HASH_HEX, WINDOWS_RESERVED, link_dir, slug
from archiver.timeline.catalog import canonical_url

SAFE_COMPONENT = re.compile(r"^[a-z0-9_][a-z0-9._-]*$")

HOSTILE = [
    "https://example.com/../../etc/passwd",
    "https://example.com/%2e%2e/%2e%2e/%2e%2e/secret",
    "https://example.com/%252e%252e/%252e%252e/x",
    "https://example.com/a\x00b/c\x00",
    "https://example.com/" + "a" * 5000,
    "https://example.com/" + "/".join(["seg"] * 2000),
    "https://example.com/" + "%F0%9F%92%A5" * 500,
    "https://bücher.de/straße/über-uns",
    "https://例え.テスト/記事/顔認証",
    "https://con.example.com/con.html",
    "https://example.com/CON",
    "https://example.com/aux.txt?x=1",
    "https://nul/lpt1",
    "https://example.com/?page=2&sort=desc",
    "https://example.com/index.php?id=123",
    "https://example.com/...",
    "https://example.com/. . ./ . ",
    "https://example.com/a\\b\\..\\..\\c",
    "https://example.com/a:b*c?d|e<f>g\"h",
    "https://[2001:db8::1]:8443/path",
    "https://www.EXAMPLE.com./Mixed/Case",
    "https://" + "sub." * 60 + "example.com/deep",
    "https://example.com/%00%2f%5c..%2f",
    "https://example.com/com1.json",
    "not a url at all / .. / con",
    "",
]


@pytest.mark.parametrize("url", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_urls_give_safe_bounded_paths(url: str, tmp_path: Path) -> None:
    rel = link_dir(url)
    parts = rel.split("/")
    assert len(parts) == 2
    for part in parts:
        assert SAFE_COMPONENT.match(part), part
        assert part not in (".", "..") and not part.endswith((".", " "))
        assert part.split(".", 1)[0] not in WINDOWS_RESERVED
        assert len(part) <= 80
    assert len(rel) <= 150
    assert re.search(rf"--[0-9a-f]{{{HASH_HEX}}}$", parts[1])
    folder = tmp_path / rel
    folder.mkdir(parents=True)  # creatable, and inside the root
    assert folder.resolve().is_relative_to(tmp_path.resolve())
    assert link_dir(url) == rel  # deterministic


def test_readable_examples() -> None:
    assert link_dir("https://www.theguardian.com/world/2013/jun/06/us-tech-giants-nsa-data").startswith(
        "theguardian.com/world-2013-jun-06-us-tech-giants-nsa-data--")
    assert link_dir("https://example.com/").startswith("example.com/index--")
    assert link_dir("https://example.com/index.php?id=123").startswith("example.com/index-id-123--")
    assert link_dir("https://example.com/?page=2").startswith("example.com/page-2--")
    assert link_dir("https://bücher.de/straße").startswith("xn--bcher-kva.de/strasse--")
    assert link_dir("https://con.example.com/con.html").startswith("_con.example.com/con--")
    assert link_dir("https://www.supremecourt.gov/opinions/22pdf/21-1333_6j7a.pdf").startswith(
        "supremecourt.gov/opinions-22pdf-21-1333-6j7a-pdf--")


def test_long_paths_keep_the_page_name() -> None:
    s = slug("/news/politics/2024/05/01/" + "-".join(["word"] * 40) + "/council-votes-on-cameras")
    assert s.endswith("council-votes-on-cameras") and len(s) <= 60


def test_distinct_links_get_distinct_folders() -> None:
    urls = [canonical_url(u) for u in (
        "https://example.com/a", "https://example.com/a?x=1", "https://example.com/A", "http://example.com/a",
        "https://example.com/a/", "https://example.com/a.html", "https://example.com/a?x=2")]
    assert len(set(urls)) == len({link_dir(u) for u in urls})
