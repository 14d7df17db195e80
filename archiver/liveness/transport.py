"""HTTP plumbing for liveness checks.

* :func:`build_ssl_context`: system CAs + certifi + ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``.
* :class:`GuardedBackend`: an httpcore network backend that resolves every host itself,
  refuses unsafe addresses *before* connecting (on the first request and after every
  redirect, since each hop opens its own connection), connects only to the addresses it
  checked, and turns socket and TLS errors into the typed failures of :mod:`archiver.liveness.errors`.
* :class:`BoundedDecoder`: gzip/deflate/brotli decoding that never produces more than the
  caller asks for, so compression bombs stop at the body cap.
* :func:`make_client` and :func:`fetch_once`: one streamed, capped GET (no redirects followed).

Just over 500 lines: the backend, the decoder and the client are one HTTP stack (errors, DNS and
address safety already live in errors.py, resolver.py and addresses.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import ssl
import time
import zlib
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http.cookiejar import Cookie, CookieJar
from typing import Any

import brotli
import certifi
import httpcore
import httpx

from ..models import RawExchange
from ..options import CheckOptions
from .addresses import IPNetwork, address_problem, ip_literal
from .errors import ConnectFailure, FailureKind, FetchFailure, TLSFailure, UnsafeAddress
from .resolver import Resolver

#: Body read from non-2xx answers (enough to recognise a bot challenge page).
SMALL_BODY_BYTES = 64 * 1024
ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,application/pdf;q=0.8,*/*;q=0.7"
ACCEPT_ENCODING = "gzip, deflate, br"


# --------------------------------------------------------------------------- TLS


def build_ssl_context(env: Mapping[str, str] | None = None) -> ssl.SSLContext:
    """A verifying client context: system CAs, certifi's bundle, then ``SSL_CERT_FILE``/``SSL_CERT_DIR``."""
    env = os.environ if env is None else env
    ctx = ssl.create_default_context()
    ctx.load_verify_locations(cafile=certifi.where())
    cafile, capath = env.get("SSL_CERT_FILE"), env.get("SSL_CERT_DIR")
    if cafile and os.path.isfile(cafile):
        ctx.load_verify_locations(cafile=cafile)
    if capath and os.path.isdir(capath):
        ctx.load_verify_locations(capath=capath)
    return ctx


def describe_ssl_error(exc: ssl.SSLError) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        detail = exc.verify_message or exc.reason or str(exc)
        return f"TLS certificate not accepted: {detail}"
    reason = exc.reason or (exc.args[1] if len(exc.args) > 1 else str(exc))
    return f"TLS handshake failed: {reason}"


# --------------------------------------------------------------------------- network backend


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    stack = [exc]
    while stack:
        cur = stack.pop()
        if id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        if isinstance(cur, BaseExceptionGroup):
            stack.extend(cur.exceptions)
        for nxt in (cur.__cause__, cur.__context__):
            if nxt is not None:
                stack.append(nxt)


def _find(exc: BaseException, kind: type[BaseException]) -> Any:
    for cur in _chain(exc):
        if isinstance(cur, kind):
            return cur
    return None


_REFUSED = {errno.ECONNREFUSED}
_UNREACHABLE = {errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ENETDOWN,
                getattr(errno, "EHOSTDOWN", errno.EHOSTUNREACH)}


def _classify_connect_error(exc: BaseException) -> tuple[str, str]:
    ssl_err = _find(exc, ssl.SSLError)
    if ssl_err is not None:
        return "tls", describe_ssl_error(ssl_err)
    for cur in _chain(exc):
        if isinstance(cur, OSError) and cur.errno is not None:
            if cur.errno in _REFUSED:
                return "refused", "connection refused"
            if cur.errno in _UNREACHABLE:
                return "unreachable", f"network unreachable ({cur.strerror})"
            if cur.errno == errno.ECONNRESET:
                return "protocol", "connection reset while connecting"
            return "other", cur.strerror or str(cur)
    return "other", str(exc) or type(exc).__name__


class _GuardedStream(httpcore.AsyncNetworkStream):
    """Delegates to the real stream; turns TLS handshake errors into :class:`TLSFailure`."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                        timeout: float | None = None) -> httpcore.AsyncNetworkStream:
        try:
            inner = await self._inner.start_tls(ssl_context, server_hostname, timeout)
        except httpcore.ConnectTimeout:
            raise
        except httpcore.ConnectError as exc:
            ssl_err = _find(exc, ssl.SSLError)
            if ssl_err is not None:
                raise TLSFailure(describe_ssl_error(ssl_err)) from None
            raise TLSFailure("TLS handshake failed: the server closed the connection") from None
        return _GuardedStream(inner)

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, refuse unsafe addresses before connecting, connect only to checked addresses."""

    MAX_ADDRESSES = 3

    def __init__(self, resolver: Resolver, allowed: Sequence[IPNetwork] = (),
                 inner: httpcore.AsyncNetworkBackend | None = None) -> None:
        self.resolver = resolver
        self.allowed = tuple(allowed)
        self._inner = inner or httpcore.AnyIOBackend()

    def check_host(self, host: str, addresses: Sequence[str]) -> list[str]:
        """The addresses of ``host`` that may be fetched; raises :class:`UnsafeAddress` when none may."""
        safe: list[str] = []
        refused: tuple[str, str] | None = None
        for addr in addresses:
            ip = ip_literal(addr)
            if ip is None:
                continue
            problem = address_problem(ip, self.allowed)
            if problem is None:
                safe.append(addr)
            elif refused is None:
                refused = (addr, problem)
        if not safe:
            addr, problem = refused or (host, "unusable")
            raise UnsafeAddress(host, addr, problem)
        return safe

    async def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                          local_address: str | None = None,
                          socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        addresses = self.check_host(host, await self.resolver.resolve(host))
        kinds: list[tuple[str, str]] = []
        for addr in addresses[: self.MAX_ADDRESSES]:
            try:
                stream = await self._inner.connect_tcp(addr, port, timeout=timeout, local_address=local_address,
                                                       socket_options=socket_options)
            except httpcore.ConnectTimeout:
                kinds.append(("connect_timeout", f"connection to {host} timed out"))
            except httpcore.ConnectError as exc:
                kinds.append(_classify_connect_error(exc))
            else:
                return _GuardedStream(stream)
        found = {k for k, _ in kinds}
        if found <= {"refused", "unreachable"} and "refused" in found:
            raise ConnectFailure(FailureKind.REFUSED, f"connection refused by {host} (port {port})", transient=True,
                                 connection_level=True)
        if "connect_timeout" in found:
            raise ConnectFailure(FailureKind.CONNECT_TIMEOUT, f"connecting to {host} timed out", transient=True,
                                 connection_level=True)
        if found == {"unreachable"}:
            raise ConnectFailure(FailureKind.UNREACHABLE, f"{host}: {kinds[0][1]}", transient=True,
                                 connection_level=True)
        kind, message = kinds[-1]
        if kind == "tls":
            raise TLSFailure(message)
        raise ConnectFailure(FailureKind.PROTOCOL if kind == "protocol" else FailureKind.UNREACHABLE,
                             f"cannot connect to {host}: {message}", transient=True,
                             connection_level=kind != "protocol")

    async def connect_unix_socket(self, path: str, timeout: float | None = None,
                                  socket_options: Any = None) -> httpcore.AsyncNetworkStream:
        raise ConnectFailure(FailureKind.UNSAFE, "unix sockets are not used", transient=False)

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


# --------------------------------------------------------------------------- decoding


class BoundedDecoder:
    """Incremental Content-Encoding decoder whose output never exceeds the caller's limit."""

    def __init__(self, content_encoding: str | None) -> None:
        codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        self.unsupported: str | None = None
        self._steps: list[Any] = []
        for coding in reversed(codings):  # the last applied coding is undone first
            if coding in ("gzip", "x-gzip"):
                self._steps.append(("zlib", zlib.decompressobj(zlib.MAX_WBITS | 32)))
            elif coding == "deflate":
                self._steps.append(("deflate", None))
            elif coding == "br":
                self._steps.append(("br", brotli.Decompressor()))
            else:
                self.unsupported = coding
                self._steps = []
                break

    def decode(self, data: bytes, limit: int) -> bytes:
        for i, (kind, state) in enumerate(self._steps):
            if not data:
                break
            if kind == "deflate":
                state, data = self._deflate_start(data, limit)
                self._steps[i] = ("zlib", state)
                continue
            if kind == "zlib":
                data = self._zlib(i, state, data, limit)
            else:
                data = state.process(data, output_buffer_limit=max(limit, 1))
        return data[:limit]

    def _deflate_start(self, data: bytes, limit: int) -> tuple[zlib._Decompress, bytes]:
        obj = zlib.decompressobj()
        try:
            return obj, obj.decompress(data, limit)
        except zlib.error:
            obj = zlib.decompressobj(-zlib.MAX_WBITS)  # raw deflate, as some servers send it
            return obj, obj.decompress(data, limit)

    def _zlib(self, index: int, obj: zlib._Decompress, data: bytes, limit: int) -> bytes:
        out = obj.decompress(data, limit)
        while obj.eof and obj.unused_data and len(out) < limit:  # concatenated gzip members
            rest = obj.unused_data
            obj = zlib.decompressobj(zlib.MAX_WBITS | 32)
            self._steps[index] = ("zlib", obj)
            out += obj.decompress(rest, limit - len(out))
        return out


# --------------------------------------------------------------------------- client and one request


class _NoCookies(CookieJar):
    """The shared client keeps no cookies; each check carries its own jar."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class _Transport(httpx.AsyncHTTPTransport):
    def __init__(self, ssl_context: ssl.SSLContext, backend: GuardedBackend, limits: httpx.Limits) -> None:
        super().__init__(verify=ssl_context, trust_env=False, limits=limits)
        # The only way to give httpx a custom network backend: replace its httpcore pool.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            http1=True,
            http2=False,
            network_backend=backend,
        )


class _CountedStream(httpx.AsyncByteStream):
    """A response body that reports when it is closed (its origin's pool may then be evicted)."""

    def __init__(self, inner: httpx.AsyncByteStream, on_close: Callable[[], None]) -> None:
        self._inner = inner
        self._on_close: Callable[[], None] | None = on_close

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            if self._on_close is not None:
                self._on_close()
                self._on_close = None


class _PerOriginTransport(httpx.AsyncBaseTransport):
    """One small connection pool per origin (scheme, host, port).

    httpcore's pool scans all of its connections (and polls every idle socket) on each
    request, so one shared pool for a few hundred hosts costs more CPU than the requests.
    Small pools keep that scan short; pools unused the longest, with nothing in flight,
    are closed once there are more than ``max_origins``.

    The TLS context (certificate stores read from disk, tens of milliseconds) is built with the
    first pool: a client that never sends a request (the archive stages on a night with nothing
    to ask) never builds one.
    """

    def __init__(self, ssl_context: ssl.SSLContext | None, backend: GuardedBackend, per_origin: int,
                 max_origins: int) -> None:
        self._ssl_context = ssl_context
        self._backend = backend
        self._limits = httpx.Limits(max_connections=per_origin, max_keepalive_connections=per_origin,
                                    keepalive_expiry=15.0)
        self._max_origins = max_origins
        self._pools: OrderedDict[tuple[bytes, bytes, int | None], _Transport] = OrderedDict()
        self._active: dict[tuple[bytes, bytes, int | None], int] = {}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        key = (request.url.raw_scheme, request.url.raw_host, request.url.port)
        pool = self._pools.get(key)
        if pool is None:
            if self._ssl_context is None:
                self._ssl_context = build_ssl_context()
            pool = self._pools[key] = _Transport(self._ssl_context, self._backend, self._limits)
            await self._evict()
        else:
            self._pools.move_to_end(key)
        self._active[key] = self._active.get(key, 0) + 1

        def done() -> None:
            self._active[key] -= 1

        try:
            response = await pool.handle_async_request(request)
        except BaseException:
            done()
            raise
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _CountedStream(response.stream, done)
        return response

    async def _evict(self) -> None:
        for key in list(self._pools):
            if len(self._pools) <= self._max_origins:
                break
            if self._active.get(key, 0) == 0:
                pool = self._pools.pop(key)
                self._active.pop(key, None)
                await pool.aclose()

    async def aclose(self) -> None:
        pools, self._pools = list(self._pools.values()), OrderedDict()
        for pool in pools:
            await pool.aclose()


def make_client(options: CheckOptions, backend: GuardedBackend,
                ssl_context: ssl.SSLContext | None = None) -> httpx.AsyncClient:
    """The guarded client: ``options``' User-Agent, timeouts and connection limits (``concurrency``,
    ``per_host_concurrency``) over ``backend``."""
    per_host, concurrency = options.per_host_concurrency, options.concurrency
    transport = _PerOriginTransport(ssl_context, backend, per_origin=per_host * 2 + 2, max_origins=concurrency * 2 + 16)
    connect_timeout, read_timeout, total_timeout = options.connect_timeout, options.read_timeout, options.total_timeout
    user_agent = options.ua
    return httpx.AsyncClient(
        transport=transport,
        timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=read_timeout, pool=total_timeout),
        follow_redirects=False,
        trust_env=False,
        cookies=httpx.Cookies(_NoCookies()),
        headers={"User-Agent": user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING,
                 "Accept-Language": "en;q=0.9, *;q=0.5"},
    )


@dataclass(slots=True)
class Answer:
    """One HTTP answer, body read (capped) and connection released."""

    url: str
    status: int
    reason: str
    headers: httpx.Headers
    body: bytes = b""
    #: True when the body was longer than the cap (or the read stopped early)
    truncated: bool = False
    #: why the body could not be fully read or decoded, if so
    body_error: str | None = None
    elapsed: float = 0.0
    #: cookies set by this answer, for the next hop
    cookies: httpx.Cookies = field(default_factory=httpx.Cookies)
    #: the status line, header pairs (order and duplicates kept) and request as on the wire, for WARC records
    exchange: RawExchange | None = None

    @property
    def content_type(self) -> str | None:
        value = self.headers.get("content-type")
        return value.split(";", 1)[0].strip().lower() if value else None

    @property
    def location(self) -> str | None:
        value = self.headers.get("location")
        return value.strip() if value and value.strip() else None

    @property
    def is_redirect(self) -> bool:
        return self.status in (301, 302, 303, 307, 308) and self.location is not None


def _status_line(resp: httpx.Response) -> str:
    return resp.reason_phrase or ""


@dataclass(frozen=True, slots=True)
class SendExtras:
    """What one GET adds to the client's defaults: ``cookies`` to send, a ``user_agent`` replacing the
    client's, ``on_sent`` called once the request headers are written to the socket, ``before_send``
    awaited just before they are (connected, nothing sent yet)."""

    cookies: httpx.Cookies | None = None
    user_agent: str | None = None
    on_sent: Callable[[], None] | None = None
    before_send: Callable[[], Awaitable[None]] | None = None
    #: more request headers (a conditional GET's If-None-Match / If-Modified-Since)
    headers: tuple[tuple[str, str], ...] = ()


async def fetch_once(client: httpx.AsyncClient, url: str, *, max_body: int, total_timeout: float,
                     extras: SendExtras = SendExtras()) -> Answer:
    """GET ``url`` once (no redirects followed), reading at most ``max_body`` decoded bytes, with ``extras``.

    Raises :class:`FetchFailure` for every failure that produced no HTTP answer.
    """
    cookies, user_agent, on_sent, before_send = extras.cookies, extras.user_agent, extras.on_sent, extras.before_send
    start = time.monotonic()
    status: int | None = None
    try:
        async with asyncio.timeout(total_timeout):
            sent = dict(extras.headers)
            if user_agent:
                sent["User-Agent"] = user_agent
            request = client.build_request("GET", url, headers=sent or None)
            if cookies:
                cookies.set_cookie_header(request)
            if on_sent is not None or before_send is not None:
                request.extensions["trace"] = _sent_tracer(on_sent, before_send)
            resp = await client.send(request, stream=True)
            try:
                status = resp.status_code
                cap = max_body if 200 <= status < 300 else min(max_body, SMALL_BODY_BYTES)
                exchange = raw_exchange(resp)  # before the body is read: the peer's address is still there
                body, truncated, body_error = await _read_capped(resp, cap)
                jar = httpx.Cookies()
                jar.extract_cookies(resp)
                return Answer(url=url, status=status, reason=_status_line(resp), headers=resp.headers, body=body,
                              truncated=truncated, body_error=body_error, elapsed=time.monotonic() - start,
                              cookies=jar, exchange=exchange)
            finally:
                await resp.aclose()
    except FetchFailure:
        raise
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, UnicodeError, ValueError) as exc:
        raise _fetch_failure(exc, client, url, status, total_timeout) from None


def _fetch_failure(exc: Exception, client: httpx.AsyncClient, url: str, status: int | None,
                   total_timeout: float) -> FetchFailure:
    """The failure that ``fetch_once`` raises for ``exc`` (``status``: the answer's, when one came)."""
    if isinstance(exc, TimeoutError):
        if status is not None:  # answered, then trickled: another try would do the same
            return FetchFailure(FailureKind.TOTAL_TIMEOUT,
                                f"timed out after {total_timeout:g}s reading the body "
                                "(the server sends data too slowly)",
                                transient=False, status=status)
        return FetchFailure(FailureKind.TOTAL_TIMEOUT, f"timed out after {total_timeout:g}s waiting for an answer",
                            transient=True)
    if isinstance(exc, httpx.ConnectTimeout):
        return FetchFailure(FailureKind.CONNECT_TIMEOUT, "connecting timed out", transient=True,
                            connection_level=True)
    if isinstance(exc, (httpx.ReadTimeout, httpx.WriteTimeout)):
        what = "for the rest of the body" if status is not None else "for the response headers"
        return FetchFailure(FailureKind.READ_TIMEOUT, f"no data for {client.timeout.read:g}s while waiting {what}",
                            transient=True, status=status)
    if isinstance(exc, httpx.PoolTimeout):
        return FetchFailure(FailureKind.TOTAL_TIMEOUT, "no free connection in time", transient=True)
    if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
        return FetchFailure(FailureKind.PROTOCOL, _protocol_message(exc), transient=True, status=status)
    if isinstance(exc, httpx.ConnectError):
        kind, message = _classify_connect_error(exc)
        if kind == "tls":
            return TLSFailure(message)
        return FetchFailure(kind if kind in ("refused", "unreachable") else "unreachable", message, transient=True,
                            connection_level=True)
    if isinstance(exc, (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError, UnicodeError,
                        ValueError)):
        return FetchFailure(FailureKind.BAD_URL, f"cannot request {url}: {exc}", transient=False)
    return FetchFailure(FailureKind.PROTOCOL, f"{type(exc).__name__}: {exc}", transient=True, status=status)


def _latin1(value: bytes) -> str:
    return value.decode("latin-1")


def raw_exchange(resp: httpx.Response) -> RawExchange:
    """The wire view of ``resp``: HTTP version, reason, header pairs as received, the request sent, the peer."""
    peer: str | None = None
    stream = resp.extensions.get("network_stream")
    if stream is not None:
        with contextlib.suppress(Exception):  # a backend without the info: the address stays unknown
            addr = stream.get_extra_info("server_addr")
            if isinstance(addr, tuple) and addr:
                peer = str(addr[0])
    request = resp.request
    return RawExchange(
        url=str(request.url), http_version=resp.http_version or "HTTP/1.1", status=resp.status_code,
        reason=resp.reason_phrase or "",
        headers=tuple((_latin1(k), _latin1(v)) for k, v in resp.headers.raw),
        method=request.method,
        request_headers=tuple((_latin1(k), _latin1(v)) for k, v in request.headers.raw),
        peer_ip=peer)


def _sent_tracer(on_sent: Callable[[], None] | None,
                 before_send: Callable[[], Awaitable[None]] | None = None) -> Callable[[str, Any], Awaitable[None]]:
    async def trace(event: str, info: Any) -> None:  # httpcore's request tracing hook
        if before_send is not None and event.endswith("send_request_headers.started"):
            await before_send()
        elif on_sent is not None and event.endswith("send_request_headers.complete"):
            on_sent()

    return trace


def _protocol_message(exc: Exception) -> str:
    text = str(exc)
    if "without sending" in text or "Server disconnected" in text:
        return "the server closed the connection without answering"
    if _find(exc, ConnectionResetError) is not None or "reset" in text.lower():
        return "connection reset by the server"
    return f"broken HTTP answer ({text or type(exc).__name__})"


async def _read_capped(resp: httpx.Response, cap: int) -> tuple[bytes, bool, str | None]:
    """Read and decode up to ``cap`` bytes; stop downloading as soon as the cap is passed."""
    decoder = BoundedDecoder(resp.headers.get("content-encoding"))
    buf = bytearray()
    try:
        async for raw in resp.aiter_raw():
            chunk = raw[:cap + 1 - len(buf)] if decoder.unsupported else decoder.decode(raw, cap + 1 - len(buf))
            buf += chunk
            if len(buf) > cap:
                return bytes(buf[:cap]), True, None
    except (zlib.error, brotli.error) as exc:
        return bytes(buf), True, f"cannot decode the {resp.headers.get('content-encoding')} body ({exc})"
    except (httpx.RemoteProtocolError, httpx.ReadError) as exc:
        if not buf:
            raise
        return bytes(buf), True, f"body cut short: {_protocol_message(exc)}"
    return bytes(buf), False, None
