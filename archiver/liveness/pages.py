"""The page model the liveness rules read: charset, ``<title>``, first ``<h1>``, meta refresh and
the visible text of an HTML answer, and the word-level similarity the soft-404 probe uses."""

from __future__ import annotations

import codecs
import html
import re
from dataclasses import dataclass
from difflib import SequenceMatcher
from urllib.parse import urlsplit

import lxml.html
from lxml import etree

HEAD_BYTES = 256 * 1024  # title, h1 and charset are looked for here
TEXT_BYTES = 1024 * 1024  # visible text for similarity is taken from here
MAX_WORDS = 3000
MIN_COMPARE_WORDS = 20  # fewer words than this: similarity alone proves nothing (JavaScript shells)

# --------------------------------------------------------------------------- page text


@dataclass(slots=True)
class PageInfo:
    is_html: bool
    title: str = ""
    h1: str = ""
    encoding: str = "utf-8"
    #: the first bytes decoded, for challenge markers
    head: str = ""


_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([a-zA-Z0-9_.:-]+)""", re.I)
_TITLE_RE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.I | re.S)
_H1_RE = re.compile(rb"<h1\b[^>]*>(.*?)</h1\s*>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]*>")
WS_RE = re.compile(r"\s+")
WORD_RE = re.compile(r"\w+", re.UNICODE)


def _valid_codec(name: str | None) -> str | None:
    if not name:
        return None
    try:
        return codecs.lookup(name.strip().strip("\"'")).name
    except (LookupError, ValueError):
        return None


def sniff_encoding(body: bytes, content_type_header: str | None) -> str:
    """Charset from the Content-Type header, a ``<meta>`` tag, a BOM, valid UTF-8, else windows-1252."""
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8"
    if content_type_header:
        header = re.search(r"charset\s*=\s*([^;\s]+)", content_type_header, re.I)
        if header and (name := _valid_codec(header.group(1))):
            return name
    meta = _CHARSET_RE.search(body[:8192])
    if meta and (name := _valid_codec(meta.group(1).decode("ascii", "replace"))):
        return name
    try:
        body[:HEAD_BYTES].decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as exc:
        if exc.start > HEAD_BYTES - 4:  # a character cut by the slice
            return "utf-8"
    return "cp1252"


def _clean(fragment: bytes, encoding: str) -> str:
    text = fragment.decode(encoding, "replace")
    text = html.unescape(_TAG_RE.sub(" ", text))
    return WS_RE.sub(" ", text).strip()


_META_REFRESH_TAG = re.compile(rb"<meta\b[^>]*http-equiv\s*=\s*[\"']?refresh[^>]*>", re.I)
_REFRESH_CONTENT = re.compile(
    r"""content\s*=\s*(["']?)\s*(\d+(?:\.\d*)?)\s*[;,]\s*(?:url\s*=\s*)?['"]?([^'">\s]+)""", re.I)
MAX_REFRESH_DELAY = 10.0


def meta_refresh(body: bytes, encoding: str = "utf-8") -> str | None:
    """The target of a ``<meta http-equiv="refresh" content="N; url=...">`` with a short delay, else None."""
    m = _META_REFRESH_TAG.search(body[:32768])
    if not m:
        return None
    tag = html.unescape(m.group(0).decode(encoding, "replace"))
    c = _REFRESH_CONTENT.search(tag)
    if not c or float(c.group(2)) > MAX_REFRESH_DELAY:
        return None
    return c.group(3).strip() or None


def looks_like_html(body: bytes, content_type: str | None) -> bool:
    if content_type:
        return "html" in content_type
    start = body[:1024].lstrip().lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<title")) or b"<html" in start


def page_info(body: bytes, content_type_header: str | None) -> PageInfo:
    """Title, first h1 and encoding, found cheaply with regular expressions in the first 256 KB."""
    ctype = content_type_header.split(";", 1)[0].strip().lower() if content_type_header else None
    is_html = looks_like_html(body, ctype)
    encoding = sniff_encoding(body, content_type_header)
    head_bytes = body[:HEAD_BYTES]
    info = PageInfo(is_html=is_html, encoding=encoding, head=head_bytes[:32768].decode(encoding, "replace"))
    if not is_html:
        return info
    if m := _TITLE_RE.search(head_bytes):
        info.title = _clean(m.group(1), encoding)[:500]
    if m := _H1_RE.search(head_bytes):
        info.h1 = _clean(m.group(1), encoding)[:500]
    return info


_DROP_XPATH = ("//script|//style|//noscript|//template|//svg|//nav|//header|//footer|//aside|//form|//iframe"
               "|//*[@role='navigation']|//*[@aria-hidden='true']")


def visible_text(body: bytes, encoding: str) -> str:
    """The page's visible text without scripts, navigation, headers and footers."""
    data = body[:TEXT_BYTES]
    if not data.strip():
        return ""
    try:
        parser = lxml.html.HTMLParser(encoding=encoding, remove_comments=True, remove_pis=True)
        doc = lxml.html.document_fromstring(data, parser=parser)
        for el in doc.xpath(_DROP_XPATH):
            if el.getparent() is not None:
                el.drop_tree()
        text = doc.text_content()
    except (etree.ParserError, etree.XMLSyntaxError, ValueError, LookupError):
        text = _TAG_RE.sub(" ", data.decode(encoding, "replace"))
    return WS_RE.sub(" ", text).strip()


def words(text: str, drop: frozenset[str] = frozenset()) -> list[str]:
    out = [w for w in WORD_RE.findall(text.lower()) if w not in drop]
    return out[:MAX_WORDS]


def similarity(a: list[str], b: list[str]) -> float:
    """Sequence similarity of two word lists (1.0 = identical); cheap upper bounds first."""
    if not a and not b:
        return 1.0
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    if matcher.real_quick_ratio() < 0.5:
        return matcher.real_quick_ratio()
    if matcher.quick_ratio() < 0.5:
        return matcher.quick_ratio()
    return matcher.ratio()


def url_words(*urls: str) -> frozenset[str]:
    """Words of URL paths and queries: templates echo the requested path, so these are not compared."""
    out: set[str] = set()
    for url in urls:
        try:
            parts = urlsplit(url)
        except ValueError:
            continue
        out.update(WORD_RE.findall(f"{parts.path} {parts.query}".lower()))
    return frozenset(out)

# --------------------------------------------------------------------------- titles and phrases

#: what separates a page title from the site name ("Page not found | Site")
TITLE_SEPARATORS = re.compile(r"\s+[|\-–—·•»]\s+|\s*::\s*|\s+[|]\s*|\s*[|]\s+")
_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "\u00a0": " "})


def norm_phrase(text: str) -> str:
    """A title or heading reduced to its words: quotes, spaces and surrounding punctuation folded."""
    text = WS_RE.sub(" ", text.translate(_QUOTES)).strip()
    text = re.sub(r"!+1+$", "", text)  # "Error 404 (Not Found)!!1"
    return text.strip(" .!?¡¿…*\"'()[]{}<>#:;,~-–—|")

