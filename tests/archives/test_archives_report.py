"""report.json carries other archives' copies (links[].archives, links[].copy naming the archive, the text's
archive, per-outlet text copies) additively: every report validates against the shipped schema and the shared
contract, and the shipped schema keeps every expectation of the contract."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archiver.history.store import StateStore
from archiver.models import LinkStatus
from archiver.report.build import RunInfo, build_report, load_schema
from archiver.reportmodel import ArchivedCopy, LinkEntry, LinkExtras, TextCopy, WaybackCopy
from archiver.snapshots.store import SnapshotStore
from archiver.timeline.catalog import build_catalog, canonical_url
from archiver.timeline.load import load_events
from tests.archives.test_archives_stage import World
from tests.support.farm import Farm
from tests.support.memento_double import MementoDouble
from tests.support.wayback_double import article
from tests.wayback.test_wayback_stage import NOW, SITE

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "report-v1.schema.json"


def _validate(schema: dict[str, Any], report: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(report)


def _expectations(schema: Any, path: str = "") -> set[str]:
    """Every (path, keyword, value) the schema demands, as strings, for the superset check."""
    out: set[str] = set()
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in ("description", "title"):
                continue
            if isinstance(value, (dict, list)):
                out |= _expectations(value, f"{path}/{key}")
            else:
                out.add(f"{path}/{key}={json.dumps(value)}")
    elif isinstance(schema, list):
        if all(not isinstance(v, (dict, list)) for v in schema):
            out.add(f"{path}={json.dumps(sorted(map(str, schema)))}")
        else:
            for i, v in enumerate(schema):
                out |= _expectations(v, f"{path}/{i}")
    return out


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not beside the worktree")
def test_the_shipped_schema_keeps_every_expectation_of_the_shared_contract() -> None:
    contract = json.loads(CONTRACT.read_text("utf-8"))
    missing = _expectations(contract) - _expectations(load_schema())
    assert not missing, f"the shipped schema drops or changes: {sorted(missing)}"


def test_a_report_with_other_archives_validates_against_both_schemas(farm: Farm, tmp_path: Path) -> None:
    today = MementoDouble("archive.today", raw=False)
    w = World(tmp_path, farm, [today], wayback_down=True)
    url = w.cite(SITE + "council-cameras/", date="2024-03-12")
    w.verdict(url, "dead", since=dt.datetime(2024, 4, 1, 2, tzinfo=dt.UTC))
    today.add(url, "20240310080000", article(url, ["as-cited"]))
    outcome, _ = w.run_archives()
    catalog = build_catalog(load_events(w.events).events)
    snaps = SnapshotStore(w.snapshots)
    info = snaps.first(canonical_url(url))
    assert info is not None
    snapshot = TextCopy.from_dict({"path": "x", "sha256": info.text_sha256, "captured_at": info.captured_at,
                                   "origin": info.origin})
    extras = {canonical_url(url): LinkExtras(snapshot=snapshot, snapshot_set=True, outlet="Riverton Gazette")}
    built = build_report(catalog.links, StateStore(w.snapshots).load().states, outcome.findings,
                         RunInfo(started_at=NOW, finished_at=NOW, generated_at=NOW), extras=extras)
    report = json.loads(built.to_json())
    (entry,) = report["links"]
    memento = f"{today.base_url}/20240310080000/{url}"
    assert entry["copy"] == {"archive": "archive.today", "url": memento, "datetime": "2024-03-10T08:00:00Z",
                             "verified": True}
    assert entry["archives"] == [entry["copy"]]
    assert entry["snapshot"]["archive"] == "archive.today" and entry["snapshot"]["origin"] == "archive"
    assert report["summary"]["text_copies"] == {"Riverton Gazette": {"live": 0, "wayback": 0, "archive": 1,
                                                                     "none": 0}}
    _validate(load_schema(), report)
    if CONTRACT.exists():
        _validate(json.loads(CONTRACT.read_text("utf-8")), report)


def test_report_md_and_html_name_the_archive_of_the_copy() -> None:
    from archiver.report.html import _archived_html
    from archiver.report.markdown import archived_text

    link = LinkEntry(url=SITE + "x/", normalized_url=SITE + "x/", status=LinkStatus.DEAD,
                     wayback=WaybackCopy(url=None, timestamp=None),
                     copy=ArchivedCopy("loc", "https://webarchive.loc.gov/all/20240301000000/" + SITE + "x/", None,
                                       verified=True))
    assert archived_text(link).startswith("Library of Congress copy: ")
    assert ">Library of Congress</a>" in _archived_html(link)
    link.copy = ArchivedCopy("wayback", "https://web.archive.org/web/20240301000000/" + SITE + "x/", None, False)
    link.wayback = WaybackCopy(url=link.copy.url, timestamp="20240301000000")
    assert archived_text(link).startswith("Wayback copy: ") and ">Wayback</a>" in _archived_html(link)
