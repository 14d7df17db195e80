"""LinkState.wayback as a typed record: the stored JSON is exactly what the dict-based code wrote."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from archiver.history.linkstate import LinkState
from archiver.history.store import dumps
from archiver.history.wayback_record import KEY_ORDER, Known, Rescued, SaveError, SaveJob, WaybackRecord

URL = "https://www.rivertongazette.com/news/2024/03/12/council-cameras/"
COPY = f"https://web.archive.org/web/20240310120000/{URL}"


def old_normalise(wb: Mapping[str, Any]) -> dict[str, Any]:
    """The stored form as ``wayback_policy.normalise`` wrote it before the record (the oracle)."""
    out: dict[str, Any] = {}
    for key in KEY_ORDER:
        value = wb.get(key)
        if key in ("url", "timestamp"):
            out[key] = value
        elif value not in (None, False, [], {}):
            out[key] = dict(sorted(value.items())) if key == "declared" else value
    return out


EVERY_KEY: dict[str, Any] = {
    "saved_this_run": True, "save_error": {"code": "error:too-many-daily-captures", "at": "2024-05-01T02:00:00Z"},
    "saved": {"submitted": "2024-04-01T02:00:00Z", "timestamp": "20240401020000"},
    "save_job": {"id": "spn2-abc", "submitted": "2024-05-01T02:00:00Z"},
    "rescued": {"timestamp": "20240310120000", "result": "written"},
    "declared_checked": "2024-05-01T02:00:00Z",
    "declared": {f"https://web.archive.org/web/2024/{URL}": "replays",  # unsorted: written sorted
                 "https://web.archive.org/web/2024*/x": "calendar"},
    "captures": [{"timestamp": "20240101120000", "status": 200, "rejected": "a bot challenge: Just a moment"},
                 {"timestamp": "20240310120000", "status": 200, "verified": True}],
    "excluded": True, "source": "availability", "looked_up": "2024-05-01T02:00:00Z", "verified": True,
    "timestamp": "20240310120000", "url": COPY,
}

CASES = [
    {"url": None, "timestamp": None},
    {"url": None, "timestamp": None, "looked_up": "2024-05-01T02:00:00Z"},
    EVERY_KEY,
    # empty values are left out, url/timestamp always written
    {"looked_up": "2024-05-01T02:00:00Z", "captures": [], "declared": {}, "excluded": False, "saved_this_run": False,
     "verified": None, "save_job": None},
    {"url": COPY, "timestamp": "20240310120000", "saved": {"submitted": "2024-05-01T02:00:00Z", "timestamp": None}},
]


@pytest.mark.parametrize("stored", CASES)
def test_to_dict_is_the_old_normalised_dict_byte_for_byte(stored: dict[str, Any]) -> None:
    record = WaybackRecord.from_dict(stored)
    assert dumps(record.to_dict()) == dumps(old_normalise(stored))
    assert dumps(WaybackRecord.from_dict(record.to_dict()).to_dict()) == dumps(record.to_dict())


def test_fields_are_typed_and_the_stored_form_keeps_its_order() -> None:
    record = WaybackRecord.from_dict(EVERY_KEY)
    assert record.save_job == SaveJob("spn2-abc", "2024-05-01T02:00:00Z")
    assert record.save_error == SaveError("error:too-many-daily-captures", "2024-05-01T02:00:00Z")
    assert record.rescued == Rescued("20240310120000", "written")
    assert record.captures == [Known("20240101120000", 200, "a bot challenge: Just a moment"),
                               Known("20240310120000", 200, None, True)]
    stored = record.to_dict()
    assert list(stored) == list(KEY_ORDER) and stored["save_job"] == {"id": "spn2-abc",
                                                                      "submitted": "2024-05-01T02:00:00Z"}
    assert stored == old_normalise(EVERY_KEY) and "extra" not in stored
    assert not isinstance(record, Mapping)  # read by attribute; to_dict() is the stored form
    record.save_job, record.saved_this_run = None, False
    assert "save_job" not in record.to_dict() and "saved_this_run" not in record.to_dict()


def test_unknown_keys_and_malformed_parts_survive_or_are_dropped_not_fatal() -> None:
    stored = {"url": None, "timestamp": None, "looked_up": "2024-05-01T02:00:00Z", "newer_key": {"a": 1},
              "captures": [{"timestamp": "20240101120000", "status": "200"}, {"status": 200}, "junk"],
              "save_job": "not an object", "declared": ["not", "a", "mapping"]}
    record = WaybackRecord.from_dict(stored)
    assert record.extra == {"newer_key": {"a": 1}} and record.save_job is None and record.declared == {}
    assert record.captures == [Known("20240101120000", 200)]
    assert record.to_dict() == {"url": None, "timestamp": None, "looked_up": "2024-05-01T02:00:00Z",
                                "captures": [{"timestamp": "20240101120000", "status": 200}],
                                "newer_key": {"a": 1}}


def test_ensure_creates_an_empty_record_once() -> None:
    state = LinkState(url=URL, normalized_url=URL, first_seen="2024-01-01T00:00:00Z")
    record = WaybackRecord.ensure(state)
    assert state.wayback is record and WaybackRecord.ensure(state) is record
    assert state.to_dict()["wayback"] == {"url": None, "timestamp": None}
    assert record and record.url is None and record.timestamp is None


def roundtrip_state_files(root: Path) -> int:
    """Every state.json under ``root`` that holds a wayback object is written back byte-identical, and
    its wayback object is what the old normalise() made of it. Returns how many were compared."""
    compared = 0
    for path in sorted(root.rglob("state.json")):
        raw = path.read_text("utf-8")
        data = json.loads(raw)
        if "wayback" not in data:
            continue
        assert dumps(LinkState.from_dict(data).to_dict()) == raw, path
        assert dumps(data["wayback"]) == dumps(old_normalise(data["wayback"])), path
        compared += 1
    return compared

