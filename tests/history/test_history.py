"""Link history rules with a controllable clock: confirmation, resets, offline runs, due-time spreading."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from pathlib import Path

import pytest

from archiver.config import Settings
from archiver.history.linkstate import HISTORY_RUNS, LinkState, apply_result, new_state
from archiver.history.lock import LockError, run_lock
from archiver.history.schedule import (
    CheckPriority,
    due_priority,
    resting,
    select_due,
)
from archiver.history.store import StateStore
from archiver.models import CheckResult

T0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
S = Settings(snapshot_pages=False)  # the snapshot rule has its own test


def day(n: float) -> dt.datetime:
    return T0 + dt.timedelta(days=n)


def verdict(status: str, when: dt.datetime, http: int | None = None) -> CheckResult:
    codes = {"alive": 200, "dead": 404, "soft_404": 200, "blocked": 403, "error": 503}
    return CheckResult(url="https://a.org/x", status=status, checked_at=when,  # type: ignore[arg-type]
                       http_status=http if http is not None else codes.get(status))


def fresh() -> LinkState:
    return new_state("https://a.org/x", "https://a.org/x", T0)


def kinds(changes: list) -> list[str]:
    return [c.kind for c in changes]


def test_dead_is_confirmed_after_three_checks_over_three_days() -> None:
    state = fresh()
    assert kinds(apply_result(state, verdict("dead", day(0)), S)) == ["newly_failing"]
    assert kinds(apply_result(state, verdict("dead", day(1)), S)) == []
    assert kinds(apply_result(state, verdict("dead", day(2)), S)) == []  # 3 checks, but only 2 days
    assert not state.confirmed and state.failures == 3
    assert kinds(apply_result(state, verdict("dead", day(3)), S)) == ["newly_confirmed"]
    assert state.confirmed and state.first_failed == "2026-03-01T02:00:00Z"


def test_many_checks_in_one_day_do_not_confirm() -> None:
    state = fresh()
    for hour in range(10):
        apply_result(state, verdict("dead", T0 + dt.timedelta(hours=hour)), S)
    assert state.failures == 10 and not state.confirmed


def test_three_days_need_three_checks() -> None:
    state = fresh()
    apply_result(state, verdict("dead", day(0)), S)
    apply_result(state, verdict("dead", day(5)), S)
    assert not state.confirmed


def test_success_resets_and_reports_recovery() -> None:
    state = fresh()
    for n in range(4):
        apply_result(state, verdict("dead", day(n)), S)
    assert state.confirmed
    assert kinds(apply_result(state, verdict("alive", day(4)), S)) == ["recovered"]
    assert (state.confirmed, state.failures, state.first_failed, state.last_alive) == (
        False, 0, None, "2026-03-05T02:00:00Z")
    apply_result(state, verdict("dead", day(5)), S)
    apply_result(state, verdict("dead", day(6)), S)
    apply_result(state, verdict("dead", day(7)), S)
    assert not state.confirmed  # the streak restarted on day 5: only 2 days


def test_inconclusive_neither_counts_nor_resets() -> None:
    state = fresh()
    apply_result(state, verdict("dead", day(0)), S)
    apply_result(state, verdict("error", day(1)), S)
    apply_result(state, verdict("blocked", day(2)), S)
    assert state.failures == 1 and state.first_failed is not None
    apply_result(state, verdict("soft_404", day(3)), S)
    apply_result(state, verdict("dead", day(4)), S)
    assert state.failures == 3 and state.confirmed


def test_failures_while_network_down_never_count() -> None:
    state = fresh()
    apply_result(state, verdict("alive", day(0)), S)
    for n in range(1, 6):
        assert apply_result(state, verdict("dead", day(n)), S, counted=False) == []
    assert (state.failures, state.confirmed, state.first_failed) == (0, False, None)
    assert state.history[-1].counted is False and state.history[-1].count == 5


def test_k_and_d_are_configurable() -> None:
    strict = Settings(confirm_checks=5, confirm_days=10)
    state = fresh()
    for n in range(0, 12, 2):
        apply_result(state, verdict("dead", day(n)), strict)
        assert state.confirmed == (n >= 10)


def test_history_is_compressed_and_bounded() -> None:
    state = fresh()
    for n in range(20):
        apply_result(state, verdict("alive", day(n)), S)
    assert len(state.history) == 1 and state.history[0].count == 20
    for n in range(40):
        apply_result(state, verdict("alive" if n % 2 else "error", day(20 + n)), S)
    assert len(state.history) == HISTORY_RUNS


def test_moved_is_a_change_once() -> None:
    state = fresh()
    result = verdict("alive", day(0))
    result.moved_to = "https://a.org/new"
    assert kinds(apply_result(state, result, S)) == ["moved"]
    result2 = verdict("alive", day(1))
    result2.moved_to = "https://a.org/new"
    assert kinds(apply_result(state, result2, S)) == []


def test_priorities() -> None:
    assert due_priority(None, T0, S) == CheckPriority.NEW
    failing = fresh()
    apply_result(failing, verdict("dead", day(0)), S)
    assert due_priority(failing, day(0.5), S) is None  # checked 12 h ago: a same-night rerun leaves it alone
    assert due_priority(failing, day(21 / 24), S) == CheckPriority.FAILING  # failing, unconfirmed: every night
    alive = fresh()
    apply_result(alive, verdict("alive", day(0)), S)
    assert due_priority(alive, day(0.5), S) is None
    assert due_priority(alive, day(8.1), S) == CheckPriority.STALE  # overdue whatever its night
    dead = fresh()
    for n in range(4):
        apply_result(dead, verdict("dead", day(n)), S)
    assert due_priority(dead, day(3.5), S) is None
    assert due_priority(dead, day(11.1), S) == CheckPriority.DEAD  # weekly: pages come back


@pytest.mark.parametrize("status", ["dead", "soft_404", "error"])
def test_failing_and_inconclusive_links_wait_failing_recheck_hours(status: str) -> None:
    state = fresh()
    apply_result(state, verdict(status, day(0)), S)
    priority = CheckPriority.ERROR if status == "error" else CheckPriority.FAILING
    assert [due_priority(state, day(0) + dt.timedelta(hours=h), S) for h in (0, 3, 19.9, 20, 30)] == \
        [None, None, None, priority, priority]
    assert due_priority(state, day(0) + dt.timedelta(hours=3), Settings(snapshot_pages=False,
                                                                        failing_recheck_hours=0)) == priority
    assert due_priority(state, day(0) + dt.timedelta(hours=5), Settings(snapshot_pages=False,
                                                                        failing_recheck_hours=4)) == priority
    assert resting({state.normalized_url: state}, [state.normalized_url], day(0.25), S) == \
        (1, day(0) + dt.timedelta(hours=20))
    assert resting({state.normalized_url: state}, [state.normalized_url], day(1), S) == (0, None)


def test_a_failure_that_did_not_count_does_not_wait() -> None:
    state = fresh()
    apply_result(state, verdict("dead", day(0)), S)
    apply_result(state, verdict("dead", day(1)), S, counted=False)  # the network was degraded that night
    assert due_priority(state, day(1) + dt.timedelta(hours=1), S) == CheckPriority.FAILING  # the retried job checks it
    apply_result(state, verdict("dead", day(1) + dt.timedelta(hours=1)), S)
    assert state.failures == 2 and due_priority(state, day(1) + dt.timedelta(hours=2), S) is None


def test_new_links_and_a_killed_runs_unsnapshotted_pages_never_wait() -> None:
    settings = Settings()
    assert due_priority(None, T0, settings) == CheckPriority.NEW
    state = fresh()
    apply_result(state, verdict("alive", day(0)), settings)  # checked, then the run was killed before the snapshot
    assert due_priority(state, day(0) + dt.timedelta(minutes=30), settings) == CheckPriority.FAILING


def _nights(reruns: list[float], recover_after: float | None = None, jitter: list[float] | None = None
            ) -> tuple[int | None, float | None, int]:
    """Nightly runs at 02:00 (plus ``jitter`` hours) and same-night reruns ``reruns`` hours later, on a
    link dead from night 0: (the night it is confirmed, the night a recovery is noticed, checks made)."""
    state = fresh()
    confirmed_on = recovered_on = None
    checks = 0
    for night in range(8):
        start = day(night) + dt.timedelta(hours=(jitter or [0.0] * 8)[night])
        for extra in [0.0, *reruns]:
            now = start + dt.timedelta(hours=extra)
            if due_priority(state, now, S) is None:
                continue
            checks += 1
            alive = recover_after is not None and night + extra / 24 >= recover_after
            changes = kinds(apply_result(state, verdict("alive" if alive else "dead", now), S))
            if "newly_confirmed" in changes and confirmed_on is None:
                confirmed_on = night
            if "recovered" in changes and recovered_on is None:
                recovered_on = night + extra / 24
    return confirmed_on, recovered_on, checks


def test_same_night_reruns_change_neither_confirmation_nor_recovery_nights() -> None:
    alone = _nights([])
    assert alone[0] == 3
    # a retried job 1 h later, a maintainer's run 6 h and 15 h later: each night is checked once, as alone
    assert _nights([1, 6, 15]) == alone
    # CI start times drifting by up to 3 h from night to night change nothing either
    assert _nights([1, 6], jitter=[3, 0, 2, 0, 3, 1, 0, 2])[:2] == _nights([], jitter=[3, 0, 2, 0, 3, 1, 0, 2])[:2]
    # a page back a few hours after night 1's run is seen by the night-2 run, with or without reruns before it
    assert _nights([], recover_after=1.1)[1] == 2 and _nights([1, 6], recover_after=1.1)[1] == 2


def test_alive_rechecks_spread_evenly_over_the_nights() -> None:
    states = {}
    for i in range(7000):
        key = f"https://site{i % 50}.org/article/{i}"
        state = new_state(key, key, T0)
        apply_result(state, verdict("alive", T0), S)
        states[key] = state
    per_night = []
    now = T0
    for night in range(1, 22):
        now = day(night)
        due = select_due(states, list(states), now, S)
        per_night.append(len(due))
        for key in due:
            apply_result(states[key], verdict("alive", now), S)
    # every night from the first on takes about a seventh; nobody waits past the cycle
    assert all(700 <= n <= 1300 for n in per_night), per_night
    assert sum(per_night[7:14]) == 7000
    for state in states.values():
        last = dt.datetime.fromisoformat(state.last_checked.replace("Z", "+00:00"))
        assert (now - last).days <= 7


def test_a_page_checked_but_never_snapshotted_is_due_again() -> None:
    settings = Settings()
    state = fresh()
    apply_result(state, verdict("alive", day(0)), settings)
    assert due_priority(state, day(0.5), settings) == CheckPriority.FAILING  # the run died before the snapshot
    state.extracted = state.last_checked
    assert due_priority(state, day(0.5), settings) is None


def test_select_due_puts_new_and_failing_first() -> None:
    alive, failing = fresh(), new_state("https://b.org/y", "https://b.org/y", T0)
    apply_result(alive, verdict("alive", day(-30)), S)
    apply_result(failing, verdict("dead", day(-1)), S)
    states = {alive.normalized_url: alive, failing.normalized_url: failing}
    order = select_due(states, ["https://a.org/x", "https://b.org/y", "https://c.org/new"], T0, S)
    assert order == ["https://c.org/new", "https://b.org/y", "https://a.org/x"]


# --------------------------------------------------------------------------- the store


def test_store_round_trip_and_unchanged_state_is_not_rewritten(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = fresh()
    apply_result(state, verdict("dead", day(0)), S)
    assert store.save(state) is True
    path = store.path(state.normalized_url)
    assert path.is_file() and path.parent.parent.name == "a.org"
    before = path.stat().st_mtime_ns
    assert store.save(state) is False
    again = StateStore(tmp_path).load()
    assert again.states[state.normalized_url] == state
    assert again.save(again.states[state.normalized_url]) is False
    assert path.stat().st_mtime_ns == before


def test_same_verdict_recheck_changes_few_lines(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = fresh()
    apply_result(state, verdict("alive", day(0)), S)
    store.save(state)
    path = store.path(state.normalized_url)
    old = path.read_text().splitlines()
    apply_result(state, verdict("alive", day(7)), S)
    store.save(state)
    new = path.read_text().splitlines()
    changed = [(a, b) for a, b in zip(old, new, strict=True) if a != b]
    assert len(old) == len(new)
    assert len(changed) == 4, changed  # last_checked, last_alive, history last, history count


def test_damaged_state_is_a_finding_and_kept_aside(tmp_path: Path) -> None:
    store = StateStore(tmp_path)
    state = fresh()
    store.save(state)
    path = store.path(state.normalized_url)
    path.write_text("{not json")
    loaded = StateStore(tmp_path).load()
    assert [f.kind for f in loaded.findings] == ["state_error"]
    assert not loaded.states
    assert path.with_name("state.json.damaged").read_text() == "{not json"


@pytest.mark.subprocess
def test_lock_refuses_a_live_holder_and_takes_over_a_stale_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                                               ) -> None:
    import os
    import socket
    import subprocess
    import sys

    with run_lock(tmp_path) as path:
        assert json.loads(path.read_text())["pid"] == os.getpid()
        with pytest.raises(LockError, match="holds"), run_lock(tmp_path):
            pass
    assert not (tmp_path / ".archiver.lock").exists()
    # a lock left by a process that is gone
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / ".archiver.lock").write_text(json.dumps({"pid": int(gone.stdout), "host": socket.gethostname()}))
    with run_lock(tmp_path):
        pass
    assert "taking over a stale lock" in capsys.readouterr().err


@pytest.mark.subprocess
def test_taking_over_a_stale_lock_removes_the_killed_run_s_temp_files(tmp_path: Path,
                                                                      capsys: pytest.CaptureFixture[str]) -> None:
    import socket
    import subprocess
    import sys

    from archiver.report.build import REPORT_FILES
    from archiver.support import atomic

    root, reports = tmp_path / "snapshots", tmp_path / "reports"
    link = root / "example.org" / "a-story--0123456789ab"
    link.mkdir(parents=True)
    reports.mkdir()
    leftovers = [link / ".snapshot.md.k3j_9x2a.tmp", root / ".run.json.abcdefgh.tmp",
                 reports / ".report.html.x1y2z3w4.tmp"]
    keep = [link / "state.json", link / "notes.tmp", reports / "report.html",
            reports / ".coverage.abcdefgh.tmp", reports / "nested"]  # not a report's temp file: someone else's
    for path in [*leftovers, *keep[:-1]]:
        path.write_text("x")
    keep[-1].mkdir()
    (keep[-1] / ".deep.json.abcdefgh.tmp").write_text("x")  # the report folder is cleaned at its top level only

    # no stale lock: a live writer's temp file looks the same, so nothing is removed
    with run_lock(root, also_clean=[(reports, REPORT_FILES)]):
        pass
    assert all(p.exists() for p in leftovers)

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (root / ".archiver.lock").write_text(json.dumps({"pid": int(gone.stdout), "host": socket.gethostname()}))
    with run_lock(root, also_clean=[(reports, REPORT_FILES)]):
        pass
    assert not any(p.exists() for p in leftovers)
    assert all(p.exists() for p in keep) and (keep[-1] / ".deep.json.abcdefgh.tmp").exists()
    assert "removed 3 unfinished temp file(s)" in capsys.readouterr().err
    # the temp names the writer really makes are the ones removed
    real = [Path(atomic._temp_beside(link / "snapshot.md", b"x", fsync=False)) for _ in range(20)]
    assert all(atomic._TEMP_NAME.match(p.name) for p in real)
    assert sorted(atomic.remove_leftovers(root)) == sorted(map(str, real))


def test_status_counts_are_stable() -> None:
    state = fresh()
    apply_result(state, verdict("dead", day(0)), S)
    apply_result(state, verdict("dead", day(1), http=410), S)
    assert Counter(r.status for r in state.history) == {"dead": 2}
