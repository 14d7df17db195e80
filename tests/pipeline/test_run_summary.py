"""`archiver run`'s --fail-on rule and its one-screen summary."""

from __future__ import annotations

from pathlib import Path

from archiver.config import Settings
from archiver.pipeline.summary import fail_reason, run_summary
from archiver.reportmodel import Report


def _report(changes: list[dict], links: list[dict]) -> Report:
    return Report.from_dict(_data(changes, links))


def _data(changes: list[dict], links: list[dict]) -> dict:
    return {"generated_at": "2026-03-04T02:00:00Z",
            "run": {"changes": changes, "complete": True, "checked": 3, "due": 3, "network": "ok",
                    "stage_seconds": {"check": 1.25}, "new_findings": ["x"], "notes": []},
            "summary": {"links": {"alive": 2, "dead": 1}, "confirmed": 1}, "links": links}


DEAD = {"url": "https://a.org/gone", "status": "dead", "confirmed": True}
FAILING = {"url": "https://a.org/flaky", "status": "dead", "confirmed": False}
ALIVE = {"url": "https://a.org/ok", "status": "alive", "confirmed": False}


def test_fail_on_never_never_fails() -> None:
    assert fail_reason(_report([{"kind": "newly_confirmed", "url": DEAD["url"]}], [DEAD]), "never") is None


def test_fail_on_new_dead_needs_a_confirmation_in_this_run() -> None:
    assert fail_reason(_report([], [DEAD, ALIVE]), "new-dead") is None
    assert fail_reason(_report([{"kind": "newly_failing", "url": FAILING["url"]}], [FAILING]), "new-dead") is None
    reason = fail_reason(_report([{"kind": "newly_confirmed", "url": DEAD["url"]}], [DEAD]), "new-dead")
    assert reason and DEAD["url"] in reason


def test_fail_on_dead_counts_confirmed_links_only() -> None:
    assert fail_reason(_report([], [FAILING, ALIVE]), "dead") is None  # unconfirmed failures never fail a build
    assert fail_reason(_report([], [DEAD, ALIVE]), "dead")


def test_summary_says_what_changed_and_where_the_reports_are() -> None:
    text = run_summary(_report([{"kind": "newly_confirmed", "url": DEAD["url"]}], [DEAD, ALIVE, FAILING]),
                       Settings(report_dir=Path("out")))
    lines = text.splitlines()
    assert lines[0] == "== archiver run (complete)"
    assert lines[1] == "changes: 1 newly confirmed dead, 1 new finding(s)"
    assert "out/report.md" in lines[-1]
    assert len(lines) <= 12  # one screen
    quiet = run_summary(Report.from_dict(_data([], [ALIVE]) | {"run": {"changes": [], "complete": False,
                                                                       "new_findings": None}}),
                        Settings())
    assert "none (a quiet night)" in quiet and "stopped early" in quiet


def test_fail_on_event_lost_needs_an_event_that_became_lost_and_the_events_line() -> None:
    """``event-lost``: lost now and another health after the last run, or a lost event whose evidence_lost
    finding is new (an event first seen lost); an event lost for a while does not fail the night again."""
    from archiver.history.known_findings import fingerprint
    from archiver.pipeline.summary import events_line
    from archiver.reportmodel import finding_from_dict

    def event(name: str, health: str, previous: str | None = None) -> dict:
        return {"id": name, "file": f"events/{name}.md", "health": health, "previous_health": previous,
                "sources": {"live": 0, "copy": 0, "lost": 1, "unknown": 0}}

    counts = {"lost": 3, "weakened": 211, "unknown": 66, "ok": 2503}
    data = _data([], [ALIVE])
    data["summary"]["events"] = counts
    data["events"] = [event("old", "lost"), event("ok", "ok", "weakened")]
    assert fail_reason(Report.from_dict(data), "event-lost") is None
    assert events_line(Report.from_dict(data)) == "events: 2,503 ok, 211 weakened, 3 lost, 66 unknown"
    data["events"].append(event("gone", "lost", "weakened"))
    assert fail_reason(Report.from_dict(data), "event-lost") == "1 event(s) became lost: events/gone.md"
    data["events"] = [event("old", "lost"), event("new", "lost")]
    found = {"kind": "evidence_lost", "severity": "error", "message": "m", "event": "new", "file": "events/new.md"}
    data["findings"] = [found]
    data["run"]["new_findings"] = [fingerprint(finding_from_dict(found))]
    assert fail_reason(Report.from_dict(data), "event-lost") == "1 event(s) became lost: events/new.md"
    del data["summary"]["events"]
    assert events_line(Report.from_dict(data)) is None
