"""report.json against the contract, what changed between two runs, and `archiver report` offline.

Nightly runs are replayed with ARCHIVER_NOW against a loopback farm through the real
CLI (see test_nightly.py); every report is validated against the shipped schema.
"""

from __future__ import annotations

import io
import json
import socket
from dataclasses import replace
from pathlib import Path

import pytest

from archiver.config import load_settings
from archiver.history.known_findings import FINDINGS_FILE, fingerprint, record
from archiver.models import Finding, FindingKind, Severity
from archiver.pipeline.commands import regenerate_report
from archiver.reportmodel import Report
from tests.pipeline.test_nightly import VALIDATOR, Web, run, timeline
from tests.support.farm import Farm
from tests.support.reportdata import Ev, Src, build

CHECK_ONLY = ("elapsed", "content_type", "connection_failure", "body_truncated")


def reports(tmp: Path) -> tuple[dict, str, str]:
    folder = tmp / "reports-snapshots"
    raw = (folder / "report.json").read_bytes()
    assert Report.from_json(raw).to_json() == raw  # what a run wrote reads back into the model, every byte
    data = json.loads(raw)
    VALIDATOR.validate(data)
    return data, (folder / "report.md").read_text("utf-8"), (folder / "report.html").read_text("utf-8")


def test_synthetic_reports_follow_the_contract() -> None:
    b = build([Ev("e", [Src("https://a-site.net/1", status=s, confirmed=s == "dead",
                            wayback="https://web.archive.org/web/20200101000000/https://a-site.net/1")
                        for s in ("alive",)] + [Src(f"https://b-site.net/{s}", status=s) for s in
                                                ("dead", "soft_404", "blocked", "error", "unchecked")]
                  + [Src("javascript:alert(1)")])], new_findings=[])
    VALIDATOR.validate(b.data)
    assert set(b.report.summary.links) == {"alive", "dead", "soft_404", "blocked", "error", "unchecked",
                                                 "invalid"}


@pytest.mark.subprocess
def test_two_nights_changes_findings_and_offline_regeneration(farm: Farm, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    web = Web(farm, 2)
    urls = [web.hosts[i % 2].url(f"/news/story-{i}") for i in range(6)]
    web.status["/news/story-1"] = 404
    events = timeline(tmp_path / "events", urls)
    snapshots = tmp_path / "snapshots"

    first = run(tmp_path, "2026-03-01T02:00:00Z")
    assert first.returncode == 0, first.stderr
    report, md, html = reports(tmp_path)
    assert report["run"]["new_findings"] is None  # the first run sets the baseline
    assert [c["kind"] for c in report["run"]["changes"]] == ["newly_failing"]
    assert "**Newly failing (1)**" in md and urls[1] in md and "(first run" not in md.split("**Totals", 1)[0]
    assert "<!DOCTYPE html>" in html and urls[1] in html
    baseline = (snapshots / FINDINGS_FILE).read_bytes()
    assert all(e.get("outlet") for e in report["links"])  # the registry name, else the domain

    # night 2: story-1 is back, story-4 is gone, and an edit cites a tier the registry disagrees with
    web.status.pop("/news/story-1")
    web.status["/news/story-4"] = 410
    path = next(p for p in events.iterdir() if "--event-3" in p.name)
    path.write_text(path.read_text("utf-8").replace("title: Story 3\n", "title: Story 3\n    archive_url: "
                                                    "https://web.archive.org/web/2020/https://example.net/\n", 1),
                    "utf-8")
    second = run(tmp_path, "2026-03-09T02:00:00Z")  # a week on: every link is due
    assert second.returncode == 0, second.stderr
    report, md, html = reports(tmp_path)
    kinds = sorted((c["kind"], c["url"]) for c in report["run"]["changes"])
    assert kinds == [("newly_failing", urls[4]), ("recovered", urls[1])]
    new = report["run"]["new_findings"]
    assert new and all(p.startswith("archive_mismatch ") for p in new)
    screen = md.split("### ", 1)[0]
    assert "**Since the previous run:** 1 newly failing, 1 recovered, 1 new finding." in screen
    assert screen.index("**Newly failing (1)**") < screen.index("**Recovered (1)**") < screen.index("**Totals:**")
    assert "archive_url" in screen.split("**New findings (1)**", 1)[1]
    assert (snapshots / FINDINGS_FILE).read_bytes() != baseline

    # night 3: nothing changes: a quiet night, and findings.json keeps every byte
    kept = (snapshots / FINDINGS_FILE).read_bytes()
    third = run(tmp_path, "2026-03-10T02:00:00Z")
    assert third.returncode == 0, third.stderr
    report, md, html = reports(tmp_path)
    assert report["run"]["changes"] == [] and report["run"]["new_findings"] == []
    assert md.splitlines()[2].startswith("Quiet night: no link changed status and no new findings; 6 links, 5 alive, "
                                         "1 dead")
    assert (snapshots / FINDINGS_FILE).read_bytes() == kept

    # `archiver report` rebuilds the same reports from the stored state, without opening a socket
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("archiver report must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket.socket, "connect_ex", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.chdir(tmp_path)  # the check ran here: snapshot paths are relative to it
    for key in [k for k in __import__("os").environ if k.startswith("ARCHIVER_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("ARCHIVER_NOW", "2026-03-10T09:00:00Z")
    settings = load_settings(overrides={"events": events, "snapshots": snapshots,
                                        "report_dir": tmp_path / "reports-snapshots"})
    out = io.StringIO()
    assert regenerate_report(settings, out=out) == 0
    assert "report.json, report.md, report.html" in out.getvalue()
    again, md2, html2 = reports(tmp_path)
    assert md2 == md and html2 == html
    assert again["generated_at"] == "2026-03-10T09:00:00Z"

    def strip(r: dict) -> dict:
        r = json.loads(json.dumps(r))
        r.pop("generated_at")
        for link in r["links"]:
            for k in CHECK_ONLY:
                link.pop(k, None)
            if link.get("snapshot"):
                link["snapshot"].pop("action", None)
        return r

    assert strip(again) == strip(report)
    assert (snapshots / FINDINGS_FILE).read_bytes() == kept  # regenerating compares nothing, records nothing


def test_fingerprints_ignore_lines_and_wording(tmp_path: Path) -> None:
    a = Finding(kind=FindingKind.TIER_MISMATCH, severity=Severity.WARNING, file="events/a.md", line=10,
                source_index=2, url="https://x-site.net/", expected=1, actual=3, message="one wording")
    moved = replace(a, line=40, message="another wording")
    assert fingerprint(a) == fingerprint(moved)
    assert fingerprint(a) != fingerprint(replace(a, actual=2))
    assert fingerprint(a) == fingerprint(replace(a, expected=2))  # what the registry says is not the citation
    assert record(tmp_path, [a]) is None  # baseline
    stamp = (tmp_path / FINDINGS_FILE).stat().st_mtime_ns
    assert record(tmp_path, [moved]) == []
    assert (tmp_path / FINDINGS_FILE).stat().st_mtime_ns == stamp  # not even rewritten
    link_kind = replace(a, kind=FindingKind.DEAD_LINK)
    assert record(tmp_path, [a, link_kind]) == []  # link findings are the link history's business
    assert record(tmp_path, [a, replace(a, severity=Severity.INFO, source_index=4)]) == []  # hints are never "new"
    assert record(tmp_path, [a, replace(a, source_index=3)]) == [fingerprint(replace(a, source_index=3))]
