"""Method 2: the site's rewrite pattern, learned from pairs of old and new addresses (FABLE's idea, one timeline).

A pair (``/news/2019/05/12/slug`` -> ``/articles/slug``) is read as a *shape*: the old host and the segments before
the slug, with date segments turned into placeholders (``news/YYYY/MM/DD``), the slug's suffix (``.html``, a
trailing slash), and the same for the new address. The slug must be kept, and every segment of the new address
must be either a literal or a date value of the old one: an id the site made up (``/a/8f3k2/slug``) differs from
pair to pair, so no two pairs agree and no rule is learned. A rule needs :data:`MIN_SUPPORT` agreeing pairs and
no pair whose old address has the same shape but moved elsewhere. Pure functions: no I/O.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from archiver.relocate.candidate import Candidate, Method, Pair

#: agreeing pairs a rule needs before it is applied to another address (the cited URL's own pair never counts)
MIN_SUPPORT = 2
#: the suffixes a slug may carry, dropped or added by a move
SUFFIXES = (".html", ".htm", ".php", ".aspx", ".shtml")

_YEAR = re.compile(r"(19|20)\d\d")
_MONTH_DAY = re.compile(r"\d{1,2}")


@dataclass(frozen=True, slots=True)
class Shape:
    """One side of a rule: host, the segments before the slug (literals or ``YYYY``/``MM``/``DD``), suffixes."""

    host: str
    prefix: tuple[str, ...]
    suffix: str
    slash: bool

    def show(self, with_host: bool) -> str:
        path = "/" + "/".join([*self.prefix, "<slug>"]) + self.suffix + ("/" if self.slash else "")
        return self.host + path if with_host else path


@dataclass(frozen=True, slots=True)
class Rule:
    """Addresses of shape ``old`` moved to shape ``new`` (scheme ``scheme``), seen on ``support`` pairs."""

    old: Shape
    new: Shape
    scheme: str
    support: int
    #: the old addresses of the agreeing pairs (a cited URL among them does not support its own candidate)
    examples: frozenset[str]

    def describe(self, support: int) -> str:
        with_host = self.old.host != self.new.host
        pages = "page" if support == 1 else "pages"
        return (f"{support} other {pages} of {self.old.host} moved from {self.old.show(with_host)} "
                f"to {self.new.show(with_host)}")


@dataclass(frozen=True, slots=True)
class _Parsed:
    scheme: str
    host: str
    dirs: tuple[str, ...]
    slug: str
    suffix: str
    slash: bool


def _parse(url: str) -> _Parsed | None:
    """The parts of an address a rule reads, or None (no slug, a query string: nothing to learn or apply)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        return None
    slash = parts.path.endswith("/")
    segments = [s for s in parts.path.split("/") if s]
    if not segments:
        return None
    last = segments[-1]
    suffix = next((s for s in SUFFIXES if last.lower().endswith(s) and len(last) > len(s)), "")
    slug = last[: len(last) - len(suffix)]
    host = parts.hostname + (f":{parts.port}" if parts.port else "")
    return _Parsed(parts.scheme, host, tuple(segments[:-1]), slug, suffix, slash)


def _date_names(dirs: tuple[str, ...]) -> dict[int, str]:
    """The date segments among ``dirs``, by position: a year, then a month and a day right after it."""
    names: dict[int, str] = {}
    for i, seg in enumerate(dirs):
        if _YEAR.fullmatch(seg):
            names[i] = "YYYY"
            for j, (name, top) in enumerate((("MM", 12), ("DD", 31)), start=1):
                nxt = dirs[i + j] if i + j < len(dirs) else ""
                if not (_MONTH_DAY.fullmatch(nxt) and 1 <= int(nxt) <= top):
                    break
                names[i + j] = name
    return names


def _old_template(dirs: tuple[str, ...]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The old segments with dates as placeholders, and each placeholder's value."""
    names = _date_names(dirs)
    values = {names[i]: dirs[i] for i in names}
    return tuple(names.get(i, seg) for i, seg in enumerate(dirs)), values


def _new_template(dirs: tuple[str, ...], values: dict[str, str]) -> tuple[str, ...]:
    """The new segments, a segment equal to one of the old dates written as that date's placeholder."""
    by_value: dict[str, str] = {}
    for name, value in values.items():  # YYYY, MM, DD in order: a month equal to the day stays the month
        by_value.setdefault(value, name)
    return tuple(by_value.get(seg, seg) for seg in dirs)


def _shapes(pair: Pair) -> tuple[Shape, Shape, str] | None:
    """The (old shape, new shape, new scheme) of a pair, or None when it keeps no slug."""
    old, new = _parse(pair.old), _parse(pair.new)
    if old is None or new is None or old.slug != new.slug:
        return None
    old_prefix, values = _old_template(old.dirs)
    if any(v in ("YYYY", "MM", "DD") for v in old.dirs):
        return None  # a literal segment that reads like a placeholder: ambiguous, not learned
    new_prefix = _new_template(new.dirs, values)
    if (old.host, old_prefix, old.suffix, old.slash) == (new.host, new_prefix, new.suffix, new.slash):
        return None  # only the scheme or nothing changed: no move to learn
    return (Shape(old.host, old_prefix, old.suffix, old.slash),
            Shape(new.host, new_prefix, new.suffix, new.slash), new.scheme)


def learn(pairs: Iterable[Pair]) -> list[Rule]:
    """The rules the pairs support: :data:`MIN_SUPPORT` agreeing pairs and none contradicting, most supported
    first. Pairs of the same old address count once."""
    seen: dict[str, Pair] = {}
    for pair in pairs:
        seen.setdefault(pair.old, pair)
    moves: dict[Shape, dict[tuple[Shape, str], set[str]]] = defaultdict(lambda: defaultdict(set))
    for pair in seen.values():
        shapes = _shapes(pair)
        if shapes is not None:
            old, new, scheme = shapes
            moves[old][(new, scheme)].add(pair.old)
    rules = []
    for old, targets in moves.items():
        if len(targets) != 1:
            continue  # pairs of the same old shape went to different places: the site has no one pattern
        ((new, scheme), examples), = targets.items()
        if len(examples) >= MIN_SUPPORT:
            rules.append(Rule(old, new, scheme, len(examples), frozenset(examples)))
    return sorted(rules, key=lambda r: (-r.support, r.old.host, r.old.prefix))


def _rewrite(rule: Rule, parsed: _Parsed) -> str | None:
    """``parsed`` rewritten by ``rule``, or None when its shape is not the rule's."""
    prefix, values = _old_template(parsed.dirs)
    if Shape(parsed.host, prefix, parsed.suffix, parsed.slash) != rule.old:
        return None
    dirs = [values.get(seg, seg) for seg in rule.new.prefix]
    path = "/" + "/".join([*dirs, parsed.slug]) + rule.new.suffix + ("/" if rule.new.slash else "")
    return f"{rule.scheme}://{rule.new.host}{path}"


def apply(rules: Iterable[Rule], old_url: str) -> list[Candidate]:
    """The candidates the rules give for ``old_url`` (method ``site_pattern``), one per rule whose old shape it
    has and whose support, not counting ``old_url``'s own pair, is still :data:`MIN_SUPPORT`."""
    parsed = _parse(old_url)
    if parsed is None:
        return []
    out: list[Candidate] = []
    for rule in rules:
        support = rule.support - (old_url in rule.examples)
        url = _rewrite(rule, parsed) if support >= MIN_SUPPORT else None
        if url is not None and url != old_url and all(c.url != url for c in out):
            out.append(Candidate(old_url, url, Method.SITE_PATTERN, rule.describe(support)))
    return out
