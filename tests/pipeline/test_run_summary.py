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
