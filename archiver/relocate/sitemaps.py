"""Method 3's documents: sitemaps, sitemap indexes, news sitemaps and RSS/Atom feeds, read into entries.

Parsing is lxml's (already here through trafilatura) with a parser that cannot be turned against us: no network,
no entity resolution, no DTD loaded, huge_tree off; a document that declares a DOCTYPE is refused outright (no
sitemap or feed needs one). Gzipped documents are inflated to at most ``Limits.max_inflated`` bytes. The fetching,
the cache and the discovery of the documents are :mod:`archiver.relocate.siteindex`'s; the matching is
:mod:`archiver.relocate.sitematch`'s.
"""

from __future__ import annotations

import zlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from archiver.relocate.candidate import Method


@dataclass(frozen=True, slots=True)
class Fetched:
    """An answer of the injected fetch: the status, the headers (any case) and the body (transfer-decoded)."""

    status: int
    headers: Mapping[str, str]
    body: bytes


#: the fetch the stage injects (routed through the checker's politeness): GET ``url`` with these request headers
Fetch = Callable[[str, Mapping[str, str]], Awaitable[Fetched]]

#: a document's size as delivered (a .xml.gz file counts compressed): larger ones are refused
MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
#: a gzipped document's size once inflated: a larger one (a gzip bomb) is refused
MAX_INFLATED_BYTES = 50 * 1024 * 1024
#: sitemap documents read per host, the robots.txt ones and their children together
MAX_SITEMAPS = 20
#: feeds read per host (those the home page names, else the first of the common paths that is one)
MAX_FEEDS = 3
#: entries kept per host (a news site's sitemaps can list millions of pages: the first ones are the newest)
MAX_ENTRIES = 50_000


@dataclass(frozen=True, slots=True)
class Limits:
    """What one host may cost: document sizes, sitemap and feed documents, entries kept."""

    max_document: int = MAX_DOCUMENT_BYTES
    max_inflated: int = MAX_INFLATED_BYTES
    max_sitemaps: int = MAX_SITEMAPS
    max_feeds: int = MAX_FEEDS
    max_entries: int = MAX_ENTRIES


@dataclass(frozen=True, slots=True)
class Entry:
    """A page a sitemap or feed lists: its address, the title and date given for it, and where it was listed."""

    url: str
    source: Method
    #: the sitemap or feed that lists it
    document: str
    title: str | None = None
    published: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "source": self.source.value, "document": self.document, "title": self.title,
                "published": self.published}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Entry:
        return cls(str(data["url"]), Method(data["source"]), str(data["document"]), data.get("title"),
                   data.get("published"))


@dataclass(slots=True)
class Document:
    """A parsed document: its kind (urlset, sitemapindex, feed), its entries, and the child sitemaps it names."""

    kind: str
    entries: list[Entry] = field(default_factory=list)
    children: list[str] = field(default_factory=list)


class Refused(ValueError):
    """A document not read: too large, a gzip bomb, a DOCTYPE, not XML."""


def inflate(body: bytes, limits: Limits) -> bytes:
    """``body``, inflated when gzipped (by its magic bytes), never past ``limits.max_inflated``."""
    if len(body) > limits.max_document:
        raise Refused(f"{len(body)} bytes, over the {limits.max_document}-byte limit")
    if not body.startswith(b"\x1f\x8b"):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        out = inflater.decompress(body, limits.max_inflated + 1)
    except zlib.error as exc:
        raise Refused(f"broken gzip: {exc}") from exc
    if len(out) > limits.max_inflated or inflater.unconsumed_tail:
        raise Refused(f"inflates past the {limits.max_inflated}-byte limit")
    return out


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_comments=True, remove_pis=True)


def parse_xml(body: bytes) -> etree._Element:
    """The root of a sitemap or feed; :class:`Refused` for a DOCTYPE (and so any entity) or broken XML."""
    try:
        tree = etree.ElementTree(etree.fromstring(body, _parser()))
    except (etree.XMLSyntaxError, ValueError) as exc:
        raise Refused(f"not XML: {exc}") from exc
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        raise Refused("declares a DOCTYPE (no sitemap or feed needs one: entities are not expanded)")
    return tree.getroot()


def local(el: etree._Element) -> str:
    """An element's name without its namespace ('' for comments and the like)."""
    return etree.QName(el).localname if isinstance(el.tag, str) else ""


def child_text(el: etree._Element, name: str) -> str | None:
    """The stripped text of ``el``'s first child named ``name`` (any namespace), or None."""
    for child in el:
        if local(child) == name:
            text = "".join(child.itertext()).strip()
            return text or None
    return None


def _http(url: str | None) -> str | None:
    return url if url and url.lower().startswith(("http://", "https://")) else None


def _url_entry(el: etree._Element, document: str) -> Entry | None:
    """A ``<url>`` of a urlset, with its news:title and news:publication_date when it has them."""
    url = _http(child_text(el, "loc"))
    if url is None:
        return None
    title, published = None, child_text(el, "lastmod")
    for child in el:
        if local(child) == "news":
            title = child_text(child, "title")
            published = child_text(child, "publication_date") or published
    return Entry(url, Method.SITEMAP, document, title, published)


def parse_sitemap(root: etree._Element, document: str) -> Document:
    """A urlset's entries or a sitemap index's children."""
    kind = local(root)
    if kind == "sitemapindex":
        children = [u for el in root if local(el) == "sitemap" and (u := _http(child_text(el, "loc")))]
        return Document(kind, children=children)
    if kind != "urlset":
        raise Refused(f"not a sitemap: <{kind}>")
    entries = [e for el in root if local(el) == "url" and (e := _url_entry(el, document))]
    return Document(kind, entries=entries)
