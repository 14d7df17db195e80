"""The pacing of every archive call (one :class:`ArchiveLimiter` per night) and the SPN2 keys.

CDX lookups, replays, saves and status polls each have their own rate; a 429 from any of
them pauses every archive call of the night (see :mod:`archiver.wayback.client` for the
figures). There is no process-wide limiter: the night creates one and passes it to every
client that calls the Wayback Machine, so two nights in one process never share a pace or
a pause.
The Internet Archive keys (:class:`Credentials`) come from the environment only.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from .errors import DeadlineReached

#: SPN2 status polls a minute, at least (the archive publishes no limit; a poll every 3 s is what clients
#: use); five times ``save_per_minute`` when that is more
STATUS_PER_MINUTE = 20.0
#: spacing slack: starts are 1% further apart than the rate, so network jitter cannot push
#: an extra call into a window at the server
SLACK = 1.01
ACCESS_ENV, SECRET_ENV = "IA_ACCESS_KEY", "IA_SECRET_KEY"


@dataclass(frozen=True)
class Credentials:
    """Internet Archive S3 keys (from the environment only). ``repr`` never shows them."""

    access: str = field(repr=False)
    secret: str = field(repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Credentials | None:
        env = os.environ if env is None else env
        access, secret = env.get(ACCESS_ENV, "").strip(), env.get(SECRET_ENV, "").strip()
        return cls(access, secret) if access and secret else None

    def header(self) -> str:
        return f"LOW {self.access}:{self.secret}"

    def scrub(self, text: str) -> str:
        for value in (self.header(), f"{self.access}:{self.secret}", self.secret, self.access):
            if value:
                text = text.replace(value, "***")
        return text

    def __repr__(self) -> str:
        return "Credentials(***)"


class ArchiveLimiter:
    """The pacing of one night's archive calls, by kind, with a shared pause after a 429.

    The night owns it and passes it to each client (:class:`~archiver.wayback.client.WaybackClient`,
    :class:`~archiver.archives.client.MementoClient`) that calls the Wayback Machine.

    Thread-safe and loop-agnostic: a slot is reserved under a lock (starts of one kind are
    spaced ``60 / per_minute`` seconds apart, times :data:`SLACK`), then awaited. A pause
    moves every later start past its end.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._last: dict[str, float] = {}
        self._unsent: dict[str, int] = {}
        self.paused_until = 0.0
        self.pauses = 0

    def _reserve(self, kind: str, per_minute: float) -> float:
        with self._lock:
            now = time.monotonic()
            start = max(now, self._next.get(kind, 0.0), self.paused_until)
            self._next[kind] = start + 60.0 / per_minute * SLACK
            return start

    async def acquire(self, kind: str, per_minute: float, deadline: float | None = None, *,
                      track: bool = False) -> Grant:
        """Wait for this kind's next slot (and any pause); :class:`DeadlineReached` if it starts too late.

        Slots are spaced from the calls' actual starts too: a call that started late (a busy
        event loop) pushes the next one back rather than letting two go out close together.
        With ``track``, the next call of the kind also waits until this one's request is out
        (:meth:`Grant.sent`), and is spaced from that moment.
        """
        interval = 60.0 / per_minute * SLACK
        while True:
            start = self._reserve(kind, per_minute)
            if deadline is not None and start > deadline:
                raise DeadlineReached("the run's time budget ends before the next archive call could start",
                                      transient=False)
            wait = start - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            while True:
                with self._lock:
                    now = time.monotonic()
                    if self.paused_until > now:
                        break  # paused meanwhile: take a new slot after the pause
                    last = self._last.get(kind)
                    if self._unsent.get(kind, 0) > 0:
                        remainder = 0.002  # the previous call is not out yet
                    elif last is None or now - last >= interval:
                        self._last[kind] = now
                        if track:
                            self._unsent[kind] = self._unsent.get(kind, 0) + 1
                        return Grant(self, kind, track)
                    else:
                        remainder = last + interval - now
                await asyncio.sleep(remainder)

    def _sent(self, kind: str, *, out: bool) -> None:
        with self._lock:
            self._unsent[kind] = max(0, self._unsent.get(kind, 0) - 1)
            if out:
                self._last[kind] = max(self._last.get(kind, 0.0), time.monotonic())

    def pause(self, seconds: float) -> float:
        """Pause every archive call for ``seconds`` from now; returns when the pause ends (monotonic)."""
        with self._lock:
            self.paused_until = max(self.paused_until, time.monotonic() + seconds)
            self.pauses += 1
            return self.paused_until

    @property
    def paused(self) -> bool:
        return self.paused_until > time.monotonic()


class Grant:
    """A granted archive call; :meth:`sent` when its request is out, :meth:`done` when it is over."""

    def __init__(self, limiter: ArchiveLimiter, kind: str, tracked: bool) -> None:
        self.limiter, self.kind, self.open = limiter, kind, tracked

    def sent(self) -> None:
        if self.open:
            self.open = False
            self.limiter._sent(self.kind, out=True)

    def done(self) -> None:
        if self.open:  # failed before its request went out
            self.open = False
            self.limiter._sent(self.kind, out=False)
