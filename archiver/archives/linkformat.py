"""A small parser of ``application/link-format`` TimeMaps and ``Link`` headers (RFC 7089, RFC 8288).

A TimeMap (RFC 7089 §5) is a list of links in the syntax of the HTTP ``Link`` header
(RFC 8288 §3; the media type is RFC 6690's ``application/link-format``)::

    <http://a.example/page>; rel="original",
    <http://arch.example/timemap/link/http://a.example/page>; rel="self"; type="application/link-format";
      from="Tue, 20 Jun 2000 18:02:59 GMT",
    <http://arch.example/20000620180259/http://a.example/page>; rel="first memento";
      datetime="Tue, 20 Jun 2000 18:02:59 GMT"

Entries come in any order, span lines, and their parameters may be quoted (commas and
semicolons inside quotes are text) or bare tokens; ``rel`` may hold several space-separated
types (``first last memento``, RFC 7089 §2.2 and RFC 8288 §3.3); ``datetime`` is an
IMF-fixdate (RFC 7089 §2.1.1, RFC 7231 §7.1.1.1). Why our own parser: the package index's
link-header parsers are unmaintained (linkheader 0.4.3 of 2015, httplink 0.2.0 of 2020,
memento-client 0.6.1 of 2017), and this one is a page of code with its tests
(``tests/archives/test_linkformat.py``).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class LinkEntry:
    """One link: its target URI, its relation types and its other parameters (names lower case)."""

    uri: str
    rels: frozenset[str] = frozenset()
    params: dict[str, str] = field(default_factory=dict)

    @property
    def datetime(self) -> dt.datetime | None:
        return parse_http_date(self.params.get("datetime"))


@dataclass(frozen=True, slots=True)
class Memento:
    """A memento listed in a TimeMap: its URI and its capture time (UTC)."""

    uri: str
    datetime: dt.datetime

    @property
    def timestamp(self) -> str:
        return self.datetime.strftime("%Y%m%d%H%M%S")


def parse_http_date(text: str | None) -> dt.datetime | None:
    """An IMF-fixdate (``Tue, 20 Jun 2000 18:02:59 GMT``) as an aware UTC datetime; None when unreadable."""
    if not text:
        return None
    try:
        stamp = email.utils.parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        return None  # Python >= 3.10 raises ValueError where it returned None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


_SPACE = " \t\r\n"


def parse_links(text: str) -> list[LinkEntry]:
    """Every link of a link-format document or ``Link`` header value, in document order.

    Tolerant: whitespace and line breaks anywhere between tokens, quoted or bare parameter
    values, backslash escapes in quoted strings, a missing final comma or a trailing one,
    parameters without a value; a malformed entry is skipped up to the next ``<``.
    """
    out: list[LinkEntry] = []
    i, n = 0, len(text)
    while i < n:
        start = text.find("<", i)
        if start < 0:
            break
        end = text.find(">", start + 1)
        if end < 0:
            break
        uri = text[start + 1:end].strip()
        params, i = _params(text, end + 1)
        if uri:
            rels = frozenset(r.lower() for r in params.pop("rel", "").split())
            out.append(LinkEntry(uri, rels, params))
    return out


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _params(text: str, i: int) -> tuple[dict[str, str], int]:
    """The parameters of the entry whose ``<uri>`` ends before ``i``, and where the next entry may start."""
    n = len(text)
    params: dict[str, str] = {}
    while i < n:
        i = _skip_space(text, i)
        if i >= n or text[i] == ",":
            i += 1
            break
        if text[i] == "<":  # a missing comma: the next entry starts
            break
        if text[i] != ";":
            i += 1
            continue
        name, value, i = _param(text, i + 1)
        if name and name not in params:  # RFC 8288 §3: only the first occurrence of a parameter counts
            params[name] = value
    return params, i


def _param(text: str, i: int) -> tuple[str, str, int]:
    """One parameter starting after its ``;``: its name (lower case), its value ("" when none), where it ends."""
    n = len(text)
    i = _skip_space(text, i)
    name_start = i
    while i < n and text[i] not in "=;,< \t\r\n":
        i += 1
    name = text[name_start:i].strip().lower()
    i = _skip_space(text, i)
    value = ""
    if i < n and text[i] == "=":
        value, i = _param_value(text, i + 1)
    return name, value, i


def _param_value(text: str, i: int) -> tuple[str, int]:
    """A parameter's value starting after its ``=``: quoted or a bare token, and where it ends."""
    n = len(text)
    i = _skip_space(text, i)
    if i < n and text[i] == '"':
        return _quoted(text, i + 1)
    value_start = i
    while i < n and text[i] not in ";,":
        i += 1
    return text[value_start:i].strip(), i


def _quoted(text: str, i: int) -> tuple[str, int]:
    """A quoted string starting after its opening quote, backslash escapes undone, and the index after its close."""
    n = len(text)
    chars: list[str] = []
    while i < n and text[i] != '"':
        if text[i] == "\\" and i + 1 < n:
            i += 1
        chars.append(text[i])
        i += 1
    return "".join(chars), i + 1  # past the closing quote


def mementos(entries: list[LinkEntry]) -> list[Memento]:
    """The mementos of a TimeMap (``rel`` holding ``memento``, with a readable ``datetime``), oldest first."""
    found = {(e.uri, stamp) for e in entries if "memento" in e.rels and (stamp := e.datetime) is not None}
    return sorted((Memento(uri, stamp) for uri, stamp in found), key=lambda m: (m.datetime, m.uri))


def original(entries: list[LinkEntry]) -> str | None:
    """The Original Resource a TimeMap or memento names (``rel="original"``)."""
    return next((e.uri for e in entries if "original" in e.rels), None)
