"""Method 2: the site's rewrite pattern learned from old/new pairs, and applied to a cited URL."""

from __future__ import annotations

from archiver.relocate.candidate import Method, Pair
from archiver.relocate.pattern import MIN_SUPPORT, apply, learn


def pairs(*moves: tuple[str, str]) -> list[Pair]:
    return [Pair(old, new, "moved") for old, new in moves]


def test_a_replaced_prefix_with_dates_dropped_is_learned_and_applied() -> None:
    rules = learn(pairs(
        ("https://example.com/news/2019/05/alpha", "https://example.com/articles/alpha"),
        ("https://example.com/news/2020/11/beta", "https://example.com/articles/beta"),
        ("http://example.com/news/2021/01/gamma", "https://example.com/articles/gamma"),
    ))
    assert [r.support for r in rules] == [3]
    (cand,) = apply(rules, "https://example.com/news/2018/02/delta")
    assert cand.url == "https://example.com/articles/delta"
    assert cand.method is Method.SITE_PATTERN
    assert cand.evidence == "3 other pages of example.com moved from /news/YYYY/MM/<slug> to /articles/<slug>"
    # another section, another shape: the rule says nothing about it
    assert apply(rules, "https://example.com/sport/2018/02/delta") == []


def test_date_segments_dropped_and_html_removed() -> None:
    rules = learn(pairs(
        ("https://a.org/2019/05/12/one.html", "https://a.org/one/"),
        ("https://a.org/2020/01/31/two.html", "https://a.org/two/"),
    ))
    assert [c.url for c in apply(rules, "https://a.org/2017/12/01/three.html")] == ["https://a.org/three/"]


def test_dates_kept_in_the_new_address_are_carried_over() -> None:
    rules = learn(pairs(
        ("https://a.org/blog/2019/05/one", "https://a.org/2019/one.html"),
        ("https://a.org/blog/2020/03/two", "https://a.org/2020/two.html"),
    ))
    assert [c.url for c in apply(rules, "https://a.org/blog/2016/07/three")] == ["https://a.org/2016/three.html"]


def test_a_host_change_names_both_hosts() -> None:
    rules = learn(pairs(
        ("https://www.a.com/story/one", "https://news.a.com/story/one"),
        ("https://www.a.com/story/two", "https://news.a.com/story/two"),
    ))
    (cand,) = apply(rules, "https://www.a.com/story/three")
    assert cand.url == "https://news.a.com/story/three"
    assert "from www.a.com/story/<slug> to news.a.com/story/<slug>" in cand.evidence


def test_unguessable_ids_give_no_rule() -> None:
    rules = learn(pairs(
        ("https://b.com/news/2019/05/one", "https://b.com/a/8f3k2/one"),
        ("https://b.com/news/2019/06/two", "https://b.com/a/q91zx/two"),
        ("https://b.com/news/2019/07/six", "https://b.com/a/77abc/six"),
    ))
    assert rules == []
    assert apply(rules, "https://b.com/news/2019/08/three") == []


def test_a_contradicting_pair_withdraws_the_rule() -> None:
    agreeing = [("https://c.com/old/one", "https://c.com/new/one"), ("https://c.com/old/two", "https://c.com/new/two"),
                ("https://c.com/old/four", "https://c.com/new/four")]
    assert len(learn(pairs(*agreeing))) == 1
    assert learn(pairs(*agreeing, ("https://c.com/old/five", "https://c.com/other/five"))) == []


def test_support_threshold_and_the_cited_pair_does_not_count() -> None:
    assert MIN_SUPPORT == 2
    one = [("https://d.com/x/one", "https://d.com/y/one")]
    assert learn(pairs(*one)) == []
    assert learn(pairs(*one, *one)) == []  # the same pair twice is one pair
    rules = learn(pairs(*one, ("https://d.com/x/two", "https://d.com/y/two")))
    assert [r.support for r in rules] == [2]
    # the cited URL's own pair is one of the two: only one other page supports it
    assert apply(rules, "https://d.com/x/one") == []
    (cand,) = apply(rules, "https://d.com/x/three")
    assert cand.evidence.startswith("2 other pages of d.com")


def test_a_renamed_slug_or_a_query_teaches_nothing() -> None:
    renamed = pairs(("https://e.com/a/one", "https://e.com/b/uno"), ("https://e.com/a/two", "https://e.com/b/dos"))
    assert learn(renamed) == []
    rules = learn(pairs(("https://e.com/a/one", "https://e.com/b/one"), ("https://e.com/a/two", "https://e.com/b/two")))
    assert apply(rules, "https://e.com/a/three?id=4") == []


def test_a_month_equal_to_its_day_is_read_as_the_month() -> None:
    rules = learn(pairs(
        ("https://a.org/blog/2019/05/05/one", "https://a.org/2019/05/one"),
        ("https://a.org/blog/2020/03/07/two", "https://a.org/2020/03/two"),
    ))
    assert [c.url for c in apply(rules, "https://a.org/blog/2016/07/09/three")] == ["https://a.org/2016/07/three"]
