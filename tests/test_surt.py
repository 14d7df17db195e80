"""The CDXJ key (archiver/support/surt.py) is the canonical SURT of the ``surt`` package (0.3.1),
the one pywb and py-wacz compute when they look a URL up in an index."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from archiver.snapshots.warc import surt as warc_surt
from archiver.support.surt import surt
from archiver.timeline.catalog import build_catalog
from archiver.timeline.load import load_events

with warnings.catch_warnings():  # the surt package's regexes are not raw strings (a SyntaxWarning when compiled)
    warnings.simplefilter("ignore")
    import surt as reference

#: the differences the issue found between our old keys and pywb's, and the other rules of the key
TRICKY = {
    "https://www.Example.com/Path/To/Page/": "com,example)/path/to/page",  # trailing /, www., case
    "https://abcnews.go.com/US/live-updates/trump-fraud-trial/?id=103642561":
        "com,go,abcnews)/us/live-updates/trump-fraud-trial?id=103642561",  # trailing / before a query
    "http://example.com//double//slash/": "com,example)/double/slash",  # //
    "https://example.com/search?q=a%3db&B=2&a=1": "com,example)/search?a=1&b=2&q=a=b",  # %3d, order, case
    "HTTPS://WWW2.EXAMPLE.COM:443/A?z=1&y=2#frag": "com,example)/a?y=2&z=1",  # default port, www2., fragment
    "http://example.com:8080/x/?b=2&a=1": "com,example:8080)/x?a=1&b=2",  # another port
    "http://example.com:80/": "com,example)/",
    "http://example.com": "com,example)/",
    "https://user:pw@example.com/p": "com,example)/p",
    "http://example.com/a/./b/../c": "com,example)/a/c",
    "http://example.com/%7Euser/%2541": "com,example)/~user/a",
    "http://3232235777/": "1,1,168,192)/",
    "http://[::1]:8080/a": "::1:8080)/a",
    "https://bücher.example/Straße": "example,xn--bcher-kva)/stra%c3%9fe",
    "http://example.com/?": "com,example)/",
    "http://example.com/p?jsessionid=0123456789abcdef0123456789abcdef&x=1": "com,example)/p?x=1",
    "https://example.com/a b": "com,example)/a%20b",
    "https://www.c-span.org/video/?469080-1/senate-acquits": "org,c-span)/video?469080-1/senate-acquits",
}


@pytest.mark.parametrize("url", sorted(TRICKY))
def test_the_key_is_the_surt_package_s(url: str) -> None:
    assert surt(url) == reference.surt(url) == TRICKY[url]


def test_the_warc_index_uses_the_canonical_key() -> None:
    assert warc_surt is surt


@pytest.mark.corpus
def test_every_corpus_url_has_the_surt_package_s_key(corpus: Path) -> None:
    urls = sorted({link.url for link in build_catalog(load_events(corpus).events).links})
    assert len(urls) > 7000
    differ = [(u, surt(u), reference.surt(u)) for u in urls if surt(u) != reference.surt(u)]
    assert differ == []
