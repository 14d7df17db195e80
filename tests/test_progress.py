"""Progress lines: the estimate of the time left, and the plain lines CI logs get."""

from __future__ import annotations

import io

import pytest

from archiver.support.progress import Cadence, StageProgress, duration, eta


def test_eta_from_the_pace_so_far_else_from_the_expected_rate() -> None:
    assert eta(0, 100, 0.0) is None  # nothing done, no rate: cannot tell
    assert eta(0, 100, 0.0, rate=0.4) == pytest.approx(250.0)  # 24 lookups a minute: 100 take 250 s
    assert eta(25, 100, 50.0, rate=0.4) == pytest.approx(150.0)  # 2 s each so far, the pace wins over the rate
    assert eta(100, 100, 80.0) == 0.0
    assert eta(120, 100, 80.0) == 0.0
    assert eta(5, None, 10.0, rate=1.0) is None  # no total, no estimate


def test_duration_reads_well() -> None:
    assert [duration(s) for s in (4, 89, 90, 1260, 5340, 5400, 9000)] == \
        ["4 s", "89 s", "2 min", "21 min", "89 min", "1 h 30 min", "2 h 30 min"]


def test_plain_lines_show_the_time_left() -> None:
    out = io.StringIO()
    with StageProgress("wayback lookups", 500, stream=out, cadence=Cadence(every=0, rate=0.4)) as bar:
        bar._start -= 10  # ten seconds have passed when the first lookup ends
        bar.advance()
    lines = out.getvalue().splitlines()
    assert lines[0] == "wayback lookups: starting (500 items, about 21 min left)"
    assert lines[1].startswith("wayback lookups: 1/500 done, 10s, about ") and lines[1].endswith(" left")
    assert "about 83 min left" in lines[1]  # 10 s a lookup, 499 to go
    assert lines[-1].startswith("wayback lookups: 1 done in ")
    quiet = io.StringIO()
    with StageProgress("check", 3, stream=quiet, enabled=False) as bar:
        bar.advance(3)
    assert quiet.getvalue() == "" and bar.left() == 0.0


def test_a_terminal_gets_a_bar_with_the_time_left() -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = Tty()
    with StageProgress("check", 4, stream=out) as bar:
        bar.advance(2)
    text = out.getvalue()
    # elapsed, then the time left (rich shows -:--:-- until it has a pace: within a second here)
    assert "check" in text and "2/4" in text and "0:00:00" in text and "-:--:--" in text
