"""A local Memento archive on a loopback address: TimeMaps in link format and mementos with Memento-Datetime.

A real HTTP server (:class:`tests.support.farm.Farm`) speaking the Memento protocol as the public archives do:

* **TimeMap** ``GET /timemap/link/<URL>`` (pywb-style archives: Library of Congress ``/all/timemap/link/``,
  Arquivo.pt ``/wayback/timemap/link/``, UK Web Archive ``/wayback/archive/timemap/link/``; archive.today
  ``/timemap/``, per MemGator's archive list, github.com/oduwsdl/MemGator ``docs/archives.json``): 200
  ``application/link-format`` (RFC 7089 §5, with the link syntax of RFC 8288 §3 / RFC 6690), entries
  ``rel="original"``, ``rel="self"`` with ``from``/``until``, ``rel="timegate"``, then mementos with
  ``datetime`` as IMF-fixdate (RFC 7089 §2.1.1, RFC 7231 §7.1.1.1); the first and last carry ``first memento``
  / ``last memento`` (``first last memento`` alone; RFC 7089 §2.2.1 and §5 example). Entries are written in a
  shuffled order and across lines (parsers must not assume order). Nothing archived: 404 (RFC 7089 §5).
* **Memento** ``GET /<14 digits>[id_]/<URL>``: 200 with ``Memento-Datetime`` and ``Link`` naming the original
  and the timegate (RFC 7089 §2.1.1, §2.2); ``id_`` is pywb's raw replay of the original bytes
  (pywb.readthedocs.io, "Archival URL" modifiers). A capture of an error page is replayed with its archived
  status and ``Memento-Datetime`` (an archived 404); a 200 memento may still be an error page in its content.
* **Behaviours** of real archives (MemGator's notes; archive.today's CAPTCHA for scripts, UKWA's 451):
  ``mode`` ``ok``, ``slow`` (answers after ``delay`` seconds: a timeout), ``error`` (503), ``refuse`` (403),
  ``captcha`` (200 HTML CAPTCHA page), ``legal`` (451). A down archive is :meth:`Farm.closed_port`.

Every request is logged with its arrival time (:attr:`MementoDouble.log`), so tests and the benchmark measure
the calls per minute where the archive would. Nothing here leaves the machine.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.wayback_double import http_date

CAPTCHA = (b"<!DOCTYPE html><html><head><title>One more step</title></head><body><h1>Please complete the "
           b"security check</h1><div class=\"g-recaptcha\" data-sitekey=\"x\"></div></body></html>")
_MEMENTO = re.compile(r"^/(?P<ts>\d{14})(?P<raw>id_)?/(?P<original>.+)$")


@dataclass
class Memo:
    original: str
    timestamp: str
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"


@dataclass
class MementoDouble:
    """One Memento archive; :meth:`start` puts it on the farm; :meth:`entry` is its archive-list entry."""

    id: str
    name: str = ""
    raw: bool = True
    per_minute: float = 6000.0
    mode: str = "ok"
    delay: float = 3.0
    captures: dict[str, list[Memo]] = field(default_factory=dict)
    log: list[tuple[float, str, int]] = field(default_factory=list)
    host: FarmHost | None = None
    seed: int = 7

    def start(self, farm: Farm) -> MementoDouble:
        self.host = farm.add(f"memento-{self.id}", self.handle)
        return self

    @property
    def base_url(self) -> str:
        assert self.host is not None
        return self.host.origin

    def entry(self, base: str | None = None) -> dict[str, object]:
        base = base or self.base_url
        return {"id": self.id, "name": self.name or self.id, "base": base, "timemap": "{base}/timemap/link/{url}",
                "memento": "{base}/{timestamp}/{url}", "raw": "{base}/{timestamp}id_/{url}" if self.raw else None,
                "per_minute": self.per_minute, "hosts": []}

    def add(self, original: str, timestamp: str, body: bytes, status: int = 200) -> str:
        self.captures.setdefault(original, []).append(Memo(original, timestamp, status, body))
        return f"{self.base_url}/{timestamp}/{original}"

    def hits(self, kind: str | None = None) -> list[tuple[float, str, int]]:
        return [h for h in self.log if kind is None or h[1] == kind]

    def timemap(self, original: str) -> bytes:
        memos = sorted(self.captures.get(original, []), key=lambda m: m.timestamp)
        entries = [f'<{original}>; rel="original"',
                   f'<{self.base_url}/timemap/link/{original}>; rel="self"; type="application/link-format";\n'
                   f'  from="{http_date(memos[0].timestamp)}"; until="{http_date(memos[-1].timestamp)}"',
                   f'<{self.base_url}/timegate/{original}>; rel="timegate"']
        for i, m in enumerate(memos):
            rel = " ".join([*(["first"] if i == 0 else []), *(["last"] if i == len(memos) - 1 else []), "memento"])
            entries.append(f'<{self.base_url}/{m.timestamp}/{original}>; rel="{rel}";\n  datetime="'
                           f'{http_date(m.timestamp)}"')
        random.Random(self.seed).shuffle(entries)
        return (",\n".join(entries) + "\n").encode()

    async def handle(self, req: Request, conn: Conn) -> None:
        path = req.path
        kind = "timemap" if path.startswith("/timemap/") else "memento"
        if self.mode == "slow":
            self.log.append((time.monotonic(), kind, 0))
            await asyncio.sleep(self.delay)
            await conn.send(200, b"late")
            return
        special = {"error": (503, b"Service Unavailable"), "refuse": (403, b"Forbidden"),
                   "legal": (451, b"Unavailable For Legal Reasons"), "captcha": (200, CAPTCHA)}.get(self.mode)
        if special is not None:
            self.log.append((time.monotonic(), kind, special[0]))
            await conn.send(special[0], special[1])
            return
        if kind == "timemap":
            original = path.removeprefix("/timemap/link/")
            status = 200 if self.captures.get(original) else 404
            self.log.append((time.monotonic(), kind, status))
            if status == 404:
                await conn.send(404, b"Not Found", content_type="text/plain")
            else:
                await conn.send(200, self.timemap(original), content_type="application/link-format")
            return
        m = _MEMENTO.match(path)
        memo = None
        if m:
            memo = next((c for c in self.captures.get(m["original"], []) if c.timestamp == m["ts"]), None)
        if memo is None or m is None:
            self.log.append((time.monotonic(), kind, 404))
            await conn.send(404, b"Not Found", content_type="text/plain")
            return
        if m["raw"] and not self.raw:
            self.log.append((time.monotonic(), kind, 404))
            await conn.send(404, b"Not Found", content_type="text/plain")
            return
        self.log.append((time.monotonic(), kind, memo.status))
        headers = {"Memento-Datetime": http_date(memo.timestamp),
                   "Link": f'<{memo.original}>; rel="original", <{self.base_url}/timegate/{memo.original}>; '
                           f'rel="timegate"'}
        await conn.send(memo.status, memo.body, headers=headers, content_type=memo.content_type)


def archives_file(path: Path, doubles: list[MementoDouble], extra: list[dict[str, object]] | None = None) -> Path:
    """An ``archives_file`` listing ``doubles`` (and ``extra`` entries, e.g. a down archive)."""
    path.write_text(yaml.safe_dump([d.entry() for d in doubles] + (extra or []), sort_keys=False), "utf-8")
    return path

