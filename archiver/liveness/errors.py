"""Why a request produced no usable HTTP answer: :class:`FailureKind` and the failure tree.

The tree, as httpx's ``_exceptions.py`` shows its own::

    FetchFailure          any request without a usable answer (``kind`` says which)
    ├── DNSFailure        the name does not exist (``nxdomain``) or the lookup failed (``dns``)
    ├── UnsafeAddress     the address is refused by the network policy (``unsafe``)
    ├── ConnectFailure    refused, unreachable, connect timeout (raised by the network backend)
    └── TLSFailure        handshake or certificate (``tls``)

Failures raised by the redirect walk (``check.py``) and the politeness layer (``fetcher.py``)
are plain :class:`FetchFailure` with their kind. ``kind`` appears in evidence strings
through f-strings: a :class:`~enum.StrEnum` prints its value.
"""

from __future__ import annotations

from enum import StrEnum

from ..errors import ArchiverError
from .addresses import ip_literal


class FailureKind(StrEnum):
    """What went wrong with a request (``FetchFailure.kind``)."""

    #: the host name does not exist (NXDOMAIN, or no addresses)
    NXDOMAIN = "nxdomain"
    #: a temporary DNS failure (the lookup failed or timed out)
    DNS = "dns"
    #: the connection was refused
    REFUSED = "refused"
    #: the network or host is unreachable
    UNREACHABLE = "unreachable"
    #: connecting took longer than the connect timeout
    CONNECT_TIMEOUT = "connect_timeout"
    #: silence while waiting for or reading the answer
    READ_TIMEOUT = "read_timeout"
    #: the whole request went over its budget (or no free connection in time)
    TOTAL_TIMEOUT = "total_timeout"
    #: the TLS handshake failed or the certificate was not accepted
    TLS = "tls"
    #: connection reset or closed, or a malformed answer
    PROTOCOL = "protocol"
    #: the address is refused by the network policy (private, loopback, ...)
    UNSAFE = "unsafe"
    #: not a URL that can be requested
    BAD_URL = "bad_url"
    #: more redirects than ``max_redirects``
    TOO_MANY_REDIRECTS = "too_many_redirects"
    #: a redirect back to an address already in the chain
    REDIRECT_LOOP = "redirect_loop"
    #: a redirect without a usable Location (invalid, or not a web URL)
    BAD_REDIRECT = "bad_redirect"
    #: not requested: the host timed out ``HOST_TIMEOUT_LIMIT`` times in a row in this run
    HOST_TIMEOUTS = "host_timeouts"
    #: not requested: the host asked (Retry-After) for a pause longer than ``retry_after_cap``
    RATE_LIMITED = "rate_limited"


#: The timeouts (a host that keeps timing out is skipped for the rest of the run).
TIMEOUT_KINDS: frozenset[FailureKind] = frozenset(
    {FailureKind.CONNECT_TIMEOUT, FailureKind.READ_TIMEOUT, FailureKind.TOTAL_TIMEOUT})


class FetchFailure(ArchiverError):
    """A request that produced no usable HTTP answer; ``kind`` is a :class:`FailureKind`."""

    def __init__(self, kind: FailureKind | str, message: str, *, transient: bool, connection_level: bool = False,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.kind = FailureKind(kind)
        self.message = message
        self.transient = transient
        #: DNS, refused, unreachable, connect timeout: tells "network down" from link rot
        self.connection_level = connection_level
        #: the HTTP status when the failure came after the response headers
        self.status = status
        #: seconds the failed attempt took
        self.elapsed = 0.0


class DNSFailure(FetchFailure):
    def __init__(self, host: str, message: str, *, nxdomain: bool, transient: bool | None = None) -> None:
        super().__init__(FailureKind.NXDOMAIN if nxdomain else FailureKind.DNS, message,
                         transient=(not nxdomain) if transient is None else transient, connection_level=True)
        self.host = host


class UnsafeAddress(FetchFailure):
    def __init__(self, host: str, address: str, reason: str) -> None:
        literal = ip_literal(host)
        where = host if host == address or (literal is not None and str(literal) == address) else f"{host} ({address})"
        super().__init__(
            FailureKind.UNSAFE,
            f"refused to fetch {where}: {reason} address; set allow_networks (ARCHIVER_ALLOW_NETWORKS) "
            "to permit it",
            transient=False)
        self.host = host
        self.address = address


class ConnectFailure(FetchFailure):
    pass


class TLSFailure(FetchFailure):
    def __init__(self, message: str) -> None:
        super().__init__(FailureKind.TLS, message, transient=False)
