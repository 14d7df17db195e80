"""The publisher registry: which outlet publishes on which domain, and its tier.

The registry is data (``archiver/data/publishers.yaml``, shipped in the package;
a timeline can add its own file with the ``registry`` setting). Each entry is
keyed by a registrable domain (``nytimes.com``) or a host (``abcnews.go.com``)
and gives the outlet's canonical name, its aliases, its tier and flags; rules
match hosts by glob pattern (``*.blogspot.com``) or by suffix (``.gov``).

A URL is looked up by, in order: its exact host and parent hosts down to (not
including) the registrable domain; host-pattern rules; the registrable domain
(Public Suffix List, offline, via :func:`archiver.timeline.catalog.registrable_domain`);
suffix rules. The first hit wins.

Publisher names are compared after normalisation (:func:`~archiver.audit.names.name_key`): case,
accents, punctuation, a leading "The", ``&``/``and``, acronym dots (``U.S.``),
common abbreviations (``Dept.``) and a trailing generic word (``News``,
``Magazine``, ``.com``) do not matter, nor does a leading ``U.S.``/``US``.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml

try:
    from yaml import CSafeLoader as _SafeLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _SafeLoader  # type: ignore[assignment]  # pure-Python stand-in for CSafeLoader

from ..errors import RegistryError as RegistryError  # its home before archiver.errors
from ..timeline.catalog import host_of, parse_archive_url, registrable_domain
from .names import name_key, name_tokens, primary_name, strip_tail

BUILTIN = "archiver/data/publishers.yaml"

#: Kinds of publisher (informational, except that ``news`` and ``wire`` names are
#: the ones flagged when cited for a page of an umbrella domain).
KINDS = frozenset({
    "news", "wire", "official", "academic", "research", "advocacy", "reference", "wiki", "platform", "social",
    "blog", "company", "legal", "newswire",
})
MEDIA_KINDS = frozenset({"news", "wire"})
_ENTRY_FIELDS = frozenset({
    "name", "aliases", "tier", "kind", "platform", "umbrella", "syndicates", "alias_of", "notes",
})
_TOP_FIELDS = frozenset({"version", "tiers", "publishers", "rules"})

Via = Literal["host", "host_rule", "domain", "suffix_rule"]


# --------------------------------------------------------------------------- entries


@dataclass(frozen=True, slots=True)
class Publisher:
    """One registry entry (a domain, a host, or a rule)."""

    key: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    tier: int | None = None
    kind: str | None = None
    #: a host of other people's content (uploads, documents, newsletters): the cited
    #: publisher is legitimately the author or uploader; never a publisher_mismatch
    platform: bool = False
    #: many bodies publish here (a government, a university): any cited name is
    #: accepted except the name of a news outlet of the registry
    umbrella: bool = False
    #: other outlets whose copies this site carries (wire stories): accepted as publisher
    syndicates: tuple[str, ...] = ()
    #: the key of another entry this one is the same outlet as (its other domain: ``ap.org`` of
    #: ``apnews.com``): the only way two domains may share a name
    alias_of: str | None = None
    notes: str | None = None
    #: the file the entry (or its last override) came from
    origin: str = BUILTIN

    @property
    def names(self) -> tuple[str, ...]:
        """The canonical name, the aliases, the key and its first label (``nytimes``)."""
        out = [n for n in (self.name, *self.aliases) if n]
        if not self.key.startswith((".", "*")):
            out.append(self.key)
            if registrable_domain(self.key) == self.key:
                label = self.key.split(".", 1)[0]
                if label != "www":
                    out.append(label)  # "nytimes" for nytimes.com
        return tuple(out)

    @property
    def label(self) -> str:
        return self.name or self.key

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"key": self.key, "name": self.name, "tier": self.tier}
        for attr in ("aliases", "kind", "platform", "umbrella", "syndicates", "alias_of", "notes"):
            value = getattr(self, attr)
            if value:
                out[attr] = list(value) if isinstance(value, tuple) else value
        return out


@dataclass(frozen=True, slots=True)
class Match:
    """Which registry entry covers a URL, and how it was found."""

    entry: Publisher
    via: Via
    host: str
    domain: str

    @property
    def fill_name(self) -> str | None:
        """The publisher to write for a citation that has none (None when the entry cannot say)."""
        e = self.entry
        if e.platform or not e.name:
            return None
        if e.umbrella and self.via == "domain" and self.host not in (self.domain, "www." + self.domain):
            return None  # www.warren.senate.gov is not "U.S. Senate" generally
        return e.name


# --------------------------------------------------------------------------- registry


@dataclass(slots=True)
class Registry:
    tiers: dict[int, str] = field(default_factory=dict)
    entries: dict[str, Publisher] = field(default_factory=dict)
    host_rules: list[Publisher] = field(default_factory=list)
    suffix_rules: list[Publisher] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    _index: dict[str, list[Publisher]] | None = None

    # -- lookup
    def lookup(self, url_or_host: str) -> Match | None:
        """The entry for a URL (a Wayback capture is looked up by its original) or a host name."""
        host = url_or_host
        if "/" in url_or_host or ":" in url_or_host:
            ref = parse_archive_url(url_or_host)
            host = host_of(ref.original if ref else url_or_host)
        host = host.lower().rstrip(".")
        if not host:
            return None
        domain = registrable_domain(host)
        probe = host
        while probe and probe != domain and probe.count(".") >= domain.count("."):
            entry = self.entries.get(probe)
            if entry is not None:
                return Match(entry, "host", host, domain)
            probe = probe.split(".", 1)[1] if "." in probe else ""
        for rule in self.host_rules:
            if fnmatch.fnmatchcase(host, rule.key):
                return Match(rule, "host_rule", host, domain)
        entry = self.entries.get(domain)
        if entry is not None:
            return Match(entry, "domain", host, domain)
        for rule in self.suffix_rules:
            if host.endswith(rule.key) or host == rule.key.lstrip("."):
                return Match(rule, "suffix_rule", host, domain)
        return None

    def tier_meaning(self, tier: int | None) -> str:
        return self.tiers.get(tier, "") if tier is not None else ""

    # -- names
    def _build_index(self) -> dict[str, list[Publisher]]:
        index: dict[str, list[Publisher]] = {}
        for entry in self.entries.values():
            for n in (entry.name, *entry.aliases):
                if not n:
                    continue
                tokens = name_tokens(n)  # name_key(n) is " ".join(tokens): one tokenizing for both keys
                for key in {" ".join(tokens), " ".join(strip_tail(tokens))}:
                    bucket = index.setdefault(key, [])
                    if entry not in bucket:
                        bucket.append(entry)
        return index

    def by_name(self, name: str) -> list[Publisher]:
        """Entries whose name or an alias is ``name`` (strictly normalised; parenthetical remarks ignored)."""
        if self._index is None:
            self._index = self._build_index()
        primary = primary_name(name)
        found: list[Publisher] = []
        tokens = name_tokens(primary)
        for key in (" ".join(tokens), " ".join(strip_tail(tokens))):
            for entry in self._index.get(key, []):
                if entry not in found:
                    found.append(entry)
        return found

    def primary(self, entry: Publisher) -> Publisher:
        """The entry an ``alias_of`` chain ends at (the entry itself when it declares none)."""
        seen = {entry.key}
        while entry.alias_of and entry.alias_of not in seen and entry.alias_of in self.entries:
            seen.add(entry.alias_of)
            entry = self.entries[entry.alias_of]
        return entry

    def same_outlet(self, a: Publisher, b: Publisher) -> bool:
        """One outlet: the same entry, hosts of one registrable domain, or linked by ``alias_of``."""
        if a is b or self.primary(a) is self.primary(b):
            return True
        keys = (a.key, b.key)
        if any(k.startswith((".", "*")) for k in keys):
            return False
        return registrable_domain(a.key) == registrable_domain(b.key)

    def outlets_named(self, name: str) -> list[Publisher]:
        """Registry outlets with a domain of their own that ``name`` names (platforms and rules left out).

        Strict: the normalised name itself, so "Science News" does not name *Science*.
        """
        key = name_key(primary_name(name))
        return [e for e in self.by_name(name) if not e.platform and not e.key.startswith((".", "*"))
                and any(name_key(n) == key for n in (e.name, *e.aliases) if n)]

    def __len__(self) -> int:
        return len(self.entries)


# --------------------------------------------------------------------------- loading


def _check_names(value: Any, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise RegistryError(f"{where}: '{what}' must be a list of names")
    return tuple(v.strip() for v in value)


def _entry(key: str, data: Any, where: str, origin: str, base: Publisher | None = None) -> Publisher:
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise RegistryError(f"{where}: expected a mapping of fields (name, aliases, tier, ...), got {data!r}")
    replace_all = bool(data.get("replace", False))
    unknown = set(data) - _ENTRY_FIELDS - {"replace", "host", "suffix"}
    if unknown:
        raise RegistryError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}; "
                            f"allowed: {', '.join(sorted(_ENTRY_FIELDS))}")
    values = {name: check(data[name], where, name) for name, check in _FIELD_CHECKS if name in data}
    extend = base if not replace_all else None  # a timeline's aliases extend the built-in ones
    for listed in ("aliases", "syndicates"):
        if listed in data:
            values[listed] = _listed(data[listed], where, listed, extend)
    if base is not None and not replace_all:
        return replace(base, origin=origin, **values)
    return Publisher(key=key, origin=origin, **values)


def _check_name(name: Any, where: str, what: str) -> str | None:
    if name is not None and not (isinstance(name, str) and name.strip()):
        raise RegistryError(f"{where}: 'name' must be a non-empty string")
    return name.strip() if isinstance(name, str) else None


def _check_tier(tier: Any, where: str, what: str) -> Any:
    if tier is not None and (isinstance(tier, bool) or tier not in (1, 2, 3)):
        raise RegistryError(f"{where}: 'tier' must be 1, 2 or 3 (or null), got {tier!r}")
    return tier


def _check_kind(kind: Any, where: str, what: str) -> Any:
    if kind is not None and kind not in KINDS:
        raise RegistryError(f"{where}: 'kind' must be one of {', '.join(sorted(KINDS))}, got {kind!r}")
    return kind


def _check_flag(value: Any, where: str, flag: str) -> bool:
    if not isinstance(value, bool):
        raise RegistryError(f"{where}: '{flag}' must be true or false")
    return value


def _check_alias_of(target: Any, where: str, what: str) -> str | None:
    if target is not None and not (isinstance(target, str) and _HOST_KEY.match(target.strip().lower())):
        raise RegistryError(f"{where}: 'alias_of' must be the key of another entry, like 'apnews.com'")
    return target.strip().lower() if isinstance(target, str) else None


def _check_notes(notes: Any, where: str, what: str) -> Any:
    if notes is not None and not isinstance(notes, str):
        raise RegistryError(f"{where}: 'notes' must be text")
    return notes


def _listed(value: Any, where: str, listed: str, extend: Publisher | None) -> tuple[str, ...]:
    names = _check_names(value, where, listed)
    if extend is not None:
        names = tuple(dict.fromkeys((*getattr(extend, listed), *names)))
    return names


#: an entry's one-value fields, checked in this order (the first bad one is the error)
_FIELD_CHECKS: tuple[tuple[str, Callable[[Any, str, str], Any]], ...] = (
    ("name", _check_name), ("tier", _check_tier), ("kind", _check_kind), ("platform", _check_flag),
    ("umbrella", _check_flag), ("alias_of", _check_alias_of), ("notes", _check_notes),
)

_HOST_KEY = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$")


def _merge(registry: Registry, data: Any, origin: str) -> None:
    if data is None:
        return
    _check_top(data, origin)
    _merge_tiers(registry, data, origin)
    _merge_publishers(registry, data, origin)
    new_host, new_suffix = _rules(data, origin)
    # a timeline's rules come first; among suffix rules the longest suffix wins
    registry.host_rules[:0] = new_host
    registry.suffix_rules = sorted([*new_suffix, *registry.suffix_rules], key=lambda r: -len(r.key))
    registry.sources.append(origin)
    registry._index = None


def _check_top(data: Any, origin: str) -> None:
    if not isinstance(data, dict):
        raise RegistryError(f"{origin}: expected a mapping with 'publishers' (and optionally 'rules', 'tiers')")
    unknown = set(data) - _TOP_FIELDS
    if unknown:
        raise RegistryError(f"{origin}: unknown top-level key(s) {', '.join(sorted(map(str, unknown)))}; "
                            f"allowed: {', '.join(sorted(_TOP_FIELDS))}")
    version = data.get("version", 1)
    if version != 1:
        raise RegistryError(f"{origin}: unsupported registry version {version!r} (this archiver reads version 1)")


def _merge_tiers(registry: Registry, data: dict[Any, Any], origin: str) -> None:
    tiers = data.get("tiers") or {}
    if not isinstance(tiers, dict) or not all(k in (1, 2, 3) and isinstance(v, str) for k, v in tiers.items()):
        raise RegistryError(f"{origin}: 'tiers' must map 1, 2 and 3 to their meaning")
    registry.tiers.update(tiers)


def _merge_publishers(registry: Registry, data: dict[Any, Any], origin: str) -> None:
    publishers = data.get("publishers") or {}
    if not isinstance(publishers, dict):
        raise RegistryError(f"{origin}: 'publishers' must be a mapping of domain or host -> entry")
    for raw_key, value in publishers.items():
        key = str(raw_key).strip().lower().rstrip(".")
        where = f"{origin}: publishers: {raw_key}"
        if not _HOST_KEY.match(key):
            raise RegistryError(f"{where}: the key must be a domain or host name like 'nytimes.com'")
        entry = _entry(key, value, where, origin, registry.entries.get(key))
        if not entry.name and not entry.platform and not entry.umbrella:
            raise RegistryError(f"{where}: an entry needs a 'name' (unless it is a platform or umbrella)")
        registry.entries[key] = entry


def _rules(data: dict[Any, Any], origin: str) -> tuple[list[Publisher], list[Publisher]]:
    """The host rules and the suffix rules of ``data``, in their order."""
    rules = data.get("rules") or []
    if not isinstance(rules, list):
        raise RegistryError(f"{origin}: 'rules' must be a list")
    new_host: list[Publisher] = []
    new_suffix: list[Publisher] = []
    for i, rule in enumerate(rules):
        where = f"{origin}: rules[{i}]"
        if not isinstance(rule, dict) or ("host" in rule) == ("suffix" in rule):
            raise RegistryError(f"{where}: a rule has exactly one of 'host' (a glob such as '*.blogspot.com') "
                                "or 'suffix' (such as '.gov')")
        if "host" in rule:
            new_host.append(_host_rule(rule, where, origin))
        else:
            new_suffix.append(_suffix_rule(rule, where, origin))
    return new_host, new_suffix


def _host_rule(rule: dict[Any, Any], where: str, origin: str) -> Publisher:
    pattern = str(rule["host"]).strip().lower()
    if not pattern or " " in pattern:
        raise RegistryError(f"{where}: bad host pattern {rule['host']!r}")
    return _entry(pattern, rule, where, origin)


def _suffix_rule(rule: dict[Any, Any], where: str, origin: str) -> Publisher:
    suffix = str(rule["suffix"]).strip().lower()
    if not suffix.startswith(".") or len(suffix) < 3:
        raise RegistryError(f"{where}: a suffix starts with a dot, like '.gov', got {rule['suffix']!r}")
    return _entry(suffix, rule, where, origin)


def _parse(text: str, origin: str) -> Any:
    try:
        return yaml.load(text, Loader=_SafeLoader)  # the C safe loader when libyaml is there
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" (line {mark.line + 1})" if mark is not None else ""
        raise RegistryError(f"{origin}: invalid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None


@lru_cache(maxsize=1)
def _builtin_data() -> Any:
    text = resources.files("archiver").joinpath("data/publishers.yaml").read_text("utf-8")
    return _parse(text, BUILTIN)


def load_registry(extra: str | Path | None = None, *, builtin: bool = True,
                  extra_data: Mapping[str, Any] | None = None) -> Registry:
    """The built-in registry, extended or overridden by ``extra`` (a timeline's YAML file).

    ``extra_data`` (already parsed) is for tests and tools. Raises :class:`RegistryError`.
    """
    registry = Registry()
    if builtin:
        _merge(registry, _builtin_data(), BUILTIN)
    if extra is not None:
        path = Path(extra)
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise RegistryError(f"{path}: cannot read the registry file: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise RegistryError(f"{path}: the registry file is not UTF-8") from None
        _merge(registry, _parse(text, str(path)), str(path))
    if extra_data is not None:
        _merge(registry, dict(extra_data), "<extra>")
    for entry in registry.entries.values():
        if entry.alias_of is not None and (entry.alias_of == entry.key or entry.alias_of not in registry.entries):
            raise RegistryError(f"{entry.origin}: publishers: {entry.key}: 'alias_of: {entry.alias_of}' names no "
                                "other entry of the registry")
    return registry
