"""What the state remembers of a link in the other archives (``LinkState.archives``): a typed record.

The archives stage (:mod:`archiver.archives.stage`) writes it; the report and ``archiver annotate`` read it.
It is the ``archives`` object of the link's ``state.json``, present only for links an archive other than
the Wayback Machine was asked about (the state of every other link is byte-identical to before):

* ``looked_up``: when an archive's TimeMap was last asked (ISO 8601);
* ``asked``: when each archive was last asked (records without it: every archive at ``looked_up``);
  the archives are asked one at a time, likeliest first, until one holds a good copy;
* ``captures``: a few captures found (``archive``, ``timestamp``, ``url``; ``rejected`` with the reason
  when its replay is not the page, ``verified`` once its replay was judged to be the page);
* ``url``, ``archive``, ``timestamp``, ``verified``: the copy offered (absent when none);
* ``unknown``: archives that refused or failed for this link at the last lookup, with why (unknown is
  never "not archived");
* ``declared``: each declared ``archive_url`` of another archive with its verdict (``replays``, ``missing``,
  ``error``, ``unknown``);
* ``rescued``: the capture stored as the link's text snapshot (``archive``, ``timestamp``).

Keys this version does not know are kept and written back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

KEY_ORDER = ("url", "archive", "timestamp", "verified", "looked_up", "asked", "captures", "unknown", "declared",
             "rescued")


@dataclass(frozen=True, slots=True, order=True)
class ArchivedCapture:
    """A capture in another archive: its time (14 digits), archive id, memento URL and judgement."""

    timestamp: str
    archive: str
    url: str
    rejected: str | None = None
    verified: bool = False

    @property
    def usable(self) -> bool:
        return self.rejected is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"archive": self.archive, "timestamp": self.timestamp, "url": self.url}
        if self.rejected:
            out["rejected"] = self.rejected
        elif self.verified:
            out["verified"] = True
        return out


def _captures(entries: Any) -> list[ArchivedCapture]:
    out = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            out.append(ArchivedCapture(str(entry["timestamp"]), str(entry["archive"]), str(entry["url"]),
                                       entry.get("rejected"), bool(entry.get("verified"))))
        except (KeyError, TypeError, AttributeError):
            continue
    return sorted(set(out))


@dataclass(eq=False, slots=True)
class ArchivesRecord:
    """The other archives' knowledge of one link (see the module docstring)."""

    url: str | None = None
    archive: str | None = None
    timestamp: str | None = None
    verified: bool = False
    looked_up: str | None = None
    asked: dict[str, str] = field(default_factory=dict)
    captures: list[ArchivedCapture] = field(default_factory=list)
    unknown: dict[str, str] = field(default_factory=dict)
    declared: dict[str, str] = field(default_factory=dict)
    rescued: dict[str, str] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> ArchivesRecord:
        data = data if isinstance(data, Mapping) else {}
        unknown, declared, rescued = data.get("unknown"), data.get("declared"), data.get("rescued")
        asked = data.get("asked")
        return cls(url=data.get("url"), archive=data.get("archive"), timestamp=data.get("timestamp"),
                   verified=bool(data.get("verified")), looked_up=data.get("looked_up"),
                   asked=dict(asked) if isinstance(asked, Mapping) else {},
                   captures=_captures(data.get("captures")),
                   unknown=dict(unknown) if isinstance(unknown, Mapping) else {},
                   declared=dict(declared) if isinstance(declared, Mapping) else {},
                   rescued=dict(rescued) if isinstance(rescued, Mapping) else None,
                   extra={k: v for k, v in data.items() if k not in KEY_ORDER})

    def to_dict(self) -> dict[str, Any]:
        values: dict[str, Any] = {
            "url": self.url, "archive": self.archive, "timestamp": self.timestamp, "verified": self.verified,
            "looked_up": self.looked_up, "asked": dict(sorted(self.asked.items())),
            "captures": [c.to_dict() for c in self.captures],
            "unknown": dict(sorted(self.unknown.items())), "declared": dict(sorted(self.declared.items())),
            "rescued": self.rescued,
        }
        out = {k: v for k, v in values.items() if v not in (None, False, [], {})}
        out.update({k: v for k, v in self.extra.items() if v not in (None, False, [], {})})
        return out

    def copy(self) -> ArchivesRecord:
        return ArchivesRecord.from_dict(self.to_dict())

    @staticmethod
    def ensure(state: Any) -> ArchivesRecord:
        if state.archives is None:
            state.archives = ArchivesRecord()
        record: ArchivesRecord = state.archives
        return record
