"""Time stamps as written in state files, snapshots and reports (UTC, ``Z`` suffix).

Two writers on purpose: :func:`iso` (whole seconds: state files, snapshot headers, run
records) and :func:`iso_precise` (keeps microseconds: the report's ``started_at``,
``finished_at`` and ``generated_at``). Merging them would change report.json.
"""

from __future__ import annotations

import datetime as dt


def iso(stamp: dt.datetime) -> str:
    """``2024-05-01T12:00:00Z``: UTC, microseconds dropped."""
    return stamp.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def iso_precise(stamp: dt.datetime | None) -> str | None:
    """``2024-05-01T12:00:00.123456Z``: UTC, microseconds kept (None stays None)."""
    if stamp is None:
        return None
    return stamp.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def parse_iso(text: str | None) -> dt.datetime | None:
    """The datetime of a stamp written by :func:`iso` or :func:`iso_precise` (None for empty)."""
    if not text:
        return None
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
