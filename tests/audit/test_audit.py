"""Citation audit: every finding kind, title threshold, CLI (text, json, --write), corpus run."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archiver.audit.registry import load_registry
from archiver.audit.rules import TITLE_THRESHOLD, archived_original, audit, same_page, title_similarity
from archiver.cli import cli
from archiver.config import Settings
from archiver.models import Event, Finding, PageMeta, Source
from archiver.options import AuditOptions
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events

REG = load_registry()
DATA = Path(__file__).resolve().parents[1] / "data"


def src(url: str | None, publisher: str | None = "X", tier: int | None = None, *, index: int = 0,
        title: str | None = "A title", date: str | None = "2024-01-02", archive_url: str | None = None,
        key: str = "publisher") -> Source:
    return Source(index=index, line=5 + 5 * index, url=url, title=title, publisher=publisher,
                  publisher_key=key if publisher else None, date=date, tier=tier, archive_url=archive_url)


def run(*sources: Source, pages: dict[str, PageMeta] | None = None, options: AuditOptions | None = None,
        kinds: tuple[str, ...] | None = None) -> list[Finding]:
    event = Event(id="2024-01-01--e", file="events/2024-01-01--e.md", date="2024-01-01", title="E",
                  sources=list(sources))
    findings = audit([event], build_catalog([event]), REG, pages=pages, options=options)
    return [f for f in findings if kinds is None or f.kind in kinds]


def kinds_of(findings: list[Finding]) -> list[str]:
    return [f.kind for f in findings]


def page(url: str, **kw: str) -> dict[str, PageMeta]:
    return {canonical_url(url): PageMeta(url=url, **kw)}


PUB = ("publisher_mismatch",)

# ------------------------------------------------------------------ publisher_mismatch


def test_wrong_outlet_for_the_domain_is_flagged_with_a_fix() -> None:
    url = "https://www.theguardian.com/world/2013/jun/06/x"
    [f] = run(src(url, "The New York Times", 1, key="outlet"), kinds=PUB)
    assert f.severity == "warning"
    assert (f.expected, f.actual, f.fix) == ("The Guardian", "The New York Times", "outlet: The Guardian")
    assert (f.event, f.file, f.line, f.source_index) == ("2024-01-01--e", "events/2024-01-01--e.md", 5, 0)
    assert f.url == url
    assert f.message == ("source 0: publisher 'The New York Times': The New York Times publishes on nytimes.com; "
                         "this page is on theguardian.com (The Guardian): a syndicated copy, or the wrong publisher")
    # a wire service's name on a newsroom's page is most often its wire copy: the same finding, as a hint
    [f] = run(src(url, "Reuters", 1, key="outlet"), kinds=PUB)
    assert (f.severity, f.fix) == ("info", "outlet: The Guardian")
    assert "Reuters publishes on reuters.com; this page is on theguardian.com (The Guardian)" in f.message
    # a name the registry gives no other domain: the outlet of the URL is expected
    [f] = run(src(url, "Some Local Gazette"), kinds=PUB)
    assert f.severity == "warning" and "is not The Guardian, the outlet of www.theguardian.com" in f.message


def test_known_outlet_on_an_unknown_domain_is_a_publisher_mismatch_not_a_registry_gap() -> None:
    """Issue 16: "Reuters" on an unknown domain never yields a fix registering that domain as Reuters."""
    url = "https://www.unknown-site-example.com/2017/x"
    found = run(src(url, "The New York Times", 1))
    [f] = [f for f in found if f.kind == "publisher_mismatch"]
    assert f.severity == "warning" and f.actual == "The New York Times" and f.expected is None
    assert f.message == ("source 0: publisher 'The New York Times': The New York Times publishes on nytimes.com; "
                         "this page is on unknown-site-example.com: a syndicated copy, or the wrong publisher")
    assert f.fix == ("cite The New York Times's own page on nytimes.com, or name the site that published this copy")
    [u] = [f for f in found if f.kind == "unknown_publisher"]
    assert u.fix == "add unknown-site-example.com to the registry under the name its own pages use"
    # a wire story copied by an unknown site: the same finding, as a hint
    [f] = run(src(url, "Reuters", 1), kinds=PUB)
    assert f.severity == "info" and "Reuters publishes on reuters.com" in f.message
    # with a snapshot, the fix is the page's own name, and the registry entry suggested is that name
    found = run(src(url, "Reuters", 1), pages=page(url, site_name="Unknown Site"))
    [f] = [f for f in found if f.kind == "publisher_mismatch"]
    assert f.fix == "publisher: Unknown Site" and f.expected == "Unknown Site"
    [u] = [f for f in found if f.kind == "unknown_publisher"]
    assert u.fix == "add to the registry: unknown-site-example.com: {name: Unknown Site, tier: 1}"
    # the page calls itself the cited outlet: perhaps its other domain, declared with alias_of
    found = run(src(url, "Reuters", 1), pages=page(url, site_name="Reuters"))
    assert kinds_of(found) == ["unknown_publisher"]
    assert found[0].fix == ("if unknown-site-example.com is Reuters's own other domain, add to the registry: "
                            "unknown-site-example.com: {name: Reuters, alias_of: reuters.com}")


@pytest.mark.corpus
def test_no_unknown_publisher_fix_registers_a_domain_under_another_outlets_name(corpus: Path) -> None:
    loaded = load_events(corpus)
    findings = audit(loaded.events, build_catalog(loaded.events), REG)
    for f in findings:
        if f.kind == "unknown_publisher" and f.fix and "{name: " in f.fix and "alias_of" not in f.fix:
            name = f.fix.split("{name: ", 1)[1].rsplit("}", 1)[0].split(", tier: ")[0]
            assert REG.outlets_named(name) == [], f.fix


@pytest.mark.parametrize(("url", "publisher"), [
    ("https://www.huffingtonpost.com/entry/x", "HuffPost"),  # an outlet's other domain (alias_of)
    ("https://www.bbc.co.uk/news/x", "BBC News"),
    ("https://oig.justice.gov/reports/x", "U.S. Department of Justice"),  # a body on its own .gov subdomain
    ("https://www.cisa.gov/news/x", "Department of Homeland Security"),  # a parent department on a .gov
    ("https://www.sciencenews.org/article/x", "Science News"),  # not "Science" with a generic tail
    ("https://www.today.com/news/x", "Today"),
])
def test_legitimate_other_domains_are_not_publisher_mismatches(url: str, publisher: str) -> None:
    assert run(src(url, publisher, None), kinds=PUB) == []


@pytest.mark.parametrize(("url", "publisher"), [
    ("https://www.npr.org/2020/01/01/1/x", "NPR"),
    ("https://www.pbs.org/newshour/politics/x", "PBS NewsHour"),
    ("https://www.pbs.org/newshour/politics/x", "Associated Press"),
    ("https://www.nytimes.com/2020/x.html", "NYT"),
    ("https://www.nytimes.com/2020/x.html", "New York Times"),
    ("https://www.cnn.com/2020/x", "CNN Politics"),
    ("https://finance.yahoo.com/news/x", "Reuters via Yahoo"),
    ("https://apnews.com/article/x", "AP News"),
    ("https://www.justice.gov/opa/pr/x", "U.S. Attorney SDNY"),
    ("https://www.justice.gov/opa/pr/x", "U.S. District Court for the District of Columbia"),
    ("https://www.judiciary.senate.gov/x", "Senate Judiciary Committee"),
    ("https://www.youtube.com/watch?v=1", "Senate Judiciary Committee"),
    ("https://www.youtube.com/watch?v=1", "CNN"),
    ("https://x.com/user/status/1", "Donald Trump"),
    ("https://www.documentcloud.org/documents/1-x", "U.S. District Court for the District of Columbia"),
    ("https://web.archive.org/web/2019/https://www.npr.org/2019/x", "NPR"),
    ("https://www.nps.gov/x", "National Park Service"),
    ("https://scholarship.law.gwu.edu/x", "George Washington Law Review"),
    ("https://www.unknown-blog-example.net/x", "Some Blog"),
])
def test_legitimate_publishers_are_not_flagged(url: str, publisher: str) -> None:
    assert run(src(url, publisher, None), kinds=PUB) == []


def test_news_outlet_named_on_an_umbrella_domain_is_flagged() -> None:
    [f] = run(src("https://www.warren.senate.gov/newsroom/x", "ProPublica"), kinds=PUB)
    assert f.expected == "Office of Senator Elizabeth Warren" and "news outlet ProPublica" in f.message


def test_site_name_shows_a_syndicated_copy() -> None:
    url = "https://finance.yahoo.com/news/x"
    assert run(src(url, "Reuters"), kinds=PUB) == []  # without a snapshot: a wire story Yahoo carries
    [f] = run(src(url, "Reuters"), pages=page(url, site_name="Yahoo Finance"), kinds=PUB)
    assert f.fix == "publisher: Reuters via Yahoo Finance" and "syndicated copy" in f.message
    assert run(src(url, "Reuters via Yahoo Finance"), pages=page(url, site_name="Yahoo Finance"), kinds=PUB) == []


def test_site_name_of_an_unknown_domain_names_another_outlet() -> None:
    url = "https://www.localpaper-example.com/news/x"
    [f] = run(src(url, "Associated Press"), pages=page(url, site_name="Local Paper Example"), kinds=PUB)
    assert f.expected == "Local Paper Example" and "syndicated copy" in f.message
    [f] = run(src(url, "Local Gazette"), pages=page(url, site_name="The New York Times"), kinds=PUB)
    assert f.expected == "The New York Times"
    assert run(src(url, "Local Gazette"), pages=page(url, site_name="Local Paper Example"), kinds=PUB) == []


def test_site_name_agreeing_or_unknown_is_not_flagged() -> None:
    url = "https://www.npr.org/2020/x"
    assert run(src(url, "NPR"), pages=page(url, site_name="NPR"), kinds=PUB) == []
    assert run(src(url, "NPR"), pages=page(url, site_name="npr.org"), kinds=PUB) == []
    assert run(src(url, "NPR"), pages=page(url, site_name="Some CMS"), kinds=PUB) == []  # registry wins
    [f] = run(src(url, "NPR"), pages=page(url, site_name="The Washington Post"), kinds=PUB)
    assert f.expected == "The Washington Post"
    yt = "https://www.youtube.com/watch?v=1"
    assert run(src(yt, "C-SPAN"), pages=page(yt, site_name="YouTube"), kinds=PUB) == []


# ------------------------------------------------------------------ tier_mismatch


def test_tier_mismatch() -> None:
    [f] = run(src("https://www.nytimes.com/x", "The New York Times", 2), kinds=("tier_mismatch",))
    assert (f.severity, f.expected, f.actual, f.fix) == ("warning", 1, 2, "tier: 1")
    assert "major outlets" in f.message
    assert run(src("https://www.nytimes.com/x", "NYT", 1), kinds=("tier_mismatch",)) == []
    [f] = run(src("https://en.wikipedia.org/wiki/X", "Wikipedia", 2), kinds=("tier_mismatch",))
    assert f.expected == 3
    # a wire story a site carries is held to the wire's tier
    assert run(src("https://www.usnews.com/news/x", "Reuters", 1), kinds=("tier_mismatch",)) == []
    assert kinds_of(run(src("https://www.usnews.com/news/x", "U.S. News", 1), kinds=("tier_mismatch",))) == [
        "tier_mismatch"]
    assert run(src("https://finance.yahoo.com/news/x", "Reuters/Yahoo Finance", 1), kinds=("tier_mismatch",)) == []
    assert run(src("https://www.youtube.com/watch?v=1", "C-SPAN", 1), kinds=("tier_mismatch",)) == []
    assert run(src("https://www.nps.gov/x", "NPS", 1), kinds=("tier_mismatch",)) == []


# ------------------------------------------------------------------ unknown_publisher


def test_unknown_publisher_suggests_the_site_name() -> None:
    url = "https://www.localpaper-example.com/news/x"
    [f] = run(src(url, "Local Paper", 2), kinds=("unknown_publisher",))
    assert f.severity == "info" and "localpaper-example.com" in f.fix and "Local Paper" in f.fix
    [f] = run(src(url, None), pages=page(url, site_name="The Local Paper"), kinds=("unknown_publisher",))
    assert f.expected == "The Local Paper" and "The Local Paper" in f.fix
    assert run(src("https://www.nps.gov/x", "NPS"), kinds=("unknown_publisher",)) == []


# ------------------------------------------------------------------ missing_field


def test_missing_fields_with_fixes_from_the_registry_and_page() -> None:
    url = "https://www.npr.org/2020/01/01/1/x"
    found = run(src(url, None, None, title=None, date=None), kinds=("missing_field",))
    assert [(f.message, f.fix) for f in found] == [
        ("source 0: no publisher", "publisher: NPR"), ("source 0: no tier", "tier: 1"),
        ("source 0: no title", "add the page's title"), ("source 0: no date", "add the publication date")]
    assert all(f.severity == "warning" for f in found)
    found = run(src(url, None, None, title=None, date=None),
                pages=page(url, title="Real headline : NPR", date="2020-01-01"), kinds=("missing_field",))
    assert [f.fix for f in found][2:] == ["title: Real headline : NPR", "date: 2020-01-01"]
    assert run(src(url, "NPR", 1), kinds=("missing_field",)) == []
    bare = run(src(url, None, None, title=None, date=None, key="publisher"), kinds=("missing_field",))
    assert len(bare) == 4
    [f] = run(src(url, "NPR", 1, title="npr.org"), kinds=("missing_field",))
    assert "placeholder" in f.message and f.actual == "npr.org"
    assert run(src(url, "NPR", 1, title="H.R.3734 - Welfare Reform Act"), kinds=("missing_field",)) == []


# ------------------------------------------------------------------ title_mismatch


def test_title_mismatch() -> None:
    url = "https://www.nytimes.com/2005/12/16/politics/x.html"
    cited = src(url, "NYT", 1, title="Bush Lets U.S. Spy on Callers Without Courts")
    ok = page(url, title="Bush Lets U.S. Spy on Callers Without Courts - The New York Times")
    assert run(cited, pages=ok, kinds=("title_mismatch",)) == []
    wrong = page(url, title="How the Saudis' Khashoggi Story Changed - The New York Times")
    [f] = run(cited, pages=wrong, kinds=("title_mismatch",))
    assert f.severity == "warning" and f.fix == "title: How the Saudis' Khashoggi Story Changed"


def load_pairs() -> list[tuple[str, str, str, str]]:
    rows = []
    for line in (DATA / "title_pairs.tsv").read_text("utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, site, cited, page_title = line.split("\t")
            rows.append((label, site, cited, page_title))
    return rows


def test_title_threshold_on_the_labelled_pairs() -> None:
    """Every headline rewrite passes; a different article of the same outlet is flagged (1 miss allowed)."""
    scores: dict[str, list[float]] = {"same": [], "different": [], "sibling": []}
    for label, site, cited, page_title in load_pairs():
        names = [site, *(n for e in REG.by_name(site) for n in e.names)]
        score = title_similarity(cited, page_title, names)
        assert score is not None
        scores[label].append(score)
    assert len(scores["same"]) >= 30 and len(scores["different"]) >= 25
    assert min(scores["same"]) >= TITLE_THRESHOLD
    missed = [s for s in scores["different"] if s >= TITLE_THRESHOLD]
    assert len(missed) <= 1, missed


# ------------------------------------------------------------------ date_mismatch


def test_date_mismatch_uses_the_tolerance_setting() -> None:
    url = "https://www.npr.org/2020/x"
    cited = src(url, "NPR", 1, date="2020-01-10")
    assert run(cited, pages=page(url, date="2020-01-08"), kinds=("date_mismatch",)) == []
    [f] = run(cited, pages=page(url, date="2020-01-01T12:00:00Z"), kinds=("date_mismatch",))
    assert (f.severity, f.expected, f.actual, f.fix) == ("info", "2020-01-01", "2020-01-10", "date: 2020-01-01")
    strict = Settings(date_tolerance_days=0.0).audit_options
    assert kinds_of(run(cited, pages=page(url, date="2020-01-09"), options=strict,
                        kinds=("date_mismatch",))) == ["date_mismatch"]
    assert run(src(url, "NPR", 1, date="2020"), pages=page(url, date="2019-01-01"), kinds=("date_mismatch",)) == []


# ------------------------------------------------------------------ archive_mismatch


def test_archive_mismatch() -> None:
    url = "https://www.cnn.com/2019/08/07/us/mississippi-immigration-raids"
    [f] = run(src(url, "CNN", 1, archive_url="https://web.archive.org/web/20190808000000/https://www.cnn.com/"),
              kinds=("archive_mismatch",))
    assert f.severity == "error" and "home page" in f.message
    assert f.fix.startswith(f"archive_url: https://web.archive.org/web/20190808000000/{url}")
    for ok in (f"https://web.archive.org/web/20190808000000/{url}/",
               f"https://web.archive.org/web/20190808000000*/{url}",
               f"https://web.archive.org/web/2019/{url.replace('https://www.', 'http://')}",
               "https://archive.ph/AbCdE"):
        assert run(src(url, "CNN", 1, archive_url=ok), kinds=("archive_mismatch",)) == [], ok


def test_archive_helpers() -> None:
    assert archived_original("https://web.archive.org/web/2024*/https://a.org/x") == (None, "https://a.org/x")
    assert archived_original("https://archive.ph/x") is None
    assert same_page("https://www.a.org/x/?utm_source=t", "http://a.org/x")
    assert not same_page("https://a.org/x", "https://a.org/y")


# ------------------------------------------------------------------ CLI

EVENT = """\
---
id: 2024-01-01--e
# a comment that must survive
sources:
  - url: https://www.npr.org/2024/01/01/1/story
    title: "A story"
    outlet: NPR
  - url: https://www.theguardian.com/us-news/2024/jan/01/x
    title: Guardian story
    publisher: Reuters
    tier: 1
  - url: https://www.nytimes.com/2024/01/01/us/x.html
    title: NYT story
    date: 2024-01-01
---
Body.
"""


@pytest.fixture
def timeline(tmp_path: Path) -> Path:
    events = tmp_path / "events"
    events.mkdir()
    (events / "2024-01-01--e.md").write_text(EVENT, "utf-8")
    (events / "2024-01-02--crlf.md").write_bytes(
        b"---\r\nsources:\r\n- url: https://apnews.com/article/x\r\n  outlet: AP\r\n  title: T\r\n---\r\n")
    return events


def test_cli_text_and_json(timeline: Path) -> None:
    result = CliRunner().invoke(cli, ["audit", "--events", str(timeline)])
    assert result.exit_code == 0, result.output
    assert ("events/2024-01-01--e.md:8: info: publisher_mismatch: source 1: publisher 'Reuters': Reuters publishes "
            "on reuters.com; this page is on theguardian.com (The Guardian): a syndicated copy, or the wrong "
            "publisher") in result.output
    assert "(fix: publisher: The Guardian)" in result.output
    assert "publisher_mismatch: 1" in result.output and "missing_field: " in result.output
    result = CliRunner().invoke(cli, ["audit", "--events", str(timeline), "--format", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["summary"]["findings"]["publisher_mismatch"] == 1
    [f] = [f for f in data["findings"] if f["kind"] == "publisher_mismatch"]
    assert {"event", "file", "line", "source_index", "url", "expected", "actual", "fix"} <= set(f)


def test_cli_invalid_registry_exits_2_naming_the_file(timeline: Path, tmp_path: Path) -> None:
    bad = tmp_path / "my-publishers.yaml"
    bad.write_text("publishers:\n  cnn.com: {tier: 7}\n", "utf-8")
    config = tmp_path / "archiver.toml"
    config.write_text(f'registry = "{bad.name}"\n', "utf-8")
    result = CliRunner().invoke(cli, ["audit", "--events", str(timeline), "--config", str(config)])
    assert result.exit_code == 2
    assert "my-publishers.yaml" in result.output and "tier" in result.output


def test_cli_uses_the_timeline_registry(timeline: Path, tmp_path: Path) -> None:
    own = tmp_path / "publishers.yaml"
    own.write_text("publishers:\n  theguardian.com: {aliases: [Reuters]}\n", "utf-8")
    config = tmp_path / "archiver.toml"
    config.write_text('registry = "publishers.yaml"\n', "utf-8")
    result = CliRunner().invoke(cli, ["audit", "--events", str(timeline), "--config", str(config)])
    assert result.exit_code == 0 and "publisher_mismatch" not in result.output


def test_cli_write_is_a_minimal_diff(timeline: Path) -> None:
    before = (timeline / "2024-01-01--e.md").read_text("utf-8")
    result = CliRunner().invoke(cli, ["audit", "--events", str(timeline), "--write"])
    assert result.exit_code == 0, result.output
    after = (timeline / "2024-01-01--e.md").read_text("utf-8")
    assert after == before.replace(
        "    outlet: NPR\n", "    outlet: NPR\n    tier: 1\n").replace(
        "    date: 2024-01-01\n---", "    date: 2024-01-01\n    publisher: The New York Times\n    tier: 1\n---")
    assert (timeline / "2024-01-02--crlf.md").read_bytes() == (
        b"---\r\nsources:\r\n- url: https://apnews.com/article/x\r\n  outlet: AP\r\n  title: T\r\n"
        b"  tier: 1\r\n---\r\n")
    assert "events/2024-01-01--e.md: 3 lines changed (3 fields filled)" in result.output
    assert "2 files changed, 4 lines" in result.output
    again = CliRunner().invoke(cli, ["audit", "--events", str(timeline), "--write"])
    assert "0 files changed" in again.output


# ------------------------------------------------------------------ corpus


@pytest.mark.corpus
def test_corpus_audit(corpus: Path) -> None:
    started = time.perf_counter()
    loaded = load_events(corpus)
    catalog = build_catalog(loaded.events)
    findings = audit(loaded.events, catalog, REG)
    elapsed = time.perf_counter() - started
    assert elapsed < 20
    counts: dict[str, int] = {}
    for f in findings:
        counts[f.kind] = counts.get(f.kind, 0) + 1
    assert counts["missing_field"] > 5000 and counts["tier_mismatch"] > 500
    # names the corpus uses for its most cited outlets are never flagged
    flagged = {(f.actual, (f.url or "").split("/")[2]) for f in findings if f.kind == "publisher_mismatch"}
    assert counts.get("publisher_mismatch", 0) < 40, flagged
    for good in (("NPR", "www.npr.org"), ("PBS NewsHour", "www.pbs.org"), ("New York Times", "www.nytimes.com"),
                 ("Washington Post", "www.washingtonpost.com"), ("CNN Politics", "www.cnn.com"),
                 ("Associated Press", "apnews.com"), ("ABC News", "abcnews.go.com")):
        assert good not in flagged
