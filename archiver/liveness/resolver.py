"""DNS for liveness checks.

:class:`Resolver`: the system resolver (``getaddrinfo``, in daemon threads, a few at a time),
cached per run, telling a name that does not exist (NXDOMAIN) from a temporary DNS failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from typing import Any

from .addresses import ip_literal
from .errors import DNSFailure, FailureKind

_NXDOMAIN_CODES = {code for code in (getattr(socket, "EAI_NONAME", None), getattr(socket, "EAI_NODATA", None))
                   if code is not None}


#: glibc retries an unanswered query after 5 s: a lookup budget a little longer gets that answer
MIN_DNS_TIMEOUT = 5.5
#: concurrent lookups: many at once make some resolvers drop queries
DNS_CONCURRENCY = 8


def _getaddrinfo_in_daemon_thread(host: str) -> asyncio.Future[list[Any]]:
    """``socket.getaddrinfo`` in a daemon thread: a hung lookup never delays the process's exit
    (the event loop's default executor would be joined by ``asyncio.run``)."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[list[Any]] = loop.create_future()

    def deliver(result: list[Any] | None, exc: BaseException | None) -> None:
        if fut.done():
            return
        if exc is not None:
            fut.set_exception(exc)
        else:
            fut.set_result(result or [])

    def work() -> None:
        try:
            result: list[Any] | None = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            exc: BaseException | None = None
        except BaseException as err:  # delivered to the awaiting coroutine
            result, exc = None, err
        with contextlib.suppress(RuntimeError):  # the loop is already closed: nobody is waiting
            loop.call_soon_threadsafe(deliver, result, exc)

    threading.Thread(target=work, name=f"dns {host}", daemon=True).start()
    return fut


class Resolver:
    """The system resolver (``getaddrinfo``), cached for the run: one lookup per host.

    Names under ``.invalid`` never resolve (RFC 6761 6.4) and are answered locally.
    """

    def __init__(self, timeout: float = MIN_DNS_TIMEOUT, concurrency: int = DNS_CONCURRENCY) -> None:
        self.timeout = timeout
        self.concurrency = concurrency
        self._sem: asyncio.Semaphore | None = None
        self._cache: dict[str, list[str] | DNSFailure] = {}
        self._pending: dict[str, asyncio.Future[list[str]]] = {}
        self.lookups = 0

    async def resolve(self, host: str) -> list[str]:
        literal = ip_literal(host)
        if literal is not None:
            return [str(literal)]
        host = host.lower().rstrip(".")
        cached = self._cache.get(host)
        if isinstance(cached, DNSFailure):
            raise DNSFailure(cached.host, cached.message, nxdomain=True)
        if cached is not None:
            return list(cached)
        pending = self._pending.get(host)
        if pending is not None:
            return list(await asyncio.shield(pending))
        fut: asyncio.Future[list[str]] = asyncio.get_running_loop().create_future()
        self._pending[host] = fut
        try:
            addresses = await self._lookup(host)
        except DNSFailure as exc:
            if exc.kind is FailureKind.NXDOMAIN:
                self._cache[host] = exc  # a name that does not exist will not appear within the run
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters get it through shield
            raise
        except BaseException:
            fut.set_exception(DNSFailure(host, f"DNS lookup of {host} interrupted", nxdomain=False))
            fut.exception()
            raise
        else:
            self._cache[host] = addresses
            fut.set_result(addresses)
            return list(addresses)
        finally:
            self._pending.pop(host, None)

    async def _lookup(self, host: str) -> list[str]:
        if host == "invalid" or host.endswith(".invalid"):
            raise DNSFailure(host, f"domain {host} does not resolve (reserved .invalid name)", nxdomain=True)
        if self._sem is None:
            self._sem = asyncio.Semaphore(self.concurrency)
        self.lookups += 1
        try:
            async with asyncio.timeout(self.timeout):
                async with self._sem:
                    infos = await _getaddrinfo_in_daemon_thread(host)
        except TimeoutError:  # the system resolver has already retried within this budget
            raise DNSFailure(host, f"DNS lookup of {host} timed out after {self.timeout:g}s", nxdomain=False,
                             transient=False) from None
        except socket.gaierror as exc:
            if exc.errno in _NXDOMAIN_CODES:
                raise DNSFailure(host, f"domain {host} does not resolve ({exc.strerror})", nxdomain=True) from None
            raise DNSFailure(host, f"DNS lookup of {host} failed ({exc.strerror})", nxdomain=False) from None
        except (OSError, UnicodeError) as exc:
            raise DNSFailure(host, f"DNS lookup of {host} failed ({exc})", nxdomain=False) from None
        out: list[str] = []
        for *_, sockaddr in infos:
            addr = str(sockaddr[0])
            if addr not in out:
                out.append(addr)
        if not out:
            raise DNSFailure(host, f"domain {host} has no addresses", nxdomain=True)
        return out
