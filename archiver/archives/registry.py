"""The archives asked after the Wayback Machine: the shipped list (``archiver/data/archives.yaml``),
or ``archives_file``, narrowed by ``archives`` and with ``archive_base_urls`` replacing base URLs.

Each archive's URL forms come from its public documentation, collected in MemGator's archive list
(github.com/oduwsdl/MemGator, ``docs/archives.json``), Perma.cc's code (github.com/harvard-lil/perma)
and pywb's Archival URL scheme (pywb.readthedocs.io: ``<ts>/<url>`` and the ``id_`` modifier).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from ..errors import ConfigError
from ..options import ArchivesOptions


@dataclass(frozen=True, slots=True)
class Archive:
    """One Memento-compliant archive: where its TimeMaps and mementos are, and how often it may be asked."""

    id: str
    name: str
    base: str
    timemap: str
    memento: str | None = None
    raw: str | None = None
    per_minute: float = 4.0
    hosts: tuple[str, ...] = ()

    def timemap_url(self, url: str) -> str:
        return self.timemap.format(base=self.base, url=url)

    def memento_url(self, timestamp: str, url: str) -> str | None:
        return self.memento.format(base=self.base, timestamp=timestamp, url=url) if self.memento else None

    def raw_url(self, timestamp: str, url: str) -> str | None:
        return self.raw.format(base=self.base, timestamp=timestamp, url=url) if self.raw else None

    def owns(self, url: str) -> bool:
        """Whether ``url`` (a declared archive URL) is on one of this archive's hosts."""
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        base = urlsplit(self.base)
        if host == (base.hostname or "").lower() and (parts.port == base.port or not base.port):
            return True
        return host in self.hosts


def _archive(entry: Any, where: str) -> Archive:
    if not isinstance(entry, dict) or not entry.get("id") or not entry.get("base") or not entry.get("timemap"):
        raise ConfigError(f"{where}: every archive needs id, base and timemap, got {entry!r}")
    try:
        per_minute = float(entry.get("per_minute") or 4.0)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}: archive {entry['id']}: per_minute must be a number") from None
    if per_minute <= 0:
        raise ConfigError(f"{where}: archive {entry['id']}: per_minute must be more than zero")
    return Archive(id=str(entry["id"]), name=str(entry.get("name") or entry["id"]), base=str(entry["base"]).rstrip("/"),
                   timemap=str(entry["timemap"]), memento=entry.get("memento") or None, raw=entry.get("raw") or None,
                   per_minute=per_minute, hosts=tuple(str(h).lower() for h in entry.get("hosts") or ()))


def shipped_text() -> str:
    return resources.files("archiver").joinpath("data/archives.yaml").read_text("utf-8")


def load_archives(options: ArchivesOptions) -> list[Archive]:
    """The archives this run may ask, in list order (see the module docstring)."""
    path: Path | None = options.archives_file
    where = str(path) if path else "archiver/data/archives.yaml"
    try:
        data = yaml.safe_load(path.read_text("utf-8") if path else shipped_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"setting 'archives_file': cannot read {where}: {exc}") from None
    if not isinstance(data, list):
        raise ConfigError(f"{where}: expected a list of archives")
    archives = [_archive(entry, where) for entry in data]
    wanted = [name.strip() for name in options.archives if name.strip()]
    if wanted != ["all"]:
        known = {a.id for a in archives}
        unknown = [w for w in wanted if w not in known]
        if unknown:
            raise ConfigError(f"setting 'archives': unknown archive {', '.join(unknown)} (known: {', '.join(known)})")
        archives = [a for a in archives if a.id in wanted]
    overrides: dict[str, str] = {}
    for item in options.archive_base_urls:
        name, sep, base = item.partition("=")
        if not sep or not base.strip():
            raise ConfigError(f"setting 'archive_base_urls': expected id=URL, got {item!r}")
        overrides[name.strip()] = base.strip().rstrip("/")
    out = []
    for a in archives:
        override = overrides.get(a.id)
        out.append(a if override is None else Archive(a.id, a.name, override, a.timemap, a.memento, a.raw, a.per_minute,
                                                  a.hosts))
    return out


@lru_cache(maxsize=1)
def _shipped_names() -> dict[str, str]:
    data = yaml.safe_load(shipped_text())
    return {str(e["id"]): str(e.get("name") or e["id"]) for e in data if isinstance(e, dict) and e.get("id")}


def display_name(archive_id: str) -> str:
    """A name for people of an archive id (``wayback``: Wayback Machine; ``loc``: Library of Congress)."""
    if archive_id == "wayback":
        return "Wayback Machine"
    return _shipped_names().get(archive_id, archive_id)
