"""A loopback host that allows one request every ``interval`` seconds and answers faster ones
with 429 and a ``Retry-After`` (an HTTP date, or delta-seconds).

The limit counts from the last request it accepted. HTTP dates have a resolution of one
second, so the date is rounded *up* (the host never asks for less than it needs), and the
host keeps to what it said: a request arriving before a date it gave is refused too. Every
arrival is logged with its wall-clock time, and every 429 with when it was written and
the time it asked the client to wait for, so :meth:`Throttle.early` can tell whether any
request came before a Retry-After had passed. Used by the tests and the throughput benchmark.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

#: a request arriving this soon after a 429 was written crossed it on the wire (the client
#: sent it before it could read the Retry-After): not counted as early
CROSSED = 0.02


@dataclass
class Throttle:
    interval: float
    form: str = "date"  # or "seconds"
    last_ok: float | None = None
    until: float = 0.0  # no request accepted before this (the latest Retry-After given)
    arrivals: list[tuple[float, str, int]] = field(default_factory=list)  # (wall time, path, status)
    promises: list[tuple[float, float]] = field(default_factory=list)  # (429 written at, retry at)

    def decide(self, path: str) -> tuple[int, dict[str, str]]:
        now = time.time()
        allowed = max(self.until, self.last_ok + self.interval if self.last_ok is not None else 0.0)
        if now >= allowed:
            self.last_ok = now
            self.arrivals.append((now, path, 200))
            return 200, {}
        retry_at = float(math.ceil(allowed))
        if self.form == "date":
            header = formatdate(retry_at, usegmt=True)
        else:
            seconds = math.ceil(allowed - now)
            retry_at = now + seconds
            header = str(seconds)
        self.until = max(self.until, retry_at)
        self.arrivals.append((now, path, 429))
        self.promises.append((now, retry_at))
        return 429, {"Retry-After": header}

    def early(self) -> list[tuple[float, str, float]]:
        """Requests that arrived before a Retry-After the host had given (arrival, path, retry at)."""
        out = []
        for at, path, _ in self.arrivals:
            for written, retry_at in self.promises:
                if written + CROSSED < at < retry_at:
                    out.append((at, path, retry_at))
                    break
        return out

    def accepted(self) -> list[float]:
        return [at for at, _, status in self.arrivals if status == 200]


def throttle_page(path: str) -> str:
    slug = path.rsplit("/", 1)[-1] or "home"
    words = " ".join(f"{slug}{i} report council budget minutes" for i in range(60))
    return (f"<!doctype html><html><head><title>Throttled {slug}</title></head>"
            f"<body><h1>Story {slug}</h1><p>{words}</p></body></html>")


def throttle_handler(throttle: Throttle) -> Any:
    from tests.support.farm import Conn, Request

    async def handle(req: Request, conn: Conn) -> None:
        status, headers = throttle.decide(req.path)
        if status == 429:
            await conn.send(429, "<html><title>Too many requests</title><p>Slow down</p></html>", headers)
        else:
            await conn.send(200, throttle_page(req.path))

    return handle
