"""Publisher names: normalised keys, variants and parts of a cited name, and the tolerant match.

Names are compared after normalisation (:func:`name_key`): case, accents, punctuation, a leading
"The", ``&``/``and``, acronym dots (``U.S.``), common abbreviations (``Dept.``) and a trailing
generic word (``News``, ``Magazine``, ``.com``) do not matter, nor does a leading ``U.S.``/``US``.
:func:`names_match` also accepts parts ("A / B", "A via B") and sub-brands of an alias.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

_ABBREVIATIONS = {
    "dept": "department", "depts": "departments", "natl": "national", "intl": "international",
    "govt": "government", "assn": "association", "univ": "university", "corp": "corporation",
    "inst": "institute", "ctr": "center", "centre": "center", "mag": "magazine", "cmte": "committee",
    "comm": "committee",
}
#: Trailing words that do not change which outlet a name means ("BBC News", "TIME Magazine", "Salon.com").
_GENERIC_TAIL = frozenset({
    "news", "magazine", "online", "website", "site", "newspaper", "newsroom", "official", "journal", "com", "org",
    "net", "gov", "inc", "llc",
})
#: Single words too common in outlet names to mean one outlet when found inside a longer name.
_WEAK = _GENERIC_TAIL | frozenset({
    "the", "times", "post", "daily", "journal", "review", "report", "press", "tribune", "herald", "world",
    "national", "american", "public", "center", "institute", "foundation", "council", "committee", "department",
    "office", "house", "senate", "court", "state", "government", "policy", "law", "research", "media", "network",
    "radio", "business", "money", "politics", "finance", "today", "record", "watch", "project", "global",
    "international", "science", "nature", "history", "america", "democracy", "union", "monitor", "congress",
    "block",
})
_COUNTRY_PREFIXES = (("united", "states"), ("us",), ("usa",))
_DOTTED = re.compile(r"[a-z0-9]+(?:\.[a-z0-9]+)+\.?")
_APOSTROPHES = re.compile(r"['’`´]")
_WORD = re.compile(r"[a-z0-9]+")


def name_tokens(name: str) -> list[str]:
    if name.isascii():  # most names: NFKD changes no ASCII character and none is a combining mark
        text = name.casefold()
    else:
        text = unicodedata.normalize("NFKD", name)
        text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _APOSTROPHES.sub("", text)

    def dotted(m: re.Match[str]) -> str:
        parts = [p for p in m.group(0).split(".") if p]
        if all(len(p) == 1 for p in parts):  # U.S. / N.Y. -> us / ny
            return "".join(parts)
        return " ".join(parts)  # salon.com -> salon com

    text = _DOTTED.sub(dotted, text)
    raw = _WORD.findall(text)
    tokens: list[str] = []
    run: list[str] = []
    for tok in [*raw, ""]:  # collapse runs of single letters: "u s" -> "us"
        if len(tok) == 1 and tok.isalpha():
            run.append(tok)
            continue
        if run:
            tokens.append("".join(run))
            run = []
        if tok:
            tokens.append(_ABBREVIATIONS.get(tok, tok))
    if len(tokens) > 1 and tokens[0] == "the":
        tokens = tokens[1:]
    return tokens


def name_key(name: str) -> str:
    """The strict comparison key: ``"The New York Times"`` and ``"new york times"`` -> ``"new york times"``."""
    return " ".join(name_tokens(name))


def strip_tail(tokens: list[str]) -> list[str]:
    out = list(tokens)
    while len(out) > 1 and out[-1] in _GENERIC_TAIL:
        out.pop()
    return out


def _strip_country(tokens: list[str]) -> list[str]:
    for prefix in _COUNTRY_PREFIXES:
        n = len(prefix)
        if len(tokens) > n and tuple(tokens[:n]) == prefix:
            return tokens[n:]
    return tokens


@lru_cache(maxsize=65536)
def name_variants(name: str) -> frozenset[str]:
    """Loose keys of a name: strict key, without a generic trailing word, without a leading "U.S."."""
    tokens = name_tokens(name)
    if not tokens:
        return frozenset()
    out = {tuple(tokens), tuple(strip_tail(tokens)), tuple(_strip_country(tokens)),
           tuple(strip_tail(_strip_country(tokens)))}
    keys = {" ".join(t) for t in out if t}
    if len(tokens) > 1 or name.strip().lower().startswith("the "):
        # written together or apart: "The Street" / "TheStreet", "Space News" / "SpaceNews"
        joined = "".join(name_tokens("x " + name)[1:])  # keeps a leading "the"
        keys.add(joined)
        keys.add("".join(tokens))
    return frozenset(keys)


_PAREN = re.compile(r"\(([^()]*)\)|\[([^\[\]]*)\]")
_SPLIT = re.compile(r"\s+/\s+|/|\s+[-–—|:]\s+|,\s+|;\s+|\s+via\s+|\s+and\s+", re.IGNORECASE)
_LEAD = re.compile(r"^\s*(?:via|from|sourced from|citing|hosted by|published by|originally)\s+", re.IGNORECASE)


def name_segments(name: str) -> list[str]:
    """A cited publisher and its parts: ``"Reuters (via CNBC)"`` -> the whole, ``Reuters``, ``CNBC``."""
    out = [name]
    bare = _PAREN.sub(" ", name).strip()
    if bare and bare != name:
        out.append(bare)
    for m in _PAREN.finditer(name):
        inner = _LEAD.sub("", m.group(1) or m.group(2) or "").strip()
        if inner:
            out.append(inner)
    for part in _SPLIT.split(bare or name):
        part = _LEAD.sub("", part).strip()
        if part and part not in out:
            out.append(part)
    return out


def primary_name(name: str) -> str:
    """The cited name without parenthetical remarks: ``"Washington Post (op-ed)"`` -> ``"Washington Post"``."""
    return _PAREN.sub(" ", name).strip() or name


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return 0 < n <= len(haystack) and any(haystack[i:i + n] == needle for i in range(len(haystack) - n + 1))


@lru_cache(maxsize=65536)
def _alias_tokens(names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    out: set[tuple[str, ...]] = set()
    for n in names:
        for variant in name_variants(n):
            toks = tuple(variant.split())
            if len(toks) > 1 or (len(toks[0]) >= 3 and toks[0] not in _WEAK):
                out.add(toks)
    return tuple(sorted(out))


def names_match(cited: str, names: Iterable[str]) -> bool:
    """True when ``cited`` (or one of its parts) names the outlet known by ``names``.

    Tolerant: normalised keys, generic tails, a leading "U.S.", parenthetical
    remarks and "A / B" or "A via B" parts; and a sub-brand that starts with or
    contains an alias ("CNN Politics", "NPR - Karl Rove Interview") or a
    shortened name inside an alias ("Brennan Center" for "Brennan Center for
    Justice").
    """
    return _names_match(cited, tuple(names))


@lru_cache(maxsize=65536)
def _names_match(cited: str, names: tuple[str, ...]) -> bool:
    """:func:`names_match`, remembered: a timeline cites the same outlet by the same name hundreds of times."""
    alias_variants: set[str] = set()
    for n in names:
        alias_variants |= name_variants(n)
    aliases = _alias_tokens(names)
    for segment in name_segments(cited):
        variants = name_variants(segment)
        if variants & alias_variants:
            return True
        tokens = name_tokens(segment)
        for alias in aliases:
            if _contains(tokens, list(alias)):
                return True
            if len(tokens) >= 2 and _contains(list(alias), tokens):
                return True
    return False
