"""Progress display: a live bar on a terminal, a few plain lines in CI (no TTY)."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from .lanes import Lanes


def eta(done: int, total: int | None, elapsed: float, rate: float | None = None) -> float | None:
    """Seconds left: from the pace so far once something is done, else from ``rate`` (items a
    second, e.g. the archive's rate limit); None when it cannot be told."""
    if total is None:
        return None
    left = max(0, total - done)
    if left == 0:
        return 0.0
    if done > 0 and elapsed > 0:
        return elapsed / done * left
    if rate:
        return left / rate
    return None


def duration(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``: rounded for people."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def is_interactive(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@dataclass(frozen=True)
class Cadence:
    """How often a progress display prints (a line every ``every`` seconds at most) and the rate (items a
    second) its first estimate assumes before any item is done (None: no estimate until then)."""

    every: float = 30.0
    rate: float | None = None


class StageProgress:
    """``with StageProgress("check", total) as p: p.advance()``.

    On a terminal: a rich progress bar on stderr, with the time left. Otherwise (CI logs): one
    plain line at the start, then at most one line every ``every`` seconds with the time left
    (:func:`eta`), then one at the end. ``rate`` (items a second) gives the first estimate.
    """

    def __init__(self, label: str, total: int | None, stream: TextIO | None = None, enabled: bool = True,
                 cadence: Cadence = Cadence()) -> None:
        self.label = label
        self.total = total
        self.stream = stream or sys.stderr
        self.every, rate = cadence.every, cadence.rate
        self.enabled = enabled
        self.done = 0
        self.rate = rate
        self._rich: Progress | None = None
        self._task: TaskID | None = None
        self._last = 0.0
        self._start = 0.0

    def __enter__(self) -> StageProgress:
        self._start = self._last = time.monotonic()
        if not self.enabled:
            return self
        if is_interactive(self.stream):
            # rich is imported only for a terminal: CI logs get plain lines without it
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._rich = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                                  TimeElapsedColumn(), TimeRemainingColumn(), console=Console(file=self.stream),
                                  transient=False)
            self._rich.start()
            self._task = self._rich.add_task(self.label, total=self.total)
        else:
            first = eta(0, self.total, 0.0, self.rate)
            self._line(f"{self.label}: starting" + (f" ({self.total} items" + (
                f", about {duration(first)} left" if first else "") + ")" if self.total is not None else ""))
        return self

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._rich is not None and self._task is not None:
            self._rich.advance(self._task, n)
            return
        now = time.monotonic()
        if now - self._last >= self.every:
            self._last = now
            total = f"/{self.total}" if self.total is not None else ""
            left = self.left(now)
            self._line(f"{self.label}: {self.done}{total} done, {now - self._start:.0f}s"
                       + (f", about {duration(left)} left" if left is not None else ""))

    def left(self, now: float | None = None) -> float | None:
        """Seconds left by the pace so far (see :func:`eta`)."""
        return eta(self.done, self.total, (time.monotonic() if now is None else now) - self._start, self.rate)

    def _line(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._rich is not None:
            self._rich.stop()
        elif self.enabled:
            self._line(f"{self.label}: {self.done} done in {time.monotonic() - self._start:.1f}s")


class NightProgress:
    """``async with NightProgress(lanes):`` one progress display for the night's archive lanes.

    Every ``every`` seconds (on a terminal: every second, rewriting one line) it prints each lane's
    done and left counts and the time left at the busiest lane's pace so far
    (:meth:`~archiver.support.lanes.Lanes.eta`); one line when the lanes are done.
    """

    def __init__(self, lanes: Lanes, *, stream: TextIO | None = None, enabled: bool = True,
                 every: float = 30.0, label: str = "archives") -> None:
        self.lanes = lanes
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = is_interactive(self.stream)
        self.every = 1.0 if self.tty else every
        self.label = label
        self._task: asyncio.Task[None] | None = None

    def line(self) -> str:
        left = self.lanes.eta()
        return (f"{self.label}: {self.lanes.status() or 'nothing to do'}"
                + (f"; about {duration(left)} left" if left else ""))

    async def _tick(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            self._print(self.line())

    def _print(self, text: str) -> None:
        if self.tty:
            print("\r\x1b[2K" + text[:200], end="", file=self.stream, flush=True)
        else:
            print(text, file=self.stream, flush=True)

    async def __aenter__(self) -> NightProgress:
        if self.enabled:
            first = self.lanes.eta()
            print(f"{self.label}: starting ({self.lanes.queued() or 'nothing queued'}"
                  + (f", about {duration(first)} left" if first else "") + ")", file=self.stream, flush=True)
            self._task = asyncio.create_task(self._tick())
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        spent = (self.lanes.finished or time.monotonic()) - (self.lanes.started or time.monotonic())
        if self.tty:
            print("", file=self.stream, flush=True)
        print(f"{self.label}: {self.lanes.status() or 'nothing to do'} in {spent:.1f}s", file=self.stream,
              flush=True)
