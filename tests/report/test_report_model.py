"""The typed report (archiver/report/model.py): JSON read and written in one place, byte for byte.

A report a run wrote reads back into the model and writes the same bytes (the nightly test's
reports do the same on real runs: tests/report/test_report_json.py); every optional part of the
contract survives the round trip and validates against the shipped schema and the shared one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from archiver.models import Citation, Finding, FindingKind, Hop, LinkStatus, Severity
from archiver.report.build import load_schema
from archiver.reportmodel import (
    ArchivedCopy,
    ArchivesRun,
    EventHealth,
    EventSources,
    LinkEntry,
    LinkExtras,
    Replacement,
    Report,
    RunChange,
    RunRecord,
    SnapshotVersion,
    Summary,
    TextCopy,
    WaybackCopy,
    WaybackRun,
    merge_extras,
)
from tests.support.reportdata import Ev, Src, build

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "report-v1.schema.json"
URL = "https://news-site.net/story"


def _schemas() -> list[dict[str, Any]]:
    out = [load_schema()]
    if CONTRACT.exists():
        out.append(json.loads(CONTRACT.read_text("utf-8")))
    return out


def _validate(data: dict[str, Any]) -> None:
    for schema in _schemas():
        jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(data)


def every_part() -> Report:
    """A report with every optional field the model knows set at least once."""
    cite = Citation(event="2024-01-01--e", file="events/2024-01-01--e.md", source_index=0, line=12)
    dead = LinkEntry(
        url=URL, normalized_url=URL, status=LinkStatus.DEAD, confirmed=True, http_status=404,
        final_url=URL + "/", redirects=[Hop(URL, 301), Hop(URL + "/", 404)], evidence="HTTP 404",
        checked_at="2026-03-04T02:00:00Z", first_failed_at="2026-02-20T02:00:00Z", failures=3,
        last_alive_at="2026-01-01T02:00:00Z", domain="news-site.net", citations=[cite],
        archive_urls=["https://web.archive.org/web/2020/" + URL], moved_to=None,
        wayback=WaybackCopy(url="https://web.archive.org/web/20240101000000/" + URL, timestamp="20240101000000",
                            saved_this_run=True, verified=True),
        archives=[ArchivedCopy("archive.today", "https://archive.ph/20240101000000/" + URL, "2024-01-01T00:00:00Z",
                               True)],
        copy=ArchivedCopy("wayback", "https://web.archive.org/web/20240101000000/" + URL, "2024-01-01T00:00:00Z",
                          True),
        elapsed=0.25, content_type="text/html", connection_failure=True, body_truncated=True,
        snapshot=TextCopy(path="snapshots/news-site.net/story/snapshot.md", sha256="0" * 64,
                          captured_at="2024-01-01T00:00:00Z", origin="archive", archive="archive.today",
                          action="kept", latest=SnapshotVersion("snapshots/x/snapshot-2.md", "1" * 64,
                                                                "2024-02-01T00:00:00Z"),
                          similarity=0.5, changed_words=40, reason="the stored copy is better"),
        snapshot_note="the stored copy is better", snapshot_place="extra", outlet="News Site",
        replacement=Replacement(url=URL + "-moved", method="sitemap", evidence="the sitemap lists it",
                                title_similarity=0.9, checked_at="2026-03-04T02:00:00Z"))
    stub = LinkEntry(url="https://thin-site.net/", normalized_url="https://thin-site.net/", status=LinkStatus.ALIVE,
                     citations=[cite], snapshot_note="thin text", snapshot_place="extra", elapsed=0.1)
    run = RunRecord(started_at="2026-03-04T02:00:00.123456Z", finished_at="2026-03-04T02:03:00Z", budgets_hit=["time"],
                    stage_seconds={"check": 1.235, "audit": 0}, checked=2, due=3, notes=["a note"],
                    changes=[RunChange("newly_confirmed", URL, "dead", "dead")], new_findings=["x"], requests=5,
                    hosts=2, shards=["1/2", "2/2"], wayback=WaybackRun("wayback: 1 copy", 3),
                    archives=ArchivesRun("archives: 1 copy", 1.5, {"cdx": {"done": 1, "failed": 0, "left": 0,
                                                                          "busy_seconds": 0.5}},
                                         {"saves": 2}))
    finding = Finding(kind=FindingKind.DEAD_LINK, severity=Severity.ERROR, message="gone", file=cite.file, line=12,
                      event=cite.event, source_index=0, url=URL, expected=1, actual=[1, 2], fix="archive_url: x",
                      data={"similarity": 0.5})
    events = [EventHealth(id=cite.event, file=cite.file, health="weakened", sources=EventSources(1, 0, 1, 0),
                          title="An event", date="2024-01-01", tier1_readable=True, previous_health="ok")]
    summary = Summary(links={"alive": 1, "dead": 1}, confirmed=1, findings={"dead_link": 1}, citations=2,
                      text_copies={"News Site": {"live": 0, "wayback": 0, "archive": 1, "none": 0}},
                      events={"weakened": 1})
    return Report(generated_at="2026-03-04T02:03:00Z", run=run, summary=summary, links=[dead, stub],
                  findings=[finding], events=events)


def test_every_optional_part_round_trips_and_follows_the_contract() -> None:
    report = every_part()
    data = report.to_json()
    parsed = json.loads(data)
    _validate(parsed)
    again = Report.from_json(data)
    assert again.to_json() == data
    assert again.links[0].snapshot == report.links[0].snapshot and again.run == report.run
    assert parsed["links"][0]["snapshot"]["origin"] == "archive"  # the archive is named apart
    assert parsed["links"][1]["snapshot"] is None  # a run that stored no text says so, with its note
    assert "wayback" not in parsed["links"][1] and "copy" not in parsed["links"][1]


def test_a_report_without_the_later_contract_parts_leaves_them_out() -> None:
    b = build([Ev("e", [Src("https://a-site.net/1", status="dead", confirmed=True), Src("https://b-site.net/2")])])
    data = b.data
    _validate(data)
    assert "events" not in data and "events" not in data["summary"]
    assert all("replacement" not in link for link in data["links"])
    assert Report.from_dict(data).to_json() == b.report.to_json()


def test_the_renderers_read_the_model_from_json_as_they_read_it_built() -> None:
    from archiver.report.html import html_report
    from archiver.report.markdown import markdown_report

    b = build([Ev("e", [Src("https://a-site.net/1", status="dead", confirmed=True, outlet="A Site",
                            wayback="https://web.archive.org/web/20200101000000/https://a-site.net/1"),
                        Src("https://b-site.net/2", status="blocked"), Src("not a url")])],
              changes=[{"kind": "newly_confirmed", "url": "https://a-site.net/1", "status": "dead",
                        "previous": "dead"}])
    read = Report.from_json(b.report.to_json())
    assert markdown_report(read, b.events) == markdown_report(b.report, b.events)
    assert html_report(read, b.events) == html_report(b.report, b.events)


def test_extras_merge_field_by_field_later_parts_winning() -> None:
    snap = TextCopy(path="p", sha256=None, captured_at=None, origin="live")
    merged = merge_extras({"a": LinkExtras(elapsed=1.0, content_type="text/html")},
                          {"a": LinkExtras(snapshot=snap, snapshot_set=True), "b": LinkExtras(outlet="B")},
                          {"a": LinkExtras(snapshot=None, snapshot_set=True, snapshot_note="failed"),
                           "b": LinkExtras(outlet="B2")})
    assert merged["a"] == LinkExtras(elapsed=1.0, content_type="text/html", snapshot=None, snapshot_set=True,
                                     snapshot_note="failed")
    assert merged["b"].outlet == "B2"


def test_a_report_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="not an object"):
        Report.from_json(b"[]")
