"""A farm of slow local web hosts for throughput benchmarks (loopback only).

One asyncio process listens on many loopback addresses (127.0.0.2, 127.0.0.3, ...,
one real listening socket each, all on the same port) and answers like a small
news site with some latency:

* the paths listed in the manifest: ``200`` with a small HTML article (a few KB,
  with a ``<title>``), generated deterministically from the seed and the path;
* ``/robots.txt``: ``200``, allowing everything;
* anything else: ``404`` with a small error page (the checker's soft-404 probe);
* every answer waits a latency drawn uniformly in ``[min, max]`` from an RNG seeded
  with (seed, host, path): the same URL is always equally slow.

Run as a separate process (so its CPU is not charged to the client under test)::

    python benchmarks/latency_farm.py --manifest manifest.json --seed 1

It prints ``ready PORT`` on stdout once every socket is bound, then reads
commands on stdin, one a line, and answers each with one JSON line:

* ``stats``: per-host request counts, the most requests seen in flight at once to
  one host and the shortest gap between two request starts to one host (the
  politeness a client actually showed), first request start and last answer end
  and every request start (``time.monotonic()``, which is system-wide on Linux);
* ``reset``: clears the counters;
* ``quit`` or end of input: stops. The farm also stops by itself after
  ``--lifetime`` seconds.

The manifest is JSON: ``{"hosts": ["127.0.0.2", ...], "paths": {"127.0.0.2": ["/2019/05/x.html", ...]}}``.
The helpers :func:`host_address`, :func:`latency_for` and :func:`title_for` are
shared with the benchmark, which uses them to build URLs and compute bounds.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email.utils
import ipaddress
import json
import random
import resource
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROBOTS_TXT = b"User-agent: *\nAllow: /\n"
WORDS = (
    "administration", "agency", "analysis", "announced", "attorney", "audit", "board", "budget", "campaign",
    "committee", "company", "congress", "contract", "council", "court", "data", "department", "documents",
    "election", "emails", "federal", "filing", "funding", "government", "hearing", "investigation", "justice",
    "lawmakers", "lawsuit", "leaders", "market", "memo", "ministry", "officials", "oversight", "policy",
    "president", "privacy", "program", "records", "regulators", "report", "review", "ruling", "security", "senate",
    "statement", "subpoena", "surveillance", "testimony", "treasury", "vote", "warrant", "whistleblower",
    "witnesses", "agreement", "amendment", "briefing", "cabinet", "charges", "coalition", "commission",
    "compliance", "counsel", "decision", "disclosure", "enforcement", "ethics", "evidence", "executive", "governor",
    "grant", "inquiry", "inspector", "judge", "legislation", "license", "lobbying", "merger", "network", "nominee",
    "office", "panel", "petition", "probe", "prosecutor", "protest", "rules", "sanctions", "settlement", "spending",
    "staff", "strategy", "tariff", "technology", "trade", "transparency", "veto"
)
FILLER = (
    "the", "a", "of", "to", "and", "in", "that", "for", "on", "with", "as", "by", "at", "from", "was", "were",
    "said", "has", "had", "will", "would", "could", "after", "before", "while", "during", "under", "over", "about",
    "against", "between", "into", "through", "their", "its", "this", "those", "these", "which", "who"
)


def host_address(index: int) -> str:
    """The loopback address of host ``index`` (0-based): 127.0.0.2 ... 127.0.0.254, 127.0.1.1, ...

    Addresses ending in .0 or .255 are skipped; all of 127.0.0.0/8 is loopback on Linux.
    """
    block, pos = divmod(index + 1, 254)
    if block > 255:
        raise ValueError(f"too many hosts ({index + 1})")
    return str(ipaddress.IPv4Address(int(ipaddress.IPv4Address("127.0.0.0")) + block * 256 + pos + 1))


def latency_for(seed: int, host: str, path: str, lo: float, hi: float) -> float:
    """Seconds the farm waits before answering ``path`` on ``host`` (deterministic)."""
    return random.Random(f"latency|{seed}|{host}|{path}").uniform(lo, hi)


def title_for(path: str) -> str:
    """The article title the farm serves for ``path`` (``/2019/05/some-slug.html`` -> ``Some Slug``)."""
    slug = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html")
    words = [w for w in slug.split("-") if not w.isdigit()]
    return " ".join(w.capitalize() for w in words) or "Untitled"


def article_date(seed: int, host: str, path: str) -> str:
    """The publication date the farm's page for ``path`` shows (its year and month come from the path)."""
    parts = path.strip("/").split("/")
    day = random.Random(f"date|{seed}|{host}|{path}").randint(1, 28)
    return f"{parts[0]}-{parts[1]}-{day:02d}" if len(parts) >= 3 and parts[0].isdigit() else "2020-01-01"


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) if rng.random() < 0.45 else rng.choice(FILLER) for _ in range(rng.randint(9, 22))]
    return " ".join(words).capitalize() + "."


def article_html(seed: int, host: str, path: str, port: int = 80) -> bytes:
    """A small, realistic article page (about 2-5 KB) for ``path``."""
    rng = random.Random(f"body|{seed}|{host}|{path}")
    title = title_for(path)
    parts = path.strip("/").split("/")
    date = article_date(seed, host, path)
    author = f"{rng.choice(WORDS).capitalize()} {rng.choice(WORDS).capitalize()}"
    paragraphs = "\n".join(
        "    <p>" + " ".join(_sentence(rng) for _ in range(rng.randint(3, 6))) + "</p>"
        for _ in range(rng.randint(4, 8))
    )
    site = f"Site {host}"
    netloc_port = "" if port == 80 else f":{port}"
    html = f"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} | {site}</title>
  <meta name="description" content="{_sentence(rng)}">
  <meta property="og:title" content="{title}">
  <meta property="og:type" content="article">
  <meta property="article:published_time" content="{date}T09:00:00Z">
  <link rel="canonical" href="http://{host}{netloc_port}{path}">
</head>
<body>
  <header><nav><a href="/">Home</a> <a href="/politics/">Politics</a> <a href="/business/">Business</a></nav></header>
  <main>
  <article>
    <h1>{title}</h1>
    <p class="byline">By {author} &middot; <time datetime="{date}">{date}</time></p>
{paragraphs}
  </article>
  </main>
  <footer><p>&copy; {parts[0] if parts else 2020} {site}. All rights reserved.</p></footer>
</body>
</html>
"""
    return html.encode()


NOT_FOUND_HTML = (b"<!DOCTYPE html>\n<html><head><title>Page not found</title></head>"
                  b"<body><h1>404 Not Found</h1><p>The page you requested does not exist.</p></body></html>\n")


@dataclass(slots=True)
class HostStats:
    requests: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    methods: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    in_flight: int = 0
    max_in_flight: int = 0
    last_start: float | None = None
    min_gap: float | None = None
    min_gap_paths: tuple[str, str] | None = None  # the two requests that came closest
    last_path: str = ""
    starts: list[float] = field(default_factory=list)  # every request start (time.monotonic())
    first_start: float | None = None
    last_end: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "requests": self.requests, "kinds": dict(self.kinds), "methods": dict(self.methods),
            "connections": self.connections, "max_in_flight": self.max_in_flight, "min_gap": self.min_gap,
            "min_gap_paths": self.min_gap_paths, "starts": [round(t, 4) for t in self.starts],
            "first_start": self.first_start, "last_end": self.last_end,
        }


class Farm:
    def __init__(self, paths: dict[str, set[str]], seed: int, lo: float, hi: float) -> None:
        self.paths = paths
        self.seed = seed
        self.lo, self.hi = lo, hi
        self.stats: dict[str, HostStats] = {host: HostStats() for host in paths}
        self.servers: list[asyncio.Server] = []
        self.port = 0

    def reset(self) -> None:
        self.stats = {host: HostStats() for host in self.paths}

    async def bind(self, port: int, attempts: int = 20) -> int:
        """Listen on every host on one port (an ephemeral one when ``port`` is 0)."""
        hosts = list(self.paths)
        for _ in range(attempts):
            servers: list[asyncio.Server] = []
            try:
                first = await asyncio.start_server(self.handle, hosts[0], port, backlog=1024)
                servers.append(first)
                chosen = first.sockets[0].getsockname()[1]
                for host in hosts[1:]:
                    servers.append(await asyncio.start_server(self.handle, host, chosen, backlog=1024))
            except OSError:
                for server in servers:
                    server.close()
                if port:
                    raise
                continue
            self.servers = servers
            self.port = int(chosen)
            return self.port
        raise OSError("could not find a port free on every farm address")

    def respond(self, host: str, method: str, path: str) -> tuple[int, str, bytes, str]:
        if path == "/robots.txt":
            return 200, "text/plain; charset=utf-8", ROBOTS_TXT, "robots"
        if path in self.paths.get(host, ()):
            return 200, "text/html; charset=utf-8", article_html(self.seed, host, path, self.port), "page"
        return 404, "text/html; charset=utf-8", NOT_FOUND_HTML, "not_found"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        host = writer.get_extra_info("sockname")[0]
        stats = self.stats.get(host)
        if stats is not None:
            stats.connections += 1
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                try:
                    method, target, version = lines[0].split(" ", 2)
                except ValueError:
                    writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    return
                headers = {}
                for line in lines[1:]:
                    name, _, value = line.partition(":")
                    if name:
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0") or 0)
                if length:
                    await reader.readexactly(length)
                path = urlsplit(target).path or "/"
                keep_alive = headers.get("connection", "").lower() != "close" and version.upper() == "HTTP/1.1"
                await self.answer(writer, self.stats.get(host), host, method.upper(), path, keep_alive)
                if not keep_alive:
                    return
        except ConnectionError:
            return
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def answer(self, writer: asyncio.StreamWriter, stats: HostStats | None, host: str, method: str,
                     path: str, keep_alive: bool) -> None:
        start = time.monotonic()
        if stats is not None:
            stats.requests += 1
            stats.methods[method] += 1
            stats.in_flight += 1
            stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
            if stats.last_start is not None:
                gap = start - stats.last_start
                if stats.min_gap is None or gap < stats.min_gap:
                    stats.min_gap, stats.min_gap_paths = gap, (stats.last_path, path)
            stats.last_start = start
            stats.last_path = path
            stats.starts.append(start)
            if stats.first_start is None:
                stats.first_start = start
        try:
            await asyncio.sleep(latency_for(self.seed, host, path, self.lo, self.hi))
            if method not in ("GET", "HEAD"):
                status, ctype, body, kind = 405, "text/plain", b"method not allowed\n", "other"
            else:
                status, ctype, body, kind = self.respond(host, method, path)
            if stats is not None:
                stats.kinds[kind] += 1
            reason = {200: "OK", 404: "Not Found", 405: "Method Not Allowed"}[status]
            head = (
                f"HTTP/1.1 {status} {reason}\r\n"
                f"Date: {email.utils.formatdate(usegmt=True)}\r\n"
                "Server: latency-farm\r\n"
                # LinkChecker's documented opt-in: honour maxrequestspersecond exactly (no 0.1 s floor)
                "LinkChecker: allowed\r\n"
                f"Content-Type: {ctype}\r\n"
                f"Content-Length: {len(body)}\r\n"
                f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n\r\n"
            ).encode("latin-1")
            writer.write(head if method == "HEAD" else head + body)
            await writer.drain()
        finally:
            if stats is not None:
                stats.in_flight -= 1
                stats.last_end = time.monotonic()

    def snapshot(self) -> dict[str, Any]:
        return {"now": time.monotonic(), "hosts": {h: s.to_dict() for h, s in self.stats.items()}}


async def serve(manifest: dict[str, Any], seed: int, lo: float, hi: float, port: int, lifetime: float) -> None:
    paths = {host: set(manifest.get("paths", {}).get(host, ())) for host in manifest["hosts"]}
    for host in paths:
        if not ipaddress.ip_address(host).is_loopback:
            raise SystemExit(f"latency_farm: refusing to listen on non-loopback address {host}")
    farm = Farm(paths, seed, lo, hi)
    chosen = await farm.bind(port)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    print(f"ready {chosen}", flush=True)
    deadline = loop.time() + lifetime
    try:
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                print("latency_farm: lifetime reached, stopping", file=sys.stderr)
                break
            try:
                line = await asyncio.wait_for(reader.readline(), remaining)
            except TimeoutError:
                continue
            command = line.decode().strip()
            if not line or command == "quit":
                break
            if command == "stats":
                print(json.dumps(farm.snapshot()), flush=True)
            elif command == "reset":
                farm.reset()
                print(json.dumps({"ok": True}), flush=True)
            else:
                print(json.dumps({"error": f"unknown command {command!r}"}), flush=True)
    finally:
        for server in farm.servers:
            server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--manifest", type=Path, required=True, help="JSON: hosts and the paths each serves")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--min-latency", type=float, default=0.05, help="seconds (default 0.05)")
    parser.add_argument("--max-latency", type=float, default=0.2, help="seconds (default 0.2)")
    parser.add_argument("--port", type=int, default=0, help="port on every host (default: a free one)")
    parser.add_argument("--lifetime", type=float, default=3600.0, help="stop after this many seconds")
    args = parser.parse_args(argv)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    manifest = json.loads(args.manifest.read_text())
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(manifest, args.seed, args.min_latency, args.max_latency, args.port, args.lifetime))


if __name__ == "__main__":
    main()
