"""Publisher registry: data file, lookup order, name normalisation, timeline overrides, offline."""

from __future__ import annotations

import collections
import itertools
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from archiver.audit.names import name_key, names_match
from archiver.audit.registry import RegistryError, load_registry
from archiver.timeline.catalog import host_of, parse_archive_url, registrable_domain
from archiver.timeline.load import load_events

REG = load_registry()


def accepts(publisher: str, url: str) -> bool:
    match = REG.lookup(url)
    assert match is not None, url
    return match.entry.platform or names_match(publisher, match.entry.names) or names_match(
        publisher, match.entry.syndicates)


def test_builtin_registry_is_valid_and_states_tiers() -> None:
    assert len(REG) >= 150
    assert set(REG.tiers) == {1, 2, 3}
    assert all(e.tier in (None, 1, 2, 3) for e in REG.entries.values())
    assert REG.suffix_rules == sorted(REG.suffix_rules, key=lambda r: -len(r.key))


@pytest.mark.parametrize(("url", "key", "via"), [
    ("https://abcnews.go.com/Politics/x", "abcnews.go.com", "host"),
    ("https://www.judiciary.senate.gov/press/x", "judiciary.senate.gov", "host"),
    ("https://www.warren.senate.gov/x", "warren.senate.gov", "host"),
    ("https://www.markey.senate.gov/x", "senate.gov", "domain"),
    ("https://www.nytimes.com/2020/01/01/us/x.html", "nytimes.com", "domain"),
    ("https://trumptyrannytracker.substack.com/p/x", "substack.com", "domain"),
    ("https://someone.blogspot.com/2020/x.html", "*.blogspot.com", "host_rule"),
    ("https://iapps.courts.state.ny.us/x", "*.state.*.us", "host_rule"),
    ("https://www.epa.gov/x", "epa.gov", "domain"),
    ("https://www.nps.gov/x", ".gov", "suffix_rule"),
    ("https://www.army.mil/x", ".mil", "suffix_rule"),
    ("https://www.stanford.edu/x", ".edu", "suffix_rule"),
    ("https://web.archive.org/web/2019/https://www.npr.org/2019/x", "npr.org", "domain"),
])
def test_lookup_order(url: str, key: str, via: str) -> None:
    match = REG.lookup(url)
    assert match is not None and (match.entry.key, match.via) == (key, via)


def test_unknown_domain() -> None:
    assert REG.lookup("https://www.example-unknown-outlet.org/a") is None


def test_fill_name_rules() -> None:
    assert REG.lookup("https://www.justice.gov/opa/x").fill_name == "U.S. Department of Justice"
    assert REG.lookup("https://www.judiciary.senate.gov/x").fill_name == "Senate Judiciary Committee"
    assert REG.lookup("https://www.markey.senate.gov/x").fill_name is None  # not "U.S. Senate" generally
    assert REG.lookup("https://www.nps.gov/x").fill_name is None  # a rule names no one
    assert REG.lookup("https://www.youtube.com/watch?v=1").fill_name is None  # the channel is the publisher


@pytest.mark.parametrize(("publisher", "url"), [
    ("NPR", "https://www.npr.org/2020/01/01/1/x"),
    ("National Public Radio", "https://www.npr.org/x"),
    ("NPR - Karl Rove Interview", "https://www.npr.org/x"),
    ("PBS NewsHour", "https://www.pbs.org/newshour/politics/x"),
    ("PBS News Hour", "https://www.pbs.org/newshour/x"),
    ("PBS Frontline", "https://www.pbs.org/wgbh/frontline/x"),
    ("Associated Press", "https://www.pbs.org/newshour/x"),  # PBS runs AP copy
    ("NYT", "https://www.nytimes.com/x"),
    ("New York Times", "https://www.nytimes.com/x"),
    ("The New York Times", "https://www.nytimes.com/x"),
    ("new york times", "https://www.nytimes.com/x"),
    ("nytimes.com", "https://www.nytimes.com/x"),
    ("N.Y. Times", "https://www.nytimes.com/x"),
    ("CNN Politics", "https://www.cnn.com/x"),
    ("CNN Business", "https://money.cnn.com/x"),
    ("Reuters via Yahoo", "https://finance.yahoo.com/news/x"),
    ("Reuters/Yahoo Finance", "https://uk.finance.yahoo.com/news/x"),
    ("Associated Press", "https://apnews.com/article/x"),
    ("AP News", "https://apnews.com/article/x"),
    ("The Associated Press", "https://apnews.com/article/x"),
    ("The Guardian", "https://www.theguardian.com/x"),
    ("Guardian", "https://www.theguardian.com/x"),
    ("Washington Post", "https://www.washingtonpost.com/x"),
    ("Washington Post (John Kiriakou op-ed)", "https://www.washingtonpost.com/x"),
    ("Wall Street Journal", "https://www.wsj.com/x"),
    ("WSJ", "https://www.wsj.com/x"),
    ("U.S. Department of Justice", "https://www.justice.gov/x"),
    ("US Department of Justice", "https://www.justice.gov/x"),
    ("Department of Justice", "https://www.justice.gov/x"),
    ("Justice Dept.", "https://www.justice.gov/x"),
    ("Senate Judiciary Committee", "https://www.judiciary.senate.gov/x"),
    ("U.S. Senate Committee on the Judiciary", "https://www.judiciary.senate.gov/x"),
    ("Wikipedia", "https://en.wikipedia.org/wiki/X"),
    ("Wikipedia (sourced from NYT reporting)", "https://en.wikipedia.org/wiki/X"),
    ("PBS NewsHour", "https://www.youtube.com/watch?v=x"),  # a channel on a platform
    ("Donald Trump via Twitter", "https://twitter.com/realDonaldTrump/status/1"),
    ("Trump Tyranny Tracker", "https://trumptyrannytracker.substack.com/p/x"),
    ("Politico", "https://www.politico.com/news/x"),
    ("POLITICO", "https://www.politico.com/news/x"),
    ("POLITICO Europe", "https://www.politico.eu/article/x"),
    ("The Hill", "https://thehill.com/x"),
    ("CNBC", "https://www.cnbc.com/x"),
    ("Reuters (via CNBC)", "https://www.cnbc.com/x"),
    ("Axios", "https://www.axios.com/x"),
    ("ABC News", "https://abcnews.go.com/x"),
    ("Fox News", "https://www.foxnews.com/x"),
    ("Bloomberg", "https://www.bloomberg.com/x"),
    ("NBC News", "https://www.nbcnews.com/x"),
    ("MSNBC", "https://www.msnbc.com/x"),
    ("TIME Magazine", "https://time.com/x"),
    ("Time", "https://time.com/x"),
    ("The Street", "https://www.thestreet.com/x"),
    ("U.S. News", "https://www.usnews.com/x"),
    ("US News & World Report", "https://www.usnews.com/x"),
    ("Brennan Center", "https://www.brennancenter.org/x"),
    ("WhiteHouse.gov", "https://www.whitehouse.gov/x"),
    ("The White House", "https://www.whitehouse.gov/x"),
    ("60 Minutes", "https://www.cbsnews.com/news/x"),
    ("CBS Chicago", "https://www.cbsnews.com/chicago/news/x"),
    ("Democracy Now", "https://www.democracynow.org/x"),
    ("Citizens for Responsibility and Ethics in Washington (CREW)", "https://www.citizensforethics.org/x"),
])
def test_names_that_match(publisher: str, url: str) -> None:
    assert accepts(publisher, url)


@pytest.mark.parametrize(("publisher", "url"), [
    ("Reuters", "https://www.theguardian.com/world/x"),
    ("The Washington Times", "https://www.washingtonpost.com/x"),
    ("New York Post", "https://www.nytimes.com/x"),
    ("ProPublica", "https://www.nytimes.com/x"),
    ("New York Times", "https://en.wikipedia.org/wiki/X"),
    ("Government Executive", "https://federalnewsnetwork.com/x"),
    ("CNN", "https://www.foxnews.com/x"),
    ("Fox News", "https://www.cnn.com/x"),
    ("NBC News", "https://www.usnews.com/x"),
])
def test_names_that_do_not_match(publisher: str, url: str) -> None:
    assert not accepts(publisher, url)


def test_name_key_normalisation() -> None:
    assert name_key("The New York Times") == name_key("new york times") == name_key("New-York  Times!")
    assert name_key("U.S. Dept. of Justice") == name_key("US Department of Justice")
    assert name_key("Fairness & Accuracy in Reporting") == name_key("fairness and accuracy in reporting")
    assert name_key("Süddeutsche Zeitung") == "suddeutsche zeitung"


def test_by_name_finds_other_outlets() -> None:
    assert [e.key for e in REG.by_name("Reuters (Special Report)")] == ["reuters.com"]
    assert "nytimes.com" in [e.key for e in REG.by_name("NYT")]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "publishers.yaml"
    path.write_text(textwrap.dedent(text), "utf-8")
    return path


def test_timeline_registry_extends_and_overrides(tmp_path: Path) -> None:
    path = write(tmp_path, """
        tiers: {3: "Everything else"}
        publishers:
          mylocalpaper.com: {name: My Local Paper, tier: 2, kind: news}
          cnbc.com: {tier: 1, aliases: [CNBC Make It]}
          wikipedia.org: {replace: true, name: Wikipedia, tier: 2, kind: wiki}
        rules:
          - {suffix: .gov, tier: 2, umbrella: true, kind: official}
          - {host: "*.substack.com", name: Substack newsletter, platform: true, tier: 2}
    """)
    reg = load_registry(path)
    assert reg.lookup("https://mylocalpaper.com/a").entry.name == "My Local Paper"
    cnbc = reg.lookup("https://www.cnbc.com/a").entry
    assert (cnbc.tier, cnbc.name) == (1, "CNBC")  # tier overridden, name kept
    assert "CNBC Make It" in cnbc.aliases and names_match("CNBC", cnbc.names)  # aliases extended
    wiki = reg.lookup("https://en.wikipedia.org/wiki/X").entry
    assert wiki.tier == 2 and wiki.notes is None  # replaced whole
    assert reg.lookup("https://www.nps.gov/x").entry.tier == 2  # timeline rule first
    assert reg.lookup("https://x.substack.com/p/1").entry.tier == 2  # host rule beats the domain entry
    assert reg.tiers[3] == "Everything else" and reg.tiers[1] == REG.tiers[1]
    assert reg.sources[-1] == str(path)
    assert REG.lookup("https://www.cnbc.com/a").entry.tier == 2  # the built-in registry is untouched


@pytest.mark.parametrize(("text", "message"), [
    ("publishers:\n  cnn.com: {tier: 5}\n", "'tier' must be 1, 2 or 3"),
    ("publishers:\n  cnn.com: {name: CNN, teir: 1}\n", "unknown field"),
    ("publishers:\n  'not a domain': {name: X}\n", "domain or host"),
    ("publishers:\n  new.example: {tier: 1}\n", "needs a 'name'"),
    ("publishers:\n  cnn.com: {name: CNN, kind: tabloid}\n", "'kind' must be one of"),
    ("rules:\n  - {suffix: gov, tier: 1}\n", "starts with a dot"),
    ("rules:\n  - {tier: 1}\n", "exactly one of"),
    ("publisher:\n  cnn.com: {}\n", "unknown top-level key"),
    ("version: 2\n", "unsupported registry version"),
    ("publishers: [\n", "invalid YAML"),
])
def test_invalid_registry_names_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(RegistryError, match=message) as info:
        load_registry(path)
    assert str(path) in str(info.value)


def test_missing_registry_file(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match="cannot read"):
        load_registry(tmp_path / "nope.yaml")


def test_no_network_in_process(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> None:
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket, "getaddrinfo", boom)
    monkeypatch.setattr(socket, "create_connection", boom)
    monkeypatch.setattr(socket.socket, "connect", boom)
    reg = load_registry()
    assert registrable_domain("news.some-brand-new-host.co.uk") == "some-brand-new-host.co.uk"
    assert reg.lookup("https://www.bbc.co.uk/news/x").entry.name == "BBC"


@pytest.mark.subprocess
def test_no_network_from_a_cold_start(tmp_path: Path) -> None:
    """A fresh process (PSL snapshot not yet loaded) audits a timeline with sockets disabled."""
    events = tmp_path / "events"
    events.mkdir()
    (events / "e.md").write_text("---\nsources:\n  - url: https://www.theguardian.com/a\n    publisher: Reuters\n"
                                 "    tier: 1\n---\n", "utf-8")
    code = textwrap.dedent(f"""
        import socket
        def boom(*a, **k):
            raise SystemExit("network access attempted")
        socket.getaddrinfo = boom
        socket.create_connection = boom
        socket.socket.connect = boom
        from archiver.timeline.load import load_events
        from archiver.timeline.catalog import build_catalog
        from archiver.audit.registry import load_registry
        from archiver.audit.rules import audit
        loaded = load_events({str(events)!r})
        findings = audit(loaded.events, build_catalog(loaded.events), load_registry())
        print(sorted(f.kind for f in findings))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "publisher_mismatch" in out.stdout


@pytest.mark.corpus
def test_top_150_corpus_domains_are_in_the_registry(corpus: Path) -> None:
    """The 150 most cited registrable domains each have an entry (or, for a domain like
    go.com, their most cited host has one); rules alone do not count."""
    counts: collections.Counter[str] = collections.Counter()
    hosts: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    for event in load_events(corpus).events:
        for source in event.sources:
            if source.url:
                ref = parse_archive_url(source.url)
                host = host_of(ref.original if ref else source.url)
                if host:
                    counts[registrable_domain(host)] += 1
                    hosts[registrable_domain(host)][host] += 1
    top = [domain for domain, _ in counts.most_common(150)]
    unlisted = []
    for domain in top:
        match = REG.lookup(hosts[domain].most_common(1)[0][0])
        if match is None or match.via in ("suffix_rule", "host_rule"):
            unlisted.append(domain)
    assert not unlisted, unlisted


@pytest.mark.corpus
def test_corpus_citations_resolve_to_a_registry_entry(corpus: Path) -> None:
    """Issue 16: at least 95% of the corpus's citations (all of them, bare or unreadable URLs counted
    as unresolved) resolve to an entry or a rule of the built-in registry."""
    total = resolved = 0
    for event in load_events(corpus).events:
        for source in event.sources:
            total += 1
            if source.url:
                ref = parse_archive_url(source.url)
                host = host_of(ref.original if ref else source.url)
                if host and REG.lookup(host) is not None:
                    resolved += 1
    assert total > 9000
    assert resolved / total >= 0.95, f"{resolved}/{total} = {resolved / total:.2%}"


def test_no_two_outlets_share_a_name_unless_declared_aliases() -> None:
    """A name (or alias) belongs to one outlet: two entries may share it only when they are hosts of one
    registrable domain or declared the same outlet with ``alias_of``; otherwise "Reuters" on another domain
    could never be told from Reuters."""
    owners: dict[str, list[str]] = collections.defaultdict(list)
    for key, entry in REG.entries.items():
        if entry.platform:
            continue
        for name in {name_key(n) for n in (entry.name, *entry.aliases) if n}:
            owners[name].append(key)
    clashes = []
    for name, keys in sorted(owners.items()):
        for a, b in itertools.pairwise(keys):
            if not REG.same_outlet(REG.entries[a], REG.entries[b]):
                clashes.append((name, a, b))
    assert not clashes, clashes
    # the check itself: an undeclared second owner of a name is caught, a declared one is not
    bad = load_registry(extra_data={"publishers": {"breitbart-example.com": {"name": "Reuters"}}})
    assert not bad.same_outlet(bad.entries["breitbart-example.com"], bad.entries["reuters.com"])
    good = load_registry(extra_data={"publishers": {
        "reutersagency.example": {"name": "Reuters", "alias_of": "reuters.com"}}})
    assert good.same_outlet(good.entries["reutersagency.example"], good.entries["reuters.com"])


def test_alias_of_must_name_another_entry() -> None:
    with pytest.raises(RegistryError, match=r"alias_of: nowhere\.example"):
        load_registry(extra_data={"publishers": {"x.example": {"name": "X", "alias_of": "nowhere.example"}}})
