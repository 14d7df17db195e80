"""The real corpus loads completely, and its counts match an independent count."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest
import yaml

try:
    from yaml import CSafeLoader as Loader
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as Loader  # type: ignore[assignment]

from archiver.timeline.catalog import build_catalog
from archiver.timeline.load import load_events


def _independent_key(url: str) -> tuple[object, ...]:
    """A deliberately simple canonical form written without the project's code."""
    m = re.match(r"^https?://(?:web\.|www\.)?archive\.org/web/[0-9*]+(?:[a-z]{2}_)?/+(.+)$", url)
    if m:
        url = m.group(1)
        if not re.match(r"^https?:", url):
            url = "http://" + url
        url = re.sub(r"^(https?):/(?!/)", r"\1://", url)
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or " " in (parts.hostname or ""):
        return ("not-http", url)
    query = sorted((k, v) for k, v in parse_qsl(parts.query) if not re.match(r"utm_|fbclid|gclid", k.lower()))
    return (parts.scheme.lower(), parts.hostname.lower(), unquote(parts.path) or "/", tuple(query))


def _raw_sources(root: Path) -> list[tuple[str, object]]:
    out = []
    for path in sorted(root.glob("*.md")):
        m = re.match(r"^---\s*\n(.*?)\n---\s*(\n|$)", path.read_text("utf-8"), re.S)
        if not m:
            continue
        data = yaml.load(m.group(1), Loader=Loader) or {}
        for source in data.get("sources") or []:
            out.append((f"events/{path.name}", source.get("url") if isinstance(source, dict) else source))
    return out


@pytest.mark.corpus
def test_corpus_loads_without_crash_and_counts_match(corpus: Path) -> None:
    files = list(corpus.rglob("*.md"))
    result = load_events(corpus)
    catalog = build_catalog(result.events)
    assert result.files == len(files) == 2784
    # the folder's README is a finding, not a crash; every other file is an event
    assert len(result.events) == len(files) - 1
    readme = [f for f in result.findings if f.file == "events/README.md"]
    assert [f.kind for f in readme] == ["missing_frontmatter"]
    assert not [f for f in result.findings if f.kind == "parse_error"]

    raw = _raw_sources(corpus)
    urls = [(file, u.strip()) for file, u in raw if isinstance(u, str) and u.strip()]
    assert result.citations == len(raw)
    assert catalog.citations == len(urls)
    assert len(catalog.links) == len({_independent_key(u) for _, u in urls})
    # the corpus README's own figure
    assert len(raw) == 9247


@pytest.mark.corpus
def test_every_non_http_url_in_corpus_is_a_finding(corpus: Path) -> None:
    result = load_events(corpus)
    catalog = build_catalog(result.events)
    flagged = [(f.file, f.url) for f in catalog.findings if f.kind == "invalid_url"]
    raw = _raw_sources(corpus)
    bad = [(file, u.strip()) for file, u in raw
           if isinstance(u, str) and u.strip()
           and (not re.match(r"^https?://[^\s/]+\.[^\s/]+", u.strip()) or "//example.com" in u)]
    assert len(bad) > 30, "the corpus is known to contain non-URLs"
    assert sorted(flagged) == sorted(bad)
    empty = [1 for _, u in raw if not (isinstance(u, str) and u.strip())]
    assert len([f for f in result.findings if f.kind == "missing_url"]) == len(empty)
