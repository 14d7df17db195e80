"""Method 3's feeds: the RSS and Atom feeds a home page names, and their items read into entries.

The home page is read with lxml's HTML parser (no network); the feeds with the same safe XML parser as the
sitemaps (:func:`archiver.relocate.sitemaps.parse_xml`). RSS 2.0, RSS 1.0 (RDF) and Atom are read alike: an
item's link, title and date.
"""

from __future__ import annotations

from urllib.parse import urljoin

from lxml import etree

from archiver.relocate.candidate import Method
from archiver.relocate.sitemaps import Document, Entry, Refused, child_text, local

#: where a site's feed usually is when its home page names none (tried in this order, the first feed kept)
COMMON_FEED_PATHS = ("/feed", "/rss.xml", "/atom.xml")
#: the link types of a feed
FEED_TYPES = frozenset({"application/rss+xml", "application/atom+xml"})


def feed_links(html: bytes, base: str, limit: int) -> list[str]:
    """The feeds a page names (``<link rel="alternate" type="application/rss+xml" href>``), at most ``limit``."""
    parser = etree.HTMLParser(no_network=True, remove_comments=True, huge_tree=False)
    try:
        root: etree._Element | None = etree.fromstring(html, parser)  # None for a blank page
    except (etree.XMLSyntaxError, ValueError):
        return []
    if root is None:
        return []
    found: list[str] = []
    for link in root.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        kind = (link.get("type") or "").lower().split(";")[0].strip()
        href = (link.get("href") or "").strip()
        if "alternate" in rel and kind in FEED_TYPES and href:
            url = urljoin(base, href)
            if url.startswith(("http://", "https://")) and url not in found:
                found.append(url)
    return found[:limit]


def _atom_link(entry: etree._Element) -> str | None:
    for child in entry:
        if local(child) == "link" and (child.get("rel") or "alternate") == "alternate" and child.get("href"):
            return str(child.get("href"))
    return None


def _item(el: etree._Element, document: str) -> Entry | None:
    """An RSS item's or Atom entry's link, title and date."""
    if local(el) == "entry":
        url = _atom_link(el)
        published = child_text(el, "published") or child_text(el, "updated")
    else:
        url = child_text(el, "link") or el.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
        published = child_text(el, "pubDate") or child_text(el, "date")
    if not url:
        return None
    url = urljoin(document, url.strip())
    if not url.startswith(("http://", "https://")):
        return None
    return Entry(url, Method.FEED, document, child_text(el, "title"), published)


def parse_feed(root: etree._Element, document: str) -> Document:
    """The items of an RSS (2.0 or 1.0) or Atom feed."""
    kind = local(root)
    if kind not in ("rss", "RDF", "feed"):
        raise Refused(f"not a feed: <{kind}>")
    items = (el for el in root.iter() if local(el) in ("item", "entry"))
    return Document("feed", entries=[e for el in items if (e := _item(el, document))])
