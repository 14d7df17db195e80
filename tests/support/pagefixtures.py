"""The fixture pages of tests/fixtures/pages (realistic pages with known article text),
and edits of them for drift tests: cosmetic changes and real edits, made in the HTML.

Used by the tests and by benchmarks/extract_quality.py and extract_speed.py.
"""

from __future__ import annotations

import html
import json
import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"


@dataclass(frozen=True)
class Page:
    name: str
    body: bytes
    url: str
    content_type: str
    kind: str  # "article" or "thin"
    article: str | None  # the known article text (headline, then paragraphs, one per line)
    boilerplate: tuple[str, ...]
    title: str | None = None
    author: str | None = None
    date: str | None = None
    sitename: str | None = None
    probe: tuple[str, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def encoding(self) -> str:
        charset = str(self.extra.get("charset") or "utf-8").split()[0]
        return {"windows-1252": "cp1252", "shift_jis": "cp932"}.get(charset, charset)

    @property
    def paragraphs(self) -> list[str]:
        return (self.article or "").splitlines()[1:]


@cache
def load_pages() -> tuple[Page, ...]:
    out = []
    for e in json.loads((PAGES / "manifest.json").read_text("utf-8")):
        article = (PAGES / e["article"]).read_text("utf-8") if e.get("article") else None
        known = {"name", "file", "url", "content_type", "kind", "article", "boilerplate", "title", "author", "date",
                 "sitename", "probe"}
        out.append(Page(name=e["name"], body=(PAGES / e["file"]).read_bytes(), url=e["url"],
                        content_type=e["content_type"], kind=e["kind"], article=article,
                        boilerplate=tuple(e["boilerplate"]), title=e.get("title"), author=e.get("author"),
                        date=e.get("date"), sitename=e.get("sitename"), probe=tuple(e.get("probe", ())),
                        extra={k: v for k, v in e.items() if k not in known}))
    return tuple(out)


def page(name: str) -> Page:
    for p in load_pages():
        if p.name == name:
            return p
    raise KeyError(name)


def articles() -> list[Page]:
    return [p for p in load_pages() if p.kind == "article"]


# --------------------------------------------------------------------------- edits


def _edit(p: Page, change: Callable[[str], str]) -> bytes:
    text = p.body.decode(p.encoding)
    changed = change(text)
    assert changed != text, f"edit did not apply to {p.name}"
    return changed.encode(p.encoding, "xmlcharrefreplace")


def body_paragraphs(p: Page) -> list[str]:
    """The article's paragraphs, without headings and list items."""
    return [x for x in p.paragraphs if not x.startswith("- ") and len(x) > 60 and " | " not in x]


def _para_html(p: Page, index: int) -> str:
    """The HTML of one article paragraph."""
    paras = body_paragraphs(p)
    text = html.escape(paras[index % len(paras)])
    if text not in p.body.decode(p.encoding):
        raise AssertionError(f"paragraph {index} not found in {p.name}")
    return text


def _after_body(p: Page, text: str, block: str) -> str:
    """Insert ``block`` right after the last article paragraph."""
    last = html.escape(p.paragraphs[-1].removeprefix("- "))
    i = text.rindex(last)
    end = text.index("</", i + len(last))
    end = text.index(">", end) + 1
    return text[:end] + block + text[end:]


CORRECTION = ("Correction: An earlier version of this article misstated when the decision takes effect. "
              "It takes effect next month, not next year.")
REWRITE = ("In a statement issued after this story was first published, officials disputed several of the figures "
           "above and said that a full accounting would be released later this year, once outside auditors have "
           "finished an internal review of the records involved.")


def cosmetic_dates(p: Page) -> bytes:
    """Timestamps in the page chrome change (a page re-rendered the next day)."""
    def change(text: str) -> str:
        text = re.sub(r"(<time\b[^>]*>)[^<]*(</time>)", r"\1Updated 3 hours ago\2", text)
        text = re.sub(r"(Updated:?\s*)\d{1,2}:\d{2}", r"\g<1>11:58", text)
        return text.replace("</body>", "<div class='clock'>Last refreshed 06:41 UTC</div></body>")
    return _edit(p, change)


def cosmetic_ads(p: Page) -> bytes:
    """Rotating ads and related links: different sponsored blocks between paragraphs and new related links."""
    def change(text: str) -> str:
        para = _para_html(p, 1)
        ad = ("<div class='ad-slot'><span class='ad-label'>Advertisement</span>"
              "<a href='https://ads.example/c?1'>Sponsored: Lower your energy bill today</a></div>")
        text = text.replace(para, para + "</p>" + ad + "<p>", 1) if "<p>" + para in text else text
        related = ("<aside class='related'><h2>Related</h2><ul><li><a href='/r1'>Storm closes schools across the "
                   "region for a second day</a></li><li><a href='/r2'>Ferry service resumes after repairs</a></li>"
                   "</ul></aside>")
        return text.replace("</body>", related + "</body>")
    return _edit(p, change)


def cosmetic_whitespace(p: Page) -> bytes:
    """The markup is re-indented and re-wrapped; no visible text changes."""
    return _edit(p, lambda text: re.sub(r">\s*<", ">\n    <", text).replace(". ", ".  ", 3))


def small_typo(p: Page) -> bytes:
    """One word of the article corrected (a typo fix)."""
    def change(text: str) -> str:
        para = _para_html(p, 2)
        words = para.split(" ")
        i = len(words) // 2
        words[i] = words[i] + "s" if not words[i].endswith("s") else words[i][:-1]
        return text.replace(para, " ".join(words), 1)
    return _edit(p, change)


def real_rewrite(p: Page) -> bytes:
    """One paragraph of the article rewritten."""
    return _edit(p, lambda text: text.replace(_para_html(p, 2), html.escape(REWRITE), 1))


def real_correction(p: Page) -> bytes:
    """A correction appended to the article."""
    return _edit(p, lambda text: _after_body(p, text, f"<p><em>{html.escape(CORRECTION)}</em></p>"))


def real_gutted(p: Page) -> bytes:
    """Most of the article removed (a page cut down to a summary)."""
    def change(text: str) -> str:
        for para in body_paragraphs(p)[2:]:
            text = text.replace(html.escape(para), "", 1)
        return text
    return _edit(p, change)


def real_replaced(p: Page, other: Page) -> bytes:
    """The address now serves another article in the same template."""
    def change(text: str) -> str:
        mine, theirs = body_paragraphs(p), body_paragraphs(other)
        for i, para in enumerate(mine):
            text = text.replace(html.escape(para), html.escape(theirs[i % len(theirs)]), 1)
        return text
    return _edit(p, change)


COSMETIC: dict[str, Callable[[Page], bytes]] = {
    "dates": cosmetic_dates, "ads_related": cosmetic_ads, "whitespace": cosmetic_whitespace, "typo": small_typo}
REAL: dict[str, Callable[[Page], bytes]] = {
    "rewrite": real_rewrite, "correction": real_correction, "gutted": real_gutted}


# --------------------------------------------------------------------------- real-size pages


def inflate(p: Page, seed: int) -> bytes:
    """The page with the bulk of a real news page around the same article."""
    rnd = random.Random(seed)
    text = p.body.decode(p.encoding)
    menu = "".join(f"<li><a href='/section/{i}/topic-{rnd.randint(1, 10**6)}'>Section {i} topic</a></li>"
                   for i in range(600))
    footer = "".join(f"<li><a href='/about/{i}'>Footer link {i}</a></li>" for i in range(200))
    state = json.dumps({"articles": [{"id": rnd.randint(1, 10**9), "headline": f"Story {i}", "teaser": "x" * 120,
                                      "tags": [f"tag{j}" for j in range(10)]} for i in range(300)]})
    cards = "".join(f"<div class='card'><a href='/story/{i}'><img src='/img/{i}.jpg' alt=''><h3>Related story "
                    f"number {i} about the council</h3></a><p class='teaser'>A short teaser for story {i}.</p></div>"
                    for i in range(100))
    head_end = text.lower().index("</head>")
    text = text[:head_end] + f"<script>window.__STATE__={state}</script>" + text[head_end:]
    body_at = text.lower().index("<body")
    body_at = text.index(">", body_at) + 1
    text = text[:body_at] + f"<nav class='mega-menu'><ul>{menu}</ul></nav>" + text[body_at:]
    end = text.lower().rindex("</body>")
    text = text[:end] + f"<section class='more'>{cards}</section><footer><ul>{footer}</ul></footer>" + text[end:]
    return text.encode(p.encoding, "xmlcharrefreplace")
