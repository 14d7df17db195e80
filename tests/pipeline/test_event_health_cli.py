"""Event health through the CLI (issue 22): ``archiver check`` then ``archiver run`` a day later against a
loopback site, the Wayback double and a Memento double, then ``archiver report``: one event per state and
health, precision first (a dead link no archive was asked about is ``unknown``, not ``lost``), an event whose
only readable source is another archive's copy is ``ok``, health changing between the runs
(``previous_health``, the findings, the trend, ``--fail-on event-lost``), and reports valid against both
schemas. One world for the module: three commands in all."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner, Result

from archiver.cli import cli
from archiver.history.store import StateStore
from archiver.report.build import load_schema
from tests.pipeline.test_nightly import Web
from tests.support.farm import Farm
from tests.support.memento_double import MementoDouble, archives_file
from tests.support.wayback_double import WaybackDouble, article

CONTRACT = Path(__file__).resolve().parents[2].parent / "shared" / "contracts" / "report-v1.schema.json"
NIGHT1, NIGHT2 = "2024-05-01T02:00:00Z", "2024-05-02T02:00:00Z"


@dataclass
class Nights:
    root: Path
    reports: dict[str, dict[str, Any]]
    results: dict[str, Result]
    files: dict[str, str]

    def event(self, night: str, name: str) -> dict[str, Any]:
        (found,) = [e for e in self.reports[night]["events"] if e["id"] == name]
        return found


def _event(folder: Path, name: str, urls: list[str]) -> str:
    sources = "".join(f"  - url: {u}\n    title: Story {i}\n    publisher: Example News\n    date: 2024-03-12\n"
                      f"    tier: {1 if i == 0 else 2}\n" for i, u in enumerate(urls))
    path = folder / f"{name}.md"
    path.write_text(f"---\nid: {name}\ndate: 2024-03-12\ntitle: {name}\nsources:\n{sources}---\n\nBody.\n", "utf-8")
    return path.relative_to(folder.parent).as_posix()


def _env(double: WaybackDouble, archives: Path, now: str) -> dict[str, str | None]:
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith(("ARCHIVER_", "IA_"))}
    env.update({"ARCHIVER_WAYBACK_URL": double.base_url, "ARCHIVER_AVAILABILITY_URL": double.base_url,
                "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_CDX_PER_MINUTE": "6000",
                "ARCHIVER_REPLAY_PER_MINUTE": "6000", "ARCHIVER_ARCHIVE_PER_MINUTE": "6000",
                "ARCHIVER_ARCHIVES_FILE": str(archives), "ARCHIVER_ARCHIVE_TIMEOUT": "2",
                "ARCHIVER_PER_HOST_GAP": "0", "ARCHIVER_NOW": now, "ARCHIVER_SNAPSHOT_PAGES": "false",
                "ARCHIVER_SOFT404_PROBE": "false", "ARCHIVER_ATTEMPTS": "1", "ARCHIVER_BACKOFF_BASE": "0",
                "ARCHIVER_CONNECT_TIMEOUT": "1", "ARCHIVER_READ_TIMEOUT": "2", "ARCHIVER_TOTAL_TIMEOUT": "3",
                "ARCHIVER_WAYBACK_PAUSE": "0.4"})
    return env


def _invoke(root: Path, command: str, env: dict[str, str | None], *extra: str) -> Result:
    cwd = os.getcwd()
    os.chdir(root)
    try:
        return CliRunner().invoke(cli, [command, "--events", "events", "--snapshots", "snapshots", "--report-dir",
                                        "reports", *extra], env=env, catch_exceptions=False)
    finally:
        os.chdir(cwd)


def _report(root: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((root / "reports" / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(data)
    if CONTRACT.exists():
        contract = json.loads(CONTRACT.read_text("utf-8"))
        jsonschema.Draft202012Validator(contract, format_checker=jsonschema.FormatChecker()).validate(data)
    return data


@pytest.fixture(scope="module")
def nights(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nights]:
    """Night 1: ``archiver check`` (no archive asked). Night 2, a day later: ``archiver run --fail-on
    event-lost`` (the Wayback double and the Memento double asked), after an event gained a dead source.
    Then ``archiver report`` (rebuilt from the stored state) and one with a second archive configured."""
    root = tmp_path_factory.mktemp("health")
    farm = Farm().start()
    try:
        web = Web(farm, 1)
        host = web.hosts[0]
        double = WaybackDouble().start(farm)
        loc = MementoDouble("loc", "Library of Congress").start(farm)
        listed = archives_file(root / "archives.yaml", [loc])
        url = host.url
        for path in ("/gone", "/gone-w", "/gone-c", "/gone-new"):
            web.status[path] = 404
        web.status["/walled"] = 403
        loc.add(url("/gone-c"), "20240301000000", article(url("/gone-c"), ["as-cited"]))
        events = root / "events"
        events.mkdir()
        files = {"ok": _event(events, "ok", [url("/alive")]),
                 "weakened": _event(events, "weakened", [url("/alive-2"), url("/gone-w")]),
                 "lost": _event(events, "lost", [url("/gone")]),
                 "copy": _event(events, "copy", [url("/gone-c")]),
                 "unknown": _event(events, "unknown", [url("/walled")]),
                 "became-weakened": _event(events, "became-weakened", [url("/alive-3")])}
        results, reports = {}, {}
        results["check"] = _invoke(root, "check", _env(double, listed, NIGHT1))
        reports["check"] = _report(root)
        _event(events, "became-weakened", [url("/alive-3"), url("/gone-new")])  # a source added between nights
        results["run"] = _invoke(root, "run", _env(double, listed, NIGHT2), "--fail-on", "event-lost")
        reports["run"] = _report(root)
        results["report"] = _invoke(root, "report", _env(double, listed, NIGHT2))
        reports["report"] = _report(root)
        ukwa = MementoDouble("ukwa", "UK Web Archive").start(farm)  # configured later: not asked yet
        results["more"] = _invoke(root, "report", _env(double, archives_file(root / "more.yaml", [loc, ukwa]),
                                                       NIGHT2))
        reports["more"] = _report(root)
        yield Nights(root, reports, results, files)
    finally:
        farm.stop()


def test_the_first_night_a_dead_link_no_archive_was_asked_about_is_unknown(nights: Nights) -> None:
    assert nights.results["check"].exit_code == 0, nights.results["check"].output
    health = {e["id"]: e["health"] for e in nights.reports["check"]["events"]}
    assert health == {"ok": "ok", "weakened": "weakened", "lost": "unknown", "copy": "unknown",
                      "unknown": "unknown", "became-weakened": "ok"}
    assert nights.reports["check"]["summary"]["events"] == {"lost": 0, "weakened": 1, "unknown": 3, "ok": 2}
    lost = nights.event("check", "lost")
    assert lost["sources"] == {"live": 0, "copy": 0, "lost": 0, "unknown": 1} and lost["previous_health"] is None
    assert lost["file"] == nights.files["lost"] and lost["title"] == "lost" and lost["date"] == "2024-03-12"
    assert not [f for f in nights.reports["check"]["findings"] if f["kind"].startswith("evidence_")]


def test_after_every_archive_answered_each_state_and_health(nights: Nights) -> None:
    report = nights.reports["run"]
    health = {e["id"]: (e["health"], e["previous_health"]) for e in report["events"]}
    assert health == {"ok": ("ok", None), "weakened": ("weakened", None), "lost": ("lost", "unknown"),
                      "copy": ("ok", "unknown"), "unknown": ("unknown", None), "became-weakened": ("weakened", "ok")}
    assert report["summary"]["events"] == {"lost": 1, "weakened": 2, "unknown": 1, "ok": 2}
    states = {link["url"].rsplit("/", 1)[1]: link["evidence_state"] for link in report["links"]}
    assert states == {"alive": "live", "alive-2": "live", "alive-3": "live", "gone": "lost", "gone-w": "lost",
                      "gone-c": "copy", "gone-new": "lost", "walled": "unknown"}
    (copy_link,) = [link for link in report["links"] if link["url"].endswith("/gone-c")]
    assert copy_link["copy"]["archive"] == "loc" and copy_link["copy"]["verified"] is True
    assert nights.event("run", "copy")["tier1_readable"] is True
    assert nights.event("run", "lost")["tier1_readable"] is False
    assert nights.event("run", "weakened")["sources"] == {"live": 1, "copy": 0, "lost": 1, "unknown": 0}


def test_the_findings_the_fail_on_and_the_summary_line(nights: Nights) -> None:
    result = nights.results["run"]
    assert result.exit_code == 1, result.output
    assert f"--fail-on event-lost): 1 event(s) became lost: {nights.files['lost']}" in result.output
    assert "events: 2 ok, 2 weakened, 1 lost, 1 unknown" in result.output
    findings = {(f["kind"], f["event"]): f for f in nights.reports["run"]["findings"]
                if f["kind"].startswith("evidence_")}
    # a lost event, every night it is lost; an event that became weakened (not one that was weakened before)
    assert set(findings) == {("evidence_lost", "lost"), ("evidence_weakened", "became-weakened")}
    lost = findings[("evidence_lost", "lost")]
    assert (lost["severity"], lost["file"], lost["line"]) == ("error", nights.files["lost"], 6)  # its first source
    assert "source 0: cite a new source" in lost["fix"]
    weakened = findings[("evidence_weakened", "became-weakened")]
    assert weakened["severity"] == "warning" and "was ok" in weakened["message"]
    assert nights.reports["run"]["summary"]["findings"]["evidence_lost"] == 1


def test_the_trend_and_a_rebuilt_report(nights: Nights) -> None:
    trend = StateStore(nights.root / "snapshots").read_health_trend()
    assert [(t.counts["lost"], t.counts["weakened"], t.counts["unknown"], t.counts["ok"]) for t in trend] == [
        (0, 1, 3, 2), (1, 2, 1, 2)]
    assert nights.results["report"].exit_code == 0
    assert nights.reports["report"]["events"] == nights.reports["run"]["events"]
    # another archive configured since: the dead links it was not asked about are unknown, not lost
    more = {e["id"]: e["health"] for e in nights.reports["more"]["events"]}
    assert more["lost"] == "unknown" and more["copy"] == "ok" and more["became-weakened"] == "weakened"
    assert StateStore(nights.root / "snapshots").read_health_trend() == trend  # rebuilds record nothing
