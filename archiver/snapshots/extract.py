"""Text extraction for snapshots: the article of an HTML page, the text of a PDF.

:func:`extract` is pure (bytes in, an :class:`Extraction` out, no I/O) and never
raises for bad input. It is run in worker processes by :class:`~archiver.snapshots.pool.ExtractorPool`,
because trafilatura has no time limit of its own.

* **HTML**: trafilatura (metadata: title, author, date, site name, description;
  comments excluded, tables kept, Markdown output). Pages above ``max_html_bytes``
  or with more than ``max_html_elements`` tags are refused before parsing.
* **PDF**: pypdfium2, text page by page under ``## Page N`` markers, at most
  ``max_pdf_pages`` pages and ``max_pdf_bytes`` bytes.
* **Other text** (plain text, CSV, JSON, XML) is stored as text; **binaries**
  (images, video, audio, archives, office files) are recorded as not extractable.
* **Charsets**: decided by :mod:`archiver.snapshots.encoding` (byte-order mark, declared
  charsets the bytes do not contradict, then sniffing, as browsers do).
* **Thin** results (less than ``thin_chars`` characters, or a short text that reads
  like a paywall, cookie wall or JavaScript notice) are flagged ``thin``, never
  passed off as the article.
"""

from __future__ import annotations

import hashlib
import logging
import re
import time
import warnings
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

from .. import __version__
from .encoding import decode

if TYPE_CHECKING:
    from ..options import SnapshotOptions

ExtractKind = Literal["html", "pdf", "text", "binary", "empty", "failed"]

# --------------------------------------------------------------------------- options and result


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """Limits and switches of one extraction (picklable: sent to worker processes)."""

    max_html_bytes: int = 5 * 1024 * 1024
    max_html_elements: int = 40_000
    max_pdf_pages: int = 200
    max_pdf_bytes: int = 20 * 1024 * 1024
    max_text_chars: int = 2_000_000
    thin_chars: int = 500
    #: trafilatura settings (chosen by benchmarks/extract_quality.py)
    favor_precision: bool = True
    favor_recall: bool = False
    include_comments: bool = False
    include_tables: bool = True
    #: trafilatura without its fallback extractors (readability, jusText)
    fast: bool = False

    @classmethod
    def from_options(cls, options: SnapshotOptions) -> ExtractOptions:
        return cls(max_html_bytes=options.max_html_bytes, max_html_elements=options.max_html_elements,
                   max_pdf_pages=options.max_pdf_pages, max_pdf_bytes=options.max_pdf_bytes,
                   thin_chars=options.thin_chars)


@dataclass(frozen=True, slots=True)
class Extraction:
    """What could be read from one body. ``text`` is Markdown (HTML, PDF) or plain text."""

    kind: ExtractKind
    text: str = ""
    title: str | None = None
    author: str | None = None
    date: str | None = None  # the page's publication date, ISO YYYY-MM-DD
    sitename: str | None = None
    description: str | None = None
    #: too little text to be the cited page (JavaScript shell, paywall, cookie wall)
    thin: bool = False
    #: why the result is thin, failed, binary or empty (None for a good extraction)
    reason: str | None = None
    extractor: str = ""
    encoding: str | None = None
    pages: int | None = None  # PDF: pages in the document
    pages_extracted: int | None = None
    body_sha256: str = ""
    body_bytes: int = 0
    truncated: bool = False  # the body was cut at the download cap
    elapsed: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ok(self) -> bool:
        """Readable text that can stand for the page."""
        return self.kind in ("html", "pdf", "text") and not self.thin and bool(self.text.strip())


# --------------------------------------------------------------------------- content types

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TEXT_TYPES = frozenset({"application/json", "application/ld+json", "application/xml", "application/rss+xml",
                        "application/atom+xml", "application/javascript", "application/x-ndjson",
                        "application/csv", "application/x-yaml", "application/yaml"})
BINARY_PREFIXES = ("image/", "video/", "audio/", "font/", "model/")
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"\xff\xd8\xff", "a JPEG image"), (b"GIF8", "a GIF image"),
    (b"RIFF", "a RIFF media file"), (b"PK\x03\x04", "a ZIP archive (or office document)"),
    (b"\x1f\x8b", "a gzip archive"), (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"), (b"Rar!", "a RAR archive"),
    (b"\x00\x00\x00", "a binary file"), (b"ID3", "an MP3 file"), (b"OggS", "an Ogg media file"),
    (b"\x1aE\xdf\xa3", "a Matroska/WebM video"), (b"%!PS", "a PostScript file"),
    (b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"), (b"wOF", "a web font"),
)


def media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    value = content_type.split(";", 1)[0].strip().lower()
    return value or None


def _sniff_html(body: bytes) -> bool:
    start = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return start.startswith((b"<!doctype html", b"<html", b"<head", b"<title", b"<body", b"<meta")) \
        or b"<html" in start


def _magic(body: bytes) -> str | None:
    for prefix, what in _MAGIC:
        if body.startswith(prefix):
            return what
    if body[8:12] == b"ftyp":
        return "an MP4/QuickTime video"
    return None


def classify(body: bytes, content_type: str | None) -> tuple[ExtractKind, str | None]:
    """The kind of body (and, for binaries, what it is), from its bytes and declared type."""
    if not body.strip():
        return "empty", "the answer had no content"
    if b"%PDF-" in body[:1024]:
        return "pdf", None
    declared = media_type(content_type)
    magic = _magic(body)
    if declared in HTML_TYPES:
        return ("binary", f"declared {declared} but the body is {magic}") if magic else ("html", None)
    if declared == "application/pdf":
        return "binary", "declared application/pdf but the body is not a PDF"
    if declared and declared.startswith(BINARY_PREFIXES):
        return "binary", f"{declared} is not extractable text"
    if magic:
        return "binary", f"{magic} ({declared or 'no content type'}) is not extractable text"
    if declared and (declared.startswith("text/") or declared in TEXT_TYPES or declared.endswith(("+xml", "+json"))):
        if _sniff_html(body):
            return "html", None
        return "text", None
    if _sniff_html(body):
        return "html", None
    sample = body[:4096]
    if b"\x00" not in sample and _looks_textual(sample):
        return "text", None
    return "binary", f"{declared or 'an untyped body'} is not extractable text"


def _looks_textual(sample: bytes) -> bool:
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 12, 13))
    return controls <= len(sample) // 100


_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)


# --------------------------------------------------------------------------- thin pages

_STUB_PHRASES = re.compile(
    r"subscribe to (continue|keep) reading|subscribe to read|continue reading with a subscription"
    r"|(available|reserved) (exclusively )?(to|for) (our )?subscribers|already a subscriber|subscribers only"
    r"|(sign|log) in to (continue|read)|create a free account to (continue|read)|this content is for subscribers"
    r"|enable javascript|javascript is (disabled|required)|you need to enable javascript|turn on javascript"
    r"|before you continue|we and our partners use cookies|(accept|reject) all cookies|cookie (settings|preferences)"
    r"|please verify you are (a )?human|are you a robot",
    re.I)
STUB_CHARS = 1500  # below this, stub wording marks a page thin


_WIDE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]")


def text_size(text: str) -> int:
    """Characters of text without Markdown markup; a CJK character counts as two (it carries about a word)."""
    plain = re.sub(r"[#>*_|`\-\s]+", " ", text).strip()
    return len(plain) + len(_WIDE.findall(plain))


def thin_reason(text: str, thin_chars: int) -> str | None:
    """Why ``text`` cannot stand for the cited page, or None."""
    size = text_size(text)
    if not size:
        return "no article text found"
    if size < thin_chars:
        return f"only {size} characters of text (thin: fewer than {thin_chars})"
    if size < STUB_CHARS and (m := _STUB_PHRASES.search(text)):
        return f"a short text with paywall, cookie-wall or script wording ({m.group(0)!r})"
    return None


# --------------------------------------------------------------------------- HTML

_TAG_OPEN = re.compile(rb"<[A-Za-z]")
_NOISY_LOGGERS = ("trafilatura", "htmldate", "courlan", "justext", "charset_normalizer")


def _quiet_logs() -> None:
    """The extraction libraries log only what is critical (the loggers keep the level: no flag of our own)."""
    for name in _NOISY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level != logging.CRITICAL:
            logger.setLevel(logging.CRITICAL)


def _trafilatura() -> Any:
    with warnings.catch_warnings():  # urllib3's SOCKS notice, from trafilatura's downloader we do not use
        warnings.simplefilter("ignore")
        import trafilatura
    return trafilatura


def trafilatura_version() -> str:
    return f"trafilatura {_trafilatura().__version__}"


def _iso_day(value: str | None) -> str | None:
    if not value:
        return None
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    return m.group(0) if m else None


def extract_html(body: bytes, content_type: str | None, url: str | None, options: ExtractOptions) -> Extraction:
    if len(body) > options.max_html_bytes:
        return Extraction(kind="failed", reason=f"HTML of {len(body):,} bytes is over the {options.max_html_bytes:,} "
                                                "byte limit: not parsed")
    elements = sum(1 for _ in _TAG_OPEN.finditer(body))
    if elements > options.max_html_elements:
        return Extraction(kind="failed", reason=f"HTML with {elements:,} tags is over the "
                                                f"{options.max_html_elements:,} tag limit: not parsed")
    _quiet_logs()
    trafilatura = _trafilatura()
    text, encoding, how = decode(body, content_type, html=True)
    text = _XML_DECL.sub("", text, count=1)
    extractor = trafilatura_version()
    notes = [f"charset {encoding} ({how})"]
    tree = _parse(text)
    if tree is None:
        return Extraction(kind="html", thin=True, reason="the HTML could not be parsed", extractor=extractor,
                          encoding=encoding, notes=tuple(notes))
    if unlayouted := _unlayout_tables(tree):
        notes.append(f"{unlayouted} layout table(s) read as blocks")
    doc = trafilatura.bare_extraction(
        tree, url=url, with_metadata=True, include_comments=options.include_comments,
        include_tables=options.include_tables, include_formatting=True, include_links=False,
        include_images=False, favor_precision=options.favor_precision, favor_recall=options.favor_recall,
        fast=options.fast)
    if doc is None or isinstance(doc, dict):
        return Extraction(kind="html", thin=True, reason="no article text found", extractor=extractor,
                          encoding=encoding, notes=tuple(notes))
    markdown = _tidy_markdown(doc.text or "")
    reason = thin_reason(markdown, options.thin_chars)
    return Extraction(
        kind="html", text=markdown, title=_clean_meta(doc.title), author=_clean_meta(doc.author),
        date=_iso_day(doc.date), sitename=_clean_meta(doc.sitename), description=_clean_meta(doc.description),
        thin=reason is not None, reason=reason, extractor=extractor, encoding=encoding, notes=tuple(notes))


def _parse(text: str) -> Any:
    import lxml.html
    from lxml import etree

    if not text.strip():
        return None
    parser = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, remove_comments=True, remove_pis=True)
    try:
        return lxml.html.document_fromstring(text, parser=parser)
    except (etree.ParserError, etree.XMLSyntaxError, ValueError):
        return None


_LAYOUT_BLOCKS = "./p|./div|./ul|./ol|./h3|./h4|./h5|./h6|./table|./section|./blockquote"


def _is_layout_table(table: Any) -> bool:
    """A table used for page layout (old sites): it holds headings or cells of several blocks."""
    if table.xpath(".//h1|.//h2|.//article|.//main|.//form"):
        return True
    return any(len(cell.xpath(_LAYOUT_BLOCKS)) >= 2 for cell in table.iter("td", "th"))


def _unlayout_tables(tree: Any) -> int:
    """Turn layout tables into plain blocks, so their text is read as paragraphs, not as one table cell."""
    changed = 0
    for table in list(tree.iter("table")):
        if not _is_layout_table(table):
            continue
        changed += 1
        for el in [table, *table.iter("tbody", "thead", "tfoot", "tr", "td", "th", "caption")]:
            if el is table or _owner_table(el) is table:
                el.tag = "div"
                for attr in ("width", "valign", "cellpadding", "cellspacing", "colspan", "rowspan"):
                    el.attrib.pop(attr, None)
    return changed


def _owner_table(el: Any) -> Any:
    parent = el.getparent()
    while parent is not None and parent.tag != "table":
        parent = parent.getparent()
    return parent


def _clean_meta(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value[:500] or None


_TRAILING_WS = re.compile(r"[ \t]+\n")
_BLANK_RUNS = re.compile(r"\n{3,}")


def _tidy_markdown(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _TRAILING_WS.sub("\n", text)
    return _BLANK_RUNS.sub("\n\n", text).strip()


# --------------------------------------------------------------------------- PDF


def pdfium_version() -> str:
    import pypdfium2.version

    return f"pypdfium2 {pypdfium2.version.PYPDFIUM_INFO}"


def _pdf_date(value: str | None) -> str | None:
    if not value:
        return None
    m = re.match(r"(?:D:)?(\d{4})(\d{2})(\d{2})", value.strip())
    return f"{m.group(1)}-{m.group(2)}-{m.group(3)}" if m else None


def extract_pdf(body: bytes, options: ExtractOptions, *, truncated: bool = False) -> Extraction:
    import pypdfium2

    extractor = pdfium_version()
    if len(body) > options.max_pdf_bytes:
        return Extraction(kind="failed", reason=f"PDF of {len(body):,} bytes is over the {options.max_pdf_bytes:,} "
                                                "byte limit: not parsed", extractor=extractor)
    start = body.find(b"%PDF-")
    try:
        pdf = pypdfium2.PdfDocument(body[start:] if start > 0 else body)
    except pypdfium2.PdfiumError as exc:
        cut = " (the download was cut at the size limit)" if truncated else ""
        return Extraction(kind="failed", reason=f"the PDF could not be opened: {exc}{cut}", extractor=extractor)
    try:
        total = len(pdf)
        limit = min(total, options.max_pdf_pages)
        parts: list[str] = []
        for index in range(limit):
            page = pdf[index]
            try:
                textpage = page.get_textpage()
                try:
                    page_text = textpage.get_text_bounded()
                finally:
                    textpage.close()
            finally:
                page.close()
            page_text = _tidy_markdown(page_text.replace("\x00", ""))
            parts.append(f"## Page {index + 1}\n\n{page_text}" if page_text else f"## Page {index + 1}\n\n(no text)")
        meta = pdf.get_metadata_dict()
    finally:
        pdf.close()
    text = "\n\n".join(parts)
    notes: tuple[str, ...] = ()
    if limit < total:
        text += f"\n\n(text of pages {limit + 1}-{total} not extracted: page limit {options.max_pdf_pages})"
        notes = (f"first {limit} of {total} pages",)
    words = re.sub(r"## Page \d+|\(no text\)", " ", text)
    reason = thin_reason(words, options.thin_chars)
    if reason == "no article text found":
        reason = "the PDF has no text layer (a scan?)"
    return Extraction(kind="pdf", text=text, title=_clean_meta(meta.get("Title")),
                      author=_clean_meta(meta.get("Author")), date=_pdf_date(meta.get("CreationDate")),
                      thin=reason is not None, reason=reason, extractor=extractor, pages=total,
                      pages_extracted=limit, notes=notes)


# --------------------------------------------------------------------------- plain text


def extract_text(body: bytes, content_type: str | None, options: ExtractOptions) -> Extraction:
    text, encoding, how = decode(body, content_type, html=False)
    text = _tidy_markdown(text)
    notes = [f"charset {encoding} ({how})"]
    if len(text) > options.max_text_chars:
        text = text[: options.max_text_chars]
        notes.append(f"cut at {options.max_text_chars:,} characters")
    reason = thin_reason(text, options.thin_chars)
    return Extraction(kind="text", text=text, thin=reason is not None, reason=reason,
                      extractor=f"archiver {__version__} (text)", encoding=encoding, notes=tuple(notes))


# --------------------------------------------------------------------------- entry point


def extract(body: bytes, content_type: str | None, url: str | None = None, *,
            options: ExtractOptions | None = None, truncated: bool = False) -> Extraction:
    """Extract the readable text of one body. Never raises for bad input."""
    options = options or ExtractOptions()
    started = time.perf_counter()
    kind, why = classify(body, content_type)
    try:
        if kind == "html":
            result = extract_html(body, content_type, url, options)
        elif kind == "pdf":
            result = extract_pdf(body, options, truncated=truncated)
        elif kind == "text":
            result = extract_text(body, content_type, options)
        else:
            result = Extraction(kind=kind, reason=why, thin=kind == "empty")
    except (MemoryError, RecursionError) as exc:
        result = Extraction(kind="failed", reason=f"extraction ran out of resources ({type(exc).__name__})")
    except Exception as exc:  # a parser bug on one page must not stop a run
        result = Extraction(kind="failed", reason=f"extraction failed: {type(exc).__name__}: {exc}")
    return replace(result, body_sha256=hashlib.sha256(body).hexdigest(), body_bytes=len(body), truncated=truncated,
                   elapsed=round(time.perf_counter() - started, 4))


def failed(reason: str, body: bytes | None = None, *, truncated: bool = False) -> Extraction:
    """An :class:`Extraction` for a body that could not be extracted at all (timeout, crash)."""
    digest = hashlib.sha256(body).hexdigest() if body is not None else ""
    return Extraction(kind="failed", reason=reason, body_sha256=digest, body_bytes=len(body or b""),
                      truncated=truncated)
