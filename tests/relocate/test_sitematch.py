"""Method 3's matching: slugs and whole titles, never a substring."""

from __future__ import annotations

from archiver.relocate.candidate import Method
from archiver.relocate.sitemaps import Entry
from archiver.relocate.sitematch import match, normal_title, title_matches

DOC = "https://s.com/sitemap.xml"


def entry(url: str, title: str | None = None) -> Entry:
    return Entry(url, Method.SITEMAP, DOC, title)


def test_short_slugs_match_only_exactly_and_never_generic_ones() -> None:
    entries = [entry("https://s.com/new/index"), entry("https://s.com/new/budget2"), entry("https://s.com/x/budget")]
    assert [c.url for c in match(entries, "https://s.com/old/budget.html", None)] == ["https://s.com/x/budget"]
    assert match(entries, "https://s.com/old/index", None) == []


def test_titles_match_whole_not_as_substrings() -> None:
    title = "Minister resigns over the port contract scandal"
    assert title_matches(normal_title(title), normal_title("Minister Resigns Over the Port-Contract Scandal!"))
    assert title_matches(normal_title(title), normal_title("Minister resigns over the port contract scandals"))
    for decoy in (f"Follow-up: {title}", f"Update: {title}", f"{title}, one year on", "Minister resigns"):
        assert not title_matches(normal_title(title), normal_title(decoy)), decoy


def test_both_signals_rank_first_and_the_old_url_is_no_candidate() -> None:
    title = "Minister resigns over the port contract scandal"
    entries = [entry("https://s.com/b/minister-resigns"), entry("https://s.com/c/minister-resigns", title),
               entry("https://s.com/old/minister-resigns", title)]
    got = match(entries, "https://s.com/old/minister-resigns", title)
    assert [c.url for c in got] == ["https://s.com/c/minister-resigns", "https://s.com/b/minister-resigns"]
    assert got[0].title == title and "and the cited title" in got[0].evidence


def test_verification_and_the_sitemaps_share_the_whole_title_rule() -> None:
    """A page whose title adds one word to the cited title ("Update: <title>") is another article for the
    verification too, not only for the sitemap matching; a site suffix and a typo still pass."""
    from archiver.relocate.verify import title_similarity

    cited = "Council approves the river flood defences after a long debate"
    assert title_similarity(cited, f"{cited} | Riverton Gazette") == 1.0
    assert title_similarity(cited, cited.replace("defences", "defenses")) >= 0.9
    for other in (f"Update: {cited}", f"Follow-up: {cited}", f"{cited}, one year on"):
        assert title_similarity(cited, other) <= 0.5, other
        assert not title_matches(normal_title(cited), normal_title(other)), other
