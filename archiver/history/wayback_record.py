"""What the state remembers of a link in the Wayback Machine (``LinkState.wayback``): a typed record.

The wayback stage writes it (:mod:`archiver.wayback.policy` decides what); the report reads it.

* ``url``, ``timestamp``: the capture offered to readers (``null`` when there is none);
  ``verified``: that capture's replayed content was judged to be the page (absent: not yet);
* ``looked_up``: when the stored knowledge last changed (a lookup that learns nothing new
  writes nothing); ``source: availability`` when it came from the availability fallback;
* ``captures``: a few 2xx captures (``timestamp``, ``status``; ``rejected`` with the reason
  when its replay turned out not to be the page: a bot challenge, an error page, thin or empty
  text; ``verified`` once its replay was judged to be the page): the nearest before and after
  the citation date, the newest two, the newest before the link first failed, the best
  choices in order (the copy and its fallbacks);
* ``excluded``: the site is excluded from the Wayback Machine;
* ``declared``: each declared ``archive_url`` with its verdict (``replays``, ``not_wayback``,
  ``mismatch``, ``calendar``, ``missing``, ``error``), ``declared_checked`` when;
* ``rescued``: the capture stored as the link's text snapshot (``timestamp``, ``result``);
* ``save_job`` (``id``, ``submitted``) while a Save Page Now job is unfinished; ``saved``
  (``submitted``, ``timestamp``) once one succeeded; ``save_error`` (``code``, ``at``);
* ``saved_this_run``: only in the run that requested the save (cleared by the next run).

On disk it is the ``wayback`` object of the link's ``state.json``: keys in :data:`KEY_ORDER`,
``url`` and ``timestamp`` always present (null when no copy is offered), every other key left
out when empty (None, False, ``[]``, ``{}``), ``declared`` sorted by archive URL. Keys this
version does not know are kept in :attr:`WaybackRecord.extra` and written back after the
known ones, so an older or newer state file round-trips.

Readers use its attributes; :meth:`WaybackRecord.to_dict` is the stored shape (what the state file
holds), :meth:`WaybackRecord.from_dict` reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import Field, dataclass, field, fields
from typing import TYPE_CHECKING, Any, ClassVar, Self

#: the stored keys, in the order they are written
KEY_ORDER = ("url", "timestamp", "verified", "looked_up", "source", "excluded", "captures", "declared",
             "declared_checked", "rescued", "save_job", "saved", "save_error", "saved_this_run")


@dataclass(frozen=True, slots=True, order=True)
class Known:
    """A capture as remembered in ``captures``: its timestamp, HTTP status and judgement."""

    timestamp: str
    status: int
    #: why its replay is not the page (never offered or replayed again)
    rejected: str | None = None
    #: its replay was judged to be the page (never replayed for that again)
    verified: bool = False

    @property
    def usable(self) -> bool:
        return 200 <= self.status < 300 and self.rejected is None

    @property
    def judged(self) -> bool:
        return self.verified or self.rejected is not None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"timestamp": self.timestamp, "status": self.status}
        if self.rejected:
            out["rejected"] = self.rejected
        elif self.verified:
            out["verified"] = True
        return out


def known_captures(entries: Any) -> list[Known]:
    """Stored ``captures`` entries as :class:`Known` captures, sorted, malformed entries skipped."""
    out = []
    for entry in entries if isinstance(entries, list) else []:
        try:
            out.append(Known(str(entry["timestamp"]), int(entry["status"]), entry.get("rejected"),
                             bool(entry.get("verified"))))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
    return sorted(set(out))


class _Sub:
    """A small stored object: its fields written in order, every one even when null."""

    __slots__ = ()
    #: every subclass is a dataclass (what fields() reads)
    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    if TYPE_CHECKING:  # each subclass's dataclass __init__, which takes its fields in order
        def __init__(self, *values: Any) -> None: ...

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_value(cls, value: Any) -> Self | None:
        if not isinstance(value, Mapping) or not value:
            return None
        return cls(*(value.get(f.name) for f in fields(cls)))


@dataclass(frozen=True, slots=True)
class Rescued(_Sub):
    """A capture stored as the link's text snapshot (origin ``wayback``)."""

    timestamp: str | None
    #: the snapshot store's action (``written``)
    result: str | None


@dataclass(frozen=True, slots=True)
class SaveJob(_Sub):
    """A Save Page Now job submitted and not finished yet (reconciled by a later run)."""

    id: str | None
    #: when it was submitted (ISO 8601)
    submitted: str | None


@dataclass(frozen=True, slots=True)
class Saved(_Sub):
    """The last capture Save Page Now made for the link."""

    submitted: str | None
    #: the capture's Wayback timestamp
    timestamp: str | None


@dataclass(frozen=True, slots=True)
class SaveError(_Sub):
    """Why the last save failed (Save Page Now's ``status_ext`` code, or ``unconfirmed``).

    A stored record, not an exception (archiver's exceptions are in ``archiver/errors.py``); the name
    is the key written in state files, so it stays."""

    code: str | None
    at: str | None


@dataclass(slots=True)
class WaybackRecord:
    """The Wayback knowledge of one link (see the module docstring for the stored form)."""

    #: the copy to cite (a replay URL), None when none is offered
    url: str | None = None
    #: its Wayback timestamp
    timestamp: str | None = None
    #: the copy's replay was judged to be the page
    verified: bool = False
    #: when the CDX index was last asked (ISO 8601)
    looked_up: str | None = None
    #: ``availability`` when the knowledge came from the availability API only (partial)
    source: str | None = None
    #: the site is excluded from the Wayback Machine
    excluded: bool = False
    #: the few captures worth remembering (see :mod:`archiver.wayback.policy`)
    captures: list[Known] = field(default_factory=list)
    #: the event files' declared archive URLs and their verdicts (``replays``, ``missing``, ...)
    declared: dict[str, str] = field(default_factory=dict)
    #: when the declared archive URLs were last checked
    declared_checked: str | None = None
    rescued: Rescued | None = None
    save_job: SaveJob | None = None
    saved: Saved | None = None
    save_error: SaveError | None = None
    #: set by the run that saved the link (the next run clears it)
    saved_this_run: bool = False
    #: stored keys this version does not know, written back unchanged
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> WaybackRecord:
        """The record of a stored ``wayback`` object; tolerant (malformed parts are dropped)."""
        data = data if isinstance(data, Mapping) else {}
        declared = data.get("declared")
        return cls(
            url=data.get("url"), timestamp=data.get("timestamp"), verified=data.get("verified") or False,
            looked_up=data.get("looked_up"), source=data.get("source"), excluded=data.get("excluded") or False,
            captures=known_captures(data.get("captures")),
            declared=dict(declared) if isinstance(declared, Mapping) else {},
            declared_checked=data.get("declared_checked"), rescued=Rescued.from_value(data.get("rescued")),
            save_job=SaveJob.from_value(data.get("save_job")), saved=Saved.from_value(data.get("saved")),
            save_error=SaveError.from_value(data.get("save_error")),
            saved_this_run=data.get("saved_this_run") or False,
            extra={k: v for k, v in data.items() if k not in KEY_ORDER})

    def to_dict(self) -> dict[str, Any]:
        """The stored form: :data:`KEY_ORDER`, empty values left out, ``declared`` sorted, then :attr:`extra`."""
        out: dict[str, Any] = {"url": self.url, "timestamp": self.timestamp}
        values: dict[str, Any] = {
            "verified": self.verified, "looked_up": self.looked_up, "source": self.source, "excluded": self.excluded,
            "captures": [c.to_dict() for c in self.captures], "declared": dict(sorted(self.declared.items())),
            "declared_checked": self.declared_checked,
            "rescued": self.rescued.to_dict() if self.rescued else None,
            "save_job": self.save_job.to_dict() if self.save_job else None,
            "saved": self.saved.to_dict() if self.saved else None,
            "save_error": self.save_error.to_dict() if self.save_error else None,
            "saved_this_run": self.saved_this_run,
        }
        for key, value in values.items():
            if value not in (None, False, [], {}):
                out[key] = value
        for key, value in self.extra.items():
            if value not in (None, False, [], {}):
                out[key] = value
        return out

    def copy(self) -> WaybackRecord:
        """An independent copy (sub-records are immutable; lists and dicts are copied)."""
        return WaybackRecord.from_dict(self.to_dict())

    @staticmethod
    def ensure(state: Any) -> WaybackRecord:
        """``state.wayback``, created empty (no copy offered) when the link has none yet."""
        if state.wayback is None:
            state.wayback = WaybackRecord()
        record: WaybackRecord = state.wayback
        return record
