"""The canonical SURT key of a URL, as pywb, py-wacz and the Internet Archive's CDX servers index it.

The rules of the Internet Archive's ``WaybackURLKeyMaker`` with its default canonicalizer, the
Google rules then the IA rules (IIPC webarchive-commons, Apache-2.0: ``org.archive.url``), which
the ``surt`` package (0.3.1) follows in Python, so an index of ours is looked up with the keys a
replay tool computes:

* the Google rules: the fragment dropped; the host unescaped repeatedly, IDNA-encoded, ``..``
  collapsed, dots stripped at both ends, a numeric host (``3232235777``, ``0x7f.1``) as a
  dotted quad, else lower case; the path unescaped repeatedly, ``.``/``..`` segments resolved
  and empty segments dropped (``//``), then escaped once (bytes outside 33-126 and ``%``,
  ``#``); the query unescaped repeatedly and escaped once the same way (``%3d`` becomes ``=``);
* the IA rules: ``www.``, ``www2.`` ... stripped; user and password dropped; the default port
  dropped; path and query lower case; path session ids (ASP.NET ``(S(...))``) and query
  session ids (``jsessionid``, ``phpsessid``, ``sid``, ``ASPSESSIONID``, ``cfid``/``cftoken``)
  dropped; a trailing ``/`` dropped unless the path is ``/``; the query's arguments sorted
  (``?`` dropped when nothing is left);
* the key: the host's labels reversed and comma-joined, ``:port`` when not the default, ``)``,
  then path and query (``com,example)/a/b?x=1&y=2``).

The ``surt`` package itself is not a dependency: it imports tldextract (and requests) for a
rule the key never uses, its regexes warn when compiled, and it is AGPL-licensed; it is only the
test's reference (tests/test_surt.py compares the two on tricky URLs and every corpus URL).
"""

from __future__ import annotations

import contextlib
import re
import socket
from urllib.parse import SplitResultBytes, quote_from_bytes, unquote_to_bytes

__all__ = ["surt"]

_SAFE = b"!\"$&'()*+,-./:;<=>?@[\\]^_`{|}~"
_SPACES = re.compile(rb"[\n\r\t]")
_MULTIPLE_PROTOCOLS = re.compile(rb"^(https?://)+")
_HAS_SCHEME = re.compile(rb"^([a-zA-Z][a-zA-Z0-9+\-.]*):")
_RFC2396 = re.compile(rb"^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$")
_OCTAL_IP = re.compile(rb"^(0[0-7]*)(\.[0-7]+)?(\.[0-7]+)?(\.[0-7]+)?$")
_DECIMAL_IP = re.compile(rb"^([1-9][0-9]*)(\.[0-9]+)?(\.[0-9]+)?(\.[0-9]+)?$")
_WWW = re.compile(rb"www\d*\.")
_PATH_SESSION_IDS = (
    re.compile(rb"^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$", re.I),
    re.compile(rb"^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$", re.I),
)
_QUERY_SESSION_IDS = (
    re.compile(rb"^(.*)(?:jsessionid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:phpsessid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:sid=[0-9a-zA-Z]{32})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:ASPSESSIONID[a-zA-Z]{8}=[a-zA-Z]{24})(?:&(.*))?$", re.I),
    re.compile(rb"^(.*)(?:cfid=[^&]+&cftoken=[^&]+)(?:&(.*))?$", re.I),
)
_DEFAULT_PORTS = {b"http": 80, b"https": 443}


def _unescape_repeatedly(value: bytes) -> bytes:
    while True:
        once = unquote_to_bytes(value)
        if once == value:
            return value
        value = once


def _escape_once(value: bytes) -> bytes:
    return quote_from_bytes(value, safe=_SAFE).encode("ascii") if value else value


def _numeric_host(host: bytes) -> bytes | None:
    """A host written as a number (decimal, octal, hex parts) as its dotted quad; None for a name."""
    if host.isdigit():
        return socket.inet_ntoa((int(host) & 0xFFFFFFFF).to_bytes(4, "big")).encode("ascii")
    if _DECIMAL_IP.match(host) or _OCTAL_IP.match(host):
        try:  # what gethostbyname answers for a numeric host, without asking any resolver
            return socket.inet_ntoa(socket.inet_aton(host.decode("ascii"))).encode("ascii")
        except OSError:
            return None
    return None


def _host(host: bytes) -> bytes:
    host = _unescape_repeatedly(host)
    try:
        host.decode("ascii")
    except UnicodeDecodeError:
        with contextlib.suppress(ValueError):  # a label too long for IDNA: kept as it is
            host = host.decode("utf-8", "ignore").encode("idna")
    host = host.replace(b"..", b".").strip(b".")
    numeric = _numeric_host(host)
    host = numeric if numeric is not None else _escape_once(host.lower())
    host = host.lower()
    www = _WWW.match(host)
    return host[len(www.group(0)):] if www else host


def _normalize_path(path: bytes) -> bytes:
    """``.`` and ``..`` segments resolved, empty segments (``//``) dropped, a trailing ``/`` kept."""
    if not path:
        return b"/"
    kept: list[bytes] = []
    for segment in path.split(b"/")[1:]:
        if segment == b".":
            continue
        if segment == b".." and kept:
            kept.pop()
        else:
            kept.append(segment)
    if not kept:
        return b"/"
    return b"/" + b"".join(s + b"/" for s in kept[:-1] if s) + kept[-1]


def _path(path: bytes, has_host: bool) -> bytes:
    path = _unescape_repeatedly(path)
    if has_host:
        path = _normalize_path(path)
    path = _escape_once(path).lower()
    for pattern in _PATH_SESSION_IDS:
        if m := pattern.match(path):
            path = m.group(1) + m.group(3)
    return path[:-1] if len(path) > 1 and path.endswith(b"/") else path


def _query(query: bytes) -> bytes:
    query = _escape_once(_unescape_repeatedly(query))
    for pattern in _QUERY_SESSION_IDS:
        if m := pattern.match(query):
            query = m.group(1) + m.group(2) if m.group(2) else m.group(1)
    query = query.lower()
    if len(query) <= 1:
        return query
    args = sorted(tuple(arg.split(b"=", 1)) for arg in query.split(b"&"))
    return b"&".join(b"=".join(arg) for arg in args)


def _split(url: bytes) -> tuple[bytes, bytes, int | None, bytes, bytes]:
    """Scheme, host, port, path and query of a URL as the ``surt`` package's ``handyurl`` parses it."""
    url = _SPACES.sub(b"", url.strip())
    if not _HAS_SCHEME.match(url):
        url = b"http://" + url
    url = _MULTIPLE_PROTOCOLS.sub(lambda m: m.group(1), url)
    m = _RFC2396.match(url)
    assert m is not None  # every string matches: all its groups are optional
    scheme, netloc, path, query = m.group(2) or b"", (m.group(5) or b"").rstrip(b":"), m.group(6) or b"", m.group(8)
    parts = SplitResultBytes(scheme, netloc, path, b"", b"")
    host = parts.hostname or b""
    try:
        port = parts.port or None
    except ValueError:  # not a port number: the surt package fails, the key leaves it out
        port = None
    if scheme.startswith(b"http") and not host and path:
        first, _, rest = path.lstrip(b"/").partition(b"/")  # http:////www.example.com
        host, path = first, b"/" + rest
    return scheme, host, port, path, query or b""


def surt(url: str) -> str:
    """The SURT key of ``url`` (``com,example)/path?a=1&b=2``), as pywb and py-wacz index it."""
    if not url:
        return "-"
    if url.startswith("filedesc"):
        return url
    scheme, host, port, path, query = _split(url.encode("utf-8"))
    key = b""
    if host:
        host = _host(host)
        key = b",".join(reversed(host.split(b".")))
        if port is not None and port != _DEFAULT_PORTS.get(scheme.lower(), 0):
            key += b":%d" % port
        key += b")"
    else:
        key = scheme + b":"
    path = _path(path, bool(host))
    if not path and query:
        path = b"/"
    query = _query(query) if query else b""
    return (key + path + (b"?" + query if query else b"")).decode("utf-8")
