"""A farm of real HTTP(S) servers on loopback addresses (127.0.0.2, 127.0.0.3, ...).

Each :class:`FarmHost` listens on its own address (distinct addresses are distinct
hosts for politeness) and an OS-chosen port, in a background thread with its own
event loop, so the servers serve tests' clients and ``archiver check`` subprocesses
alike. Handlers write raw HTTP/1.1 with asyncio streams, so they can misbehave the
way real servers do: reset connections, stall, trickle bytes forever, send
compression bombs. Every request is logged with its arrival time and the number of
requests then in flight to that host.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

Handler = Callable[["Request", "Conn"], Awaitable[None]]


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    at: float
    in_flight: int = 0


class Conn:
    """The server side of one connection: helpers to answer, or to misbehave."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.sent = 0

    async def write(self, data: bytes) -> None:
        self.writer.write(data)
        self.sent += len(data)
        await self.writer.drain()

    async def send(self, status: int, body: bytes | str = b"", headers: dict[str, str] | None = None,
                   reason: str | None = None, content_type: str = "text/html; charset=utf-8") -> None:
        if isinstance(body, str):
            body = body.encode("utf-8")
        head = {"Content-Type": content_type, "Content-Length": str(len(body)), "Connection": "close"}
        head.update(headers or {})
        await self.write(_head(status, head, reason) + body)

    async def send_head(self, status: int, headers: dict[str, str]) -> None:
        await self.write(_head(status, {"Connection": "close", **headers}))

    def reset(self) -> None:
        """Close with a TCP RST (no answer at all)."""
        sock = self.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()


REASONS = {200: "OK", 301: "Moved Permanently", 302: "Found", 307: "Temporary Redirect", 308: "Permanent Redirect",
           401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed", 410: "Gone",
           418: "I'm a teapot", 429: "Too Many Requests", 451: "Unavailable For Legal Reasons",
           500: "Internal Server Error", 503: "Service Unavailable"}


def _head(status: int, headers: dict[str, str], reason: str | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason or REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass
class FarmHost:
    name: str
    ip: str
    handler: Handler
    scheme: str = "http"
    port: int = 0
    requests: list[Request] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    ssl_context: ssl.SSLContext | None = None
    server: Any = None

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{self.ip}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def hits(self, path_prefix: str = "") -> list[Request]:
        return [r for r in list(self.requests) if r.path.startswith(path_prefix)]

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        counted = False
        try:
            try:
                raw = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError, ConnectionError,
                    ssl.SSLError):
                return
            lines = raw.decode("latin-1").split("\r\n")
            method, path, _ = [*lines[0].split(" ", 2), "", ""][:3]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            self.in_flight += 1
            counted = True
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            self.requests.append(Request(method, path, headers, time.monotonic(), self.in_flight))
            await self.handler(self.requests[-1], conn)
        except (ConnectionError, ssl.SSLError, asyncio.CancelledError):
            pass
        finally:
            if counted:
                self.in_flight -= 1
            with contextlib.suppress(Exception):
                if not writer.transport.is_closing():
                    writer.close()


def bindable(ip: str) -> bool:
    try:
        with socket.socket() as s:
            s.bind((ip, 0))
        return True
    except OSError:
        return False


_IP_LOCK = threading.Lock()
_NEXT_IP = [2]  # shared by every farm of the process: distinct farms never share an address


def free_ip() -> str:
    """The next bindable 127.0.0.x address nobody in this process has taken."""
    with _IP_LOCK:
        while _NEXT_IP[0] < 255:
            ip = f"127.0.0.{_NEXT_IP[0]}"
            _NEXT_IP[0] += 1
            if bindable(ip):
                return ip
    raise RuntimeError("no bindable 127.0.0.x address left")


class Farm:
    """Owns the background loop; ``add`` starts a host and returns once it is listening."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="farm", daemon=True)
        self.hosts: dict[str, FarmHost] = {}
        self._started = False

    def start(self) -> Farm:
        self.thread.start()
        self._started = True
        return self

    def run(self, coro: Awaitable[Any], timeout: float = 10) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)  # type: ignore[arg-type]

    def add(self, name: str, handler: Handler, ssl_context: ssl.SSLContext | None = None,
            ip: str | None = None) -> FarmHost:
        host = FarmHost(name=name, ip=ip or free_ip(), handler=handler, scheme="https" if ssl_context else "http",
                        ssl_context=ssl_context)

        async def start() -> None:
            host.server = await asyncio.start_server(host._serve, host.ip, 0, ssl=ssl_context, backlog=128)
            host.port = host.server.sockets[0].getsockname()[1]

        self.run(start())  # returns once the socket is bound and listening
        self.hosts[name] = host
        return host

    def closed_port(self) -> tuple[str, int]:
        """An address and port where nothing listens (connection refused)."""
        ip = free_ip()
        with socket.socket() as s:
            s.bind((ip, 0))
            port = s.getsockname()[1]
        return ip, port

    def stop(self) -> None:
        async def shutdown() -> None:
            for host in self.hosts.values():
                host.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        if self._started:
            with contextlib.suppress(Exception):
                self.run(shutdown(), timeout=5)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5)
        if not self.thread.is_alive():
            self.loop.close()  # its selector and self-pipe sockets, else a ResourceWarning per farm
