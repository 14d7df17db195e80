"""Event loading: every kind of broken file yields its own finding, good files still load."""

from __future__ import annotations

from pathlib import Path

import pytest

from archiver.timeline.catalog import build_catalog
from archiver.timeline.load import load_events, normalise_date, parse_tier

GOOD = """---
id: good-event
date: 2020-01-02
title: A good event
sources:
  - url: https://www.reuters.com/world/a-story
    title: A story
    publisher: Reuters
    date: 2020-01-02
    tier: 1
---
Body.
"""


def _event(sources: str, event_id: str) -> str:
    return f"---\nid: {event_id}\ndate: 2020-01-01\ntitle: T\nsources:\n{sources}---\nbody\n"


def write_broken_timeline(root: Path) -> dict[str, str]:
    """A folder with one file per broken case; returns {file name: expected finding kind}."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "good.md").write_text(GOOD, encoding="utf-8")
    sub = root / "nested" / "deeper"
    sub.mkdir(parents=True)
    (sub / "good-nested.md").write_text(GOOD.replace("good-event", "good-nested"), encoding="utf-8")
    cases: dict[str, str] = {}

    def put(name: str, data: str | bytes, kind: str) -> None:
        path = root / name
        path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))
        cases[name] = kind

    put("invalid-yaml.md", "---\nid: bad-yaml\ntitle: [unclosed\nsources: []\n---\n", "parse_error")
    put("no-frontmatter.md", "# Just a heading\n\nNo frontmatter here.\n", "missing_frontmatter")
    put("empty.md", "", "empty_file")
    put("not-utf8.md", _event("  - url: https://www.lemonde.fr/a\n    title: caf\xe9\n", "latin1").encode("latin-1"),
        "encoding")
    put("bom.md", b"\xef\xbb\xbf" + _event("  - url: https://apnews.com/a\n", "bom-event").encode(), "encoding")
    put("crlf.md", _event("  - url: https://apnews.com/crlf\n", "crlf-event").replace("\n", "\r\n"),
        "line_endings")
    put("sources-not-list.md", _event("  url: https://apnews.com/x\n", "not-list"), "invalid_sources")
    put("source-no-url.md", _event("  - title: No url here\n    publisher: AP\n", "no-url"), "missing_url")
    put("url-null.md", _event("  - url: null\n    title: Null url\n", "url-null"), "missing_url")
    put("url-words.md", _event("  - url: academic research compilation\n", "url-words"), "invalid_url")
    put("url-tbd.md", _event("  - url: TBD\n", "url-tbd"), "invalid_url")
    put("url-example.md", _event("  - url: https://example.com/article\n", "url-example"), "invalid_url")
    put("url-ftp.md", _event("  - url: ftp://files.example.org/x\n", "url-ftp"), "invalid_url")
    put("tier-out.md", _event("  - url: https://apnews.com/t\n    tier: 5\n", "tier-out"), "invalid_tier")
    put("tier-word.md", _event("  - url: https://apnews.com/t2\n    tier: high\n", "tier-word"), "invalid_tier")
    put("dup-a.md", _event("  - url: https://apnews.com/d1\n", "dup"), "")
    put("dup-b.md", _event("  - url: https://apnews.com/d2\n", "dup"), "duplicate_id")
    put("frontmatter-list.md", "---\n- just\n- a list\n---\nbody\n", "parse_error")
    put("unclosed.md", "---\nid: unclosed\nsources: []\n", "parse_error")
    big = root / "huge.md"
    with big.open("wb") as fh:
        fh.write(_event("  - url: https://apnews.com/huge\n", "huge").encode())
        fh.write(b"x" * (20 * 1024 * 1024))
    cases["huge.md"] = "file_too_large"
    return cases


def test_every_broken_case_yields_its_own_finding_and_good_events_load(tmp_path: Path) -> None:
    root = tmp_path / "events"
    cases = write_broken_timeline(root)
    result = load_events(root)
    catalog = build_catalog(result.events)
    findings = result.findings + catalog.findings
    by_file: dict[str, set[str]] = {}
    for f in findings:
        assert f.file is not None
        by_file.setdefault(Path(f.file).name, set()).add(f.kind)
        assert f.message and f.severity in ("error", "warning", "info")
    for name, kind in cases.items():
        if kind:
            assert kind in by_file.get(name, set()), f"{name}: expected {kind}, got {by_file.get(name)}"
    ids = {e.id for e in result.events}
    assert {"good-event", "good-nested", "bom-event", "crlf-event", "latin1"} <= ids
    # files that could not be parsed are not events; the rest are
    assert "bad-yaml" not in ids
    assert result.files == len(cases) + 2
    # a 20 MB file is refused without being read into an event
    assert not any(s.url == "https://apnews.com/huge" for e in result.events for s in e.sources)


def test_findings_point_at_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "events"
    write_broken_timeline(root)
    result = load_events(root)
    catalog = build_catalog(result.events)
    by = {(Path(f.file or "").name, f.kind): f for f in result.findings + catalog.findings}
    assert by[("invalid-yaml.md", "parse_error")].line == 4  # the line after the unclosed '['
    assert by[("url-words.md", "invalid_url")].line == 6
    assert by[("url-words.md", "invalid_url")].event == "url-words"
    assert by[("tier-out.md", "invalid_tier")].line == 6
    assert by[("url-null.md", "missing_url")].source_index == 0
    assert by[("not-utf8.md", "encoding")].line == 7
    assert by[("dup-b.md", "duplicate_id")].message.count("dup-a.md") == 1
    assert by[("url-words.md", "invalid_url")].file == "events/url-words.md"


def test_source_fields_and_variants(tmp_path: Path) -> None:
    text = """---
title: Variants
date: 2019-05-01
sources:
  - url: https://www.nytimes.com/2019/05/01/us/a.html
    title: "A: quoted"
    outlet: NYT
    date: 2019-05-01
    tier: "tier-1"
    extra_field: kept
  - https://www.bbc.co.uk/news/world-1
  - url: " https://www.npr.org/x "
    publication: NPR
    year: 2018
    tier: "Tier 2"
  - url: https://apnews.com/y
    publisher: AP
    date: May 3, 2019
    tier: 3
    archive_url: https://web.archive.org/web/20190503000000/https://apnews.com/y
---
"""
    root = tmp_path / "ev"
    root.mkdir()
    (root / "2019-05-01--variants.md").write_text(text, encoding="utf-8")
    result = load_events(root)
    assert not result.findings
    (event,) = result.events
    assert event.id == "2019-05-01--variants"  # file name when no id
    assert event.date == "2019-05-01"
    s0, s1, s2, s3 = event.sources
    assert (s0.publisher, s0.publisher_key, s0.tier, s0.date, s0.line) == ("NYT", "outlet", 1, "2019-05-01", 5)
    assert s0.extra == {"extra_field": "kept"}
    assert s0.title == "A: quoted"
    assert (s1.url, s1.line, s1.index) == ("https://www.bbc.co.uk/news/world-1", 11, 1)
    assert (s2.url, s2.publisher, s2.publisher_key, s2.date, s2.tier) == (
        "https://www.npr.org/x", "NPR", "publication", "2018", 2)
    assert (s3.date, s3.tier, s3.archive_url) == (
        "May 3, 2019", 3, "https://web.archive.org/web/20190503000000/https://apnews.com/y")


@pytest.mark.parametrize(("raw", "tier", "problem"), [
    (1, 1, False), ("1", 1, False), ("tier-1", 1, False), ("Tier 1", 1, False), ("TIER_3", 3, False),
    (2.0, 2, False), (None, None, False), ("", None, False), (0, None, True), (4, None, True),
    ("tier-9", None, True), ("high", None, True), (True, None, True),
])
def test_parse_tier(raw: object, tier: int | None, problem: bool) -> None:
    got, why = parse_tier(raw)
    assert got == tier
    assert (why is not None) == problem


def test_normalise_date() -> None:
    import datetime as dt

    assert normalise_date(dt.date(2020, 1, 2)) == "2020-01-02"
    assert normalise_date(dt.datetime(2020, 1, 2, 3, 4)) == "2020-01-02"
    assert normalise_date(2019) == "2019"
    assert normalise_date(" March 2019 ") == "March 2019"
    assert normalise_date(None) is None


def test_missing_folder_is_a_finding(tmp_path: Path) -> None:
    result = load_events(tmp_path / "nope")
    assert [f.kind for f in result.findings] == ["missing_events"]
    assert result.events == []


def test_unsafe_yaml_tags_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "ev"
    root.mkdir()
    (root / "evil.md").write_text("---\ntitle: !!python/object/apply:os.system ['echo pwned']\n---\n")
    result = load_events(root)
    assert [f.kind for f in result.findings] == ["parse_error"]
    assert result.events == []


def _plain_yaml(text: str) -> object:
    """What PyYAML's own safe loader makes of ``text`` (or the error it raises)."""
    import yaml

    try:
        return yaml.load(text, Loader=yaml.CSafeLoader)
    except yaml.YAMLError as exc:
        return (type(exc).__name__, str(exc).splitlines()[0])


def _our_yaml(text: str) -> object:
    import yaml

    from archiver.timeline.load import _LineLoader, _strip_private

    try:
        return _strip_private(yaml.load(text, Loader=_LineLoader))
    except yaml.YAMLError as exc:
        return (type(exc).__name__, str(exc).splitlines()[0])


@pytest.mark.parametrize("text", [
    "a: &x {b: 1}\nc: *x\nd: *x\n",                       # aliases
    "base: &b {x: 1, y: 0}\nm:\n  <<: *b\n  y: 2\n",       # merge keys: PyYAML builds the document
    "? [1, 2]\n: 3\n",                                    # unhashable key: the same error
    "s: !!set {a, b}\no: !!omap [a: 1, b: 2]\np: !!pairs [a: 1]\n",
    "d: 2020-01-02\nt: yes\nn: ~\nf: 1.5\ni: 0x1F\nb: !!binary aGk=\nq: '2020-01-02'\n",
    "x: !custom y\n",                                      # an unknown tag: the same error
    "- a\n- {b: [c, {d: e}]}\n",
    "k: 1\nk: 2\n",                                        # duplicate keys: the last wins, as in PyYAML
    "plain scalar\n",
    "x: " + "[" * 2000 + "]" * 2000 + "\n",            # too deep for libyaml: the same error
])
def test_fast_yaml_construction_matches_pyyaml(text: str) -> None:
    assert _our_yaml(text) == _plain_yaml(text)


def test_deep_nesting_is_built_by_pyyaml_or_reported_never_a_crash(tmp_path: Path) -> None:
    import yaml

    from archiver.timeline.load import _LineLoader

    deep = "[" * 990 + "]" * 990
    data = yaml.load(f"x: {deep}\n", Loader=_LineLoader)  # past the fast path's recursion: PyYAML builds it
    depth, value = 0, data["x"]
    while value:
        depth, value = depth + 1, value[0]
    assert depth == 989
    root = tmp_path / "events"
    root.mkdir()
    (root / "deep-field.md").write_text(f"---\nid: deep\ntitle: T\nnotes: {deep}\nsources:\n"
                                        "  - url: https://apnews.com/a\n---\n", "utf-8")
    (root / "deep-source.md").write_text(f"---\nid: deeper\ntitle: T\nsources:\n  - url: https://apnews.com/b\n"
                                         f"    extra: {deep}\n---\n", "utf-8")
    (root / "good.md").write_text(GOOD, "utf-8")
    loaded = load_events(root, processes=1)
    assert sorted(e.id for e in loaded.events) == ["deep", "good-event"]
    assert [(f.file, f.kind, f.message) for f in loaded.findings] == [
        ("events/deep-source.md", "parse_error", "frontmatter is nested too deeply to read")]


def test_fast_yaml_construction_keeps_recursive_aliases() -> None:
    import yaml

    from archiver.timeline.load import _LineLoader

    data = yaml.load("r: &r [1, *r]\n", Loader=_LineLoader)
    assert data["r"][1] is data["r"]


@pytest.mark.corpus
def test_fast_yaml_construction_matches_pyyaml_on_the_corpus(corpus: Path) -> None:
    from archiver.timeline.load import _HANDLER

    texts = [p.read_text("utf-8") for p in sorted(corpus.glob("*.md"))]
    frontmatters = [_HANDLER.split(t)[0] for t in texts if _HANDLER.detect(t)]
    assert len(frontmatters) > 2700
    assert all(_our_yaml(fm) == _plain_yaml(fm) for fm in frontmatters)


# --------------------------------------------------------------------------- two processes

_TWO_PROCESS_SCRIPT = """
import pickle, sys
from archiver.timeline import load as events
events.PARALLEL_MIN_FILES = 2
if sys.argv[2] == "child-fails":
    real = events.pickle.dumps
    def failing(*a, **k):
        import os
        if os.getpid() != parent:
            raise RuntimeError("the child cannot send")
        return real(*a, **k)
    import os
    parent = os.getpid()
    events.pickle.dumps = failing
if sys.argv[2] == "thread":
    import threading
    stop = threading.Event()
    threading.Thread(target=stop.wait, daemon=True).start()
result = events.load_events(sys.argv[1])
sys.stdout.buffer.write(pickle.dumps(result))
"""


def _load_in_fresh_process(root: Path, mode: str) -> object:
    """load_events in a new interpreter (one thread, as the CLI runs): this test process has others."""
    import pickle
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _TWO_PROCESS_SCRIPT, str(root), mode], capture_output=True,
                          check=True, timeout=120)
    return pickle.loads(done.stdout)


def _same(a: object, b: object) -> None:
    assert a.events == b.events  # type: ignore[attr-defined]
    assert [e.path for e in a.events] == [e.path for e in b.events]  # type: ignore[attr-defined]
    assert a.findings == b.findings  # type: ignore[attr-defined]
    assert a.files == b.files  # type: ignore[attr-defined]


@pytest.mark.subprocess
def test_two_processes_load_exactly_what_one_does(tmp_path: Path) -> None:
    root = tmp_path / "events"
    write_broken_timeline(root)
    for n in range(30):  # a duplicate id across the halves, too
        (root / f"z{n:02d}.md").write_text(_event(f"  - url: https://apnews.com/z{n}\n", f"z{n}"), encoding="utf-8")
    (root / "zz-dup.md").write_text(_event("  - url: https://apnews.com/zz\n", "bom-event"), encoding="utf-8")
    serial = load_events(root, processes=1)
    forked = _load_in_fresh_process(root, "normal")
    assert serial.processes == 1 and forked.processes == 2  # type: ignore[attr-defined]
    _same(forked, serial)
    assert [f.kind for f in serial.findings].count("duplicate_id") == 2


@pytest.mark.subprocess
def test_a_failing_child_or_a_live_thread_means_one_process_and_the_same_result(tmp_path: Path) -> None:
    root = tmp_path / "events"
    write_broken_timeline(root)
    serial = load_events(root, processes=1)
    failed = _load_in_fresh_process(root, "child-fails")
    threaded = _load_in_fresh_process(root, "thread")
    assert failed.processes == 1 and threaded.processes == 1  # type: ignore[attr-defined]
    _same(failed, serial)
    _same(threaded, serial)


@pytest.mark.corpus
@pytest.mark.subprocess
def test_two_processes_on_the_corpus(corpus: Path) -> None:
    serial = load_events(corpus, processes=1)
    forked = _load_in_fresh_process(corpus, "normal")
    assert forked.processes == 2  # type: ignore[attr-defined]
    _same(forked, serial)
