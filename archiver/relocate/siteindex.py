"""Method 3's reading of a site: its sitemaps and feeds, fetched through the injected fetch, cached across runs.

For an origin: ``robots.txt``'s ``Sitemap:`` lines (``/sitemap.xml`` when it has none), sitemap indexes and
their children breadth first (at most ``Limits.max_sitemaps`` documents), then the feeds the home page names
(else the first of :data:`~archiver.relocate.feeds.COMMON_FEED_PATHS` that is a feed). Each sitemap or feed
is kept in one JSON file with its ETag and Last-Modified: the next run asks with If-None-Match and
If-Modified-Since and, on 304, reuses the entries parsed before. A document that cannot be read (too large, a
gzip bomb, a DOCTYPE, not XML, an error status) gives no entries and a line in :attr:`SiteIndex.problems`.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import orjson
from lxml import etree

from archiver.relocate.feeds import COMMON_FEED_PATHS, feed_links, parse_feed
from archiver.relocate.sitemaps import (
    Document,
    Entry,
    Fetch,
    Fetched,
    Limits,
    Refused,
    inflate,
    parse_sitemap,
    parse_xml,
)
from archiver.support.atomic import write_bytes

#: the cache file's format (another one is read as empty)
CACHE_VERSION = 1
#: a document no run asked for in this many days is dropped from the cache when it is saved (sites leave the
#: timeline, sitemaps are renamed: the file must not grow for ever)
CACHE_KEEP_DAYS = 90

Parse = Callable[[etree._Element, str], Document]


def header(headers: Mapping[str, str], name: str) -> str | None:
    """A response header by name, whatever its case."""
    name = name.lower()
    return next((v for k, v in headers.items() if k.lower() == name), None)


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of an address."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class SiteIndex:
    """The entries of a site's sitemaps and feeds, read through ``fetch`` and cached in ``cache_path``."""

    def __init__(self, cache_path: Path, fetch: Fetch, limits: Limits | None = None) -> None:
        self.cache_path = cache_path
        self.fetch = fetch
        self.limits = limits or Limits()
        #: what could not be read, one line each ("<url>: <why>"), for the stage's log
        self.problems: list[str] = []
        self._cache: dict[str, dict[str, Any]] = self._load()
        #: the documents asked for in this run (each is fetched at most once a run)
        self._asked: dict[str, Document | None] = {}
        self._dirty = False

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = orjson.loads(self.cache_path.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            return {}
        if not isinstance(data, dict) or data.get("version") != CACHE_VERSION:
            return {}
        documents = data.get("documents")
        return documents if isinstance(documents, dict) else {}

    def save(self) -> None:
        """Write the cache (atomically) if this run changed it, documents not asked for in
        :data:`CACHE_KEEP_DAYS` dropped."""
        oldest = (datetime.now(UTC).date() - timedelta(days=CACHE_KEEP_DAYS)).isoformat()
        stale = [url for url, doc in self._cache.items() if str(doc.get("asked", "")) < oldest]
        for url in stale:
            del self._cache[url]
        if self._dirty or stale:
            write_bytes(self.cache_path, orjson.dumps({"version": CACHE_VERSION, "documents": self._cache}))
            self._dirty = False

    async def entries(self, origin: str) -> list[Entry]:
        """The pages ``origin``'s sitemaps, then its feeds, list (each address once, at most
        ``limits.max_entries``); the cache is saved before returning."""
        origin = origin_of(origin)
        try:
            found = await self._sitemap_entries(await self._sitemap_roots(origin))
            found += await self._feed_entries(origin)
        finally:
            self.save()
        unique: dict[str, Entry] = {}
        for entry in found:
            unique.setdefault(entry.url, entry)
        return list(unique.values())[: self.limits.max_entries]

    async def _get(self, url: str, headers: Mapping[str, str]) -> Fetched | None:
        try:
            return await self.fetch(url, headers)
        except Exception as exc:  # the injected fetch's own errors: a document not read, never the stage failing
            self.problems.append(f"{url}: {type(exc).__name__}: {exc}")
            return None

    async def _page(self, url: str) -> bytes | None:
        """The body of a small page read every time (robots.txt, the home page), or None."""
        got = await self._get(url, {})
        if got is None or got.status != 200 or len(got.body) > self.limits.max_document:
            return None
        return got.body

    async def _sitemap_roots(self, origin: str) -> list[str]:
        body = await self._page(origin + "/robots.txt")
        roots: list[str] = []
        for line in (body or b"").decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip().lower() == "sitemap" and value.strip():
                url = urljoin(origin + "/", value.strip())
                if url.startswith(("http://", "https://")) and url not in roots:
                    roots.append(url)
        return roots or [origin + "/sitemap.xml"]

    async def _sitemap_entries(self, roots: list[str]) -> list[Entry]:
        """The entries of the sitemaps, indexes followed breadth first, at most ``limits.max_sitemaps`` read."""
        queue, seen, found = deque(roots), set[str](), list[Entry]()
        while queue and len(seen) < self.limits.max_sitemaps and len(found) < self.limits.max_entries:
            url = queue.popleft()
            if url in seen:
                continue
            seen.add(url)
            doc = await self.document(url, parse_sitemap)
            if doc is not None:
                found += doc.entries
                queue.extend(doc.children)
        left = [u for u in dict.fromkeys(queue) if u not in seen]
        if left:
            self.problems.append(f"{len(left)} sitemaps not read: the limit is {self.limits.max_sitemaps} a host")
        return found

    async def _feed_entries(self, origin: str) -> list[Entry]:
        """The entries of the feeds the home page names, else of the first common feed path that is a feed."""
        home = await self._page(origin + "/")
        named = feed_links(home, origin + "/", self.limits.max_feeds) if home else []
        found: list[Entry] = []
        for url in named or [origin + path for path in COMMON_FEED_PATHS[: self.limits.max_feeds]]:
            doc = await self.document(url, parse_feed)
            if doc is not None:
                found += doc.entries
                if not named:
                    break
        return found

    async def document(self, url: str, parse: Parse) -> Document | None:
        """A sitemap or feed, parsed, or None; asked with the cached validators, reused on 304."""
        if url in self._asked:
            return self._asked[url]
        cached = self._cache.get(url)
        got = await self._get(url, self._validators(cached))
        doc: Document | None = None
        if got is not None and got.status == 304 and cached is not None:
            doc = _from_cache(cached)
        elif got is not None and got.status == 200:
            doc = self._parse(url, got, parse)
        elif got is not None:
            self.problems.append(f"{url}: HTTP {got.status}")
            self._forget(url)
        elif cached is not None:
            doc = _from_cache(cached)  # the fetch failed: last run's entries still name candidates to verify
        self._asked[url] = doc
        if url in self._cache and self._cache[url].get("asked") != _today():
            self._cache[url]["asked"] = _today()
            self._dirty = True
        return doc

    @staticmethod
    def _validators(cached: Mapping[str, Any] | None) -> dict[str, str]:
        headers: dict[str, str] = {}
        if cached and cached.get("etag"):
            headers["If-None-Match"] = str(cached["etag"])
        if cached and cached.get("last_modified"):
            headers["If-Modified-Since"] = str(cached["last_modified"])
        return headers

    def _parse(self, url: str, got: Fetched, parse: Parse) -> Document | None:
        try:
            doc = parse(parse_xml(inflate(got.body, self.limits)), url)
        except Refused as exc:
            self.problems.append(f"{url}: {exc}")
            self._forget(url)
            return None
        del doc.entries[self.limits.max_entries:]
        self._cache[url] = {"etag": header(got.headers, "etag"), "last_modified": header(got.headers, "last-modified"),
                            "kind": doc.kind, "entries": [e.to_json() for e in doc.entries],
                            "children": doc.children}
        self._dirty = True
        return doc

    def _forget(self, url: str) -> None:
        if self._cache.pop(url, None) is not None:
            self._dirty = True


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


def _from_cache(cached: Mapping[str, Any]) -> Document | None:
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return Document(str(cached["kind"]), [Entry.from_json(e) for e in cached["entries"]],
                        [str(c) for c in cached["children"]])
    return None
