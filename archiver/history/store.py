"""Link state on disk: ``snapshots/<host>/<slug>--<hash>/state.json``, one file per link.

Why this format: the nightly job commits ``snapshots/`` to git, so the state must
review well. One small JSON file per link (fields in a fixed order, one per line)
means a run that changes nothing for a link changes no byte of it, a recheck with
the same verdict changes two or three lines of that link's file only, and a diff
names the link by its folder. Each file is written atomically (temp file, then
rename; not fsynced, see :func:`archiver.support.atomic.write_bytes`) as soon as its check
finishes, so ``kill -9`` loses at most the checks in flight; shards write disjoint
folders, so merging them is a union. Files that did not change are never rewritten.

The run record ``snapshots/run.json`` holds the last run's metadata and what it
changed, so ``archiver report`` can rebuild the reports without the network.
A lock file (``snapshots/.archiver.lock``, :mod:`archiver.history.lock`) keeps two runs off the same state.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from ..errors import StoreError
from ..models import Finding, FindingKind, Link, Severity
from ..reportmodel.health import HealthTally
from ..support import atomic
from ..support.storepaths import link_dir, link_folders
from .health_memory import HEALTH_FILE, HealthMemory
from .linkstate import LinkState, new_state

STATE_FILE = "state.json"
RUN_FILE = "run.json"


def dumps(data: Any) -> str:
    """The one serialisation used for committed JSON: stable, one field per line."""
    return json.dumps(data, indent=1, ensure_ascii=False) + "\n"


@dataclass(slots=True)
class StateStore:
    root: Path
    states: dict[str, LinkState] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    #: bytes last read or written per link, so unchanged states are never rewritten
    _written: dict[str, str] = field(default_factory=dict)
    writes: int = 0

    # ------------------------------------------------------------------ paths

    def folder(self, normalized_url: str) -> Path:
        return self.root / link_dir(normalized_url)

    def path(self, normalized_url: str) -> Path:
        return self.folder(normalized_url) / STATE_FILE

    def state_for(self, link: Link, now: dt.datetime) -> LinkState:
        """The link's stored state, or a new one first seen ``now`` (not added, not saved)."""
        state = self.states.get(link.normalized_url)
        if state is None:
            state = new_state(link.url, link.normalized_url, now)
        return state

    # ------------------------------------------------------------------ load and save

    def load(self) -> StateStore:
        """Read every ``state.json`` under the root (a damaged one is a finding, kept aside)."""
        for path in self._state_files():
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
                text = data.decode("utf-8")
                state = LinkState.from_dict(orjson.loads(data))
            except FileNotFoundError:  # a link folder with snapshots and no state yet
                continue
            except (OSError, ValueError, KeyError, TypeError) as exc:
                rel = Path(path).relative_to(self.root).as_posix()
                self.findings.append(Finding(kind=FindingKind.STATE_ERROR, severity=Severity.WARNING,
                                             message=f"link state {rel} is unreadable ({exc}); it is kept as "
                                                     f"{STATE_FILE}.damaged and the link starts afresh",
                                             file=path))
                with contextlib.suppress(OSError):
                    os.replace(path, path + ".damaged")
                continue
            self.states[state.normalized_url] = state
            self._written[state.normalized_url] = text
        return self

    def _state_files(self) -> list[str]:
        """``<root>/<host>/<link>/state.json`` paths in sorted order."""
        return [os.path.join(folder, STATE_FILE) for folder in link_folders(self.root)]

    def save(self, state: LinkState) -> bool:
        """Write one link's state atomically; False when nothing changed. A failed write raises
        :class:`~archiver.errors.StoreError` (an ``OSError``) naming the file."""
        self.states[state.normalized_url] = state
        text = dumps(state.to_dict())
        if self._written.get(state.normalized_url) == text:
            return False
        _write(self.path(state.normalized_url), text, fsync=False)
        self._written[state.normalized_url] = text
        self.writes += 1
        return True

    # ------------------------------------------------------------------ run record

    def read_run(self) -> dict[str, Any] | None:
        path = self.root / RUN_FILE
        try:
            record = json.loads(path.read_text("utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            problem = str(exc)
        else:
            if isinstance(record, dict):
                return record
            problem = f"a JSON {type(record).__name__}, not an object"
        self.findings.append(Finding(kind=FindingKind.STATE_ERROR, severity=Severity.WARNING,
                                     message=f"run record {path} is unreadable ({problem})", file=str(path)))
        return None

    def write_run(self, record: dict[str, Any]) -> None:
        _write(self.root / RUN_FILE, dumps(record))

    # ------------------------------------------------------------------ the events' health (issue 22)

    def read_health(self) -> HealthMemory | None:
        """The events' health the last recording run left (``health.json``); None when there is none (an
        unreadable one is a finding, and the next run starts afresh)."""
        path = self.root / HEALTH_FILE
        try:
            data = orjson.loads(path.read_bytes())
            if not isinstance(data, dict):
                raise ValueError(f"a JSON {type(data).__name__}, not an object")
            return HealthMemory.from_dict(data)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            self.findings.append(Finding(kind=FindingKind.STATE_ERROR, severity=Severity.WARNING,
                                         message=f"event health record {path} is unreadable ({exc})",
                                         file=str(path)))
            return None

    def write_health(self, memory: HealthMemory) -> None:
        """Write ``health.json`` atomically (orjson, indented: one event a line)."""
        data = orjson.dumps(memory.to_dict(), option=orjson.OPT_INDENT_2) + b"\n"
        _write(self.root / HEALTH_FILE, data.decode("utf-8"))

    def read_health_trend(self) -> list[HealthTally]:
        """Events by health after each recorded run, oldest first (the reports' trend); [] when none."""
        memory = self.read_health()
        return list(memory.trend) if memory is not None else []


def _write(path: Path, text: str, *, fsync: bool = True) -> None:
    """``atomic.write_text``, its ``OSError`` raised as a :class:`StoreError` that names the file."""
    try:
        atomic.write_text(path, text, fsync=fsync)
    except OSError as exc:
        raise StoreError(f"cannot write {path}: {exc}") from exc
