"""Raw captures as WARC records: one gzipped WARC file per run (per shard), with its CDXJ index.

Each good capture the snapshot store accepts (a live page, or a rescue replayed from an archive)
is written as three records, each its own gzip member:

* ``response``: the HTTP status line (version and reason as received), the header pairs in the
  order received, duplicates kept, and the body. httpx hands us the body *decoded*, so the
  recorded body is the decoded one and the headers are made consistent with it (warcio's
  convention): ``Content-Encoding``, ``Transfer-Encoding`` and ``Content-Length`` are dropped,
  kept as ``X-Archiver-Orig-<Name>`` for the record, and ``Content-Length`` is the length of
  the recorded body. A body cut at ``max_body_bytes`` is marked ``WARC-Truncated: length``.
  ``WARC-Date`` is the capture time, ``WARC-Payload-Digest``/``WARC-Block-Digest`` are
  ``sha256:<base32>`` (so the payload's digest is the snapshot's ``body_sha256``, in base32);
  ``WARC-IP-Address`` is the server's address when known (live captures only);
* ``request``: the request as sent (``Authorization`` never recorded), ``WARC-Concurrent-To``
  the response;
* ``metadata``: ``cited-url``, ``origin`` and, for a rescue, ``archive-capture-url`` (the
  archive's ``id_`` replay that was fetched) and ``memento-datetime``; ``WARC-Concurrent-To``
  the response. A rescue's response has ``WARC-Target-URI`` = the original URL (so a replay
  tool shows it as that page) and ``WARC-Refers-To-Target-URI`` = the archive capture URL.

The file is written under a temp name (``.<name>.XXXXXXXX.tmp``) and renamed into place when the
run ends (:meth:`WarcRun.close`), after its CDXJ index (``<name>.cdxj``): a killed run leaves no
half file under a final name (its temp file is ignored by ``archiver pack``).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import threading
from collections.abc import Iterator
from dataclasses import Field, dataclass, replace
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from .. import __version__
from ..models import RawExchange
from ..support import atomic


class Recordable(Protocol):
    """What a capture tells the WARC writer (:class:`~archiver.snapshots.store.Capture` is one; this module
    does not import the store, which imports it). A dataclass: :func:`record_warc` returns a copy made
    with :func:`dataclasses.replace`."""

    __dataclass_fields__: ClassVar[dict[str, Field[Any]]]

    @property
    def url(self) -> str: ...
    @property
    def origin(self) -> str: ...
    @property
    def captured_at(self) -> dt.datetime: ...
    @property
    def exchange(self) -> RawExchange | None: ...
    @property
    def body(self) -> bytes | None: ...
    @property
    def warc(self) -> WarcRef | None: ...
    @property
    def extraction(self) -> Any: ...


CaptureT = TypeVar("CaptureT", bound=Recordable)


#: headers describing the wire form of the body, replaced because the recorded body is decoded
_WIRE_HEADERS = ("content-encoding", "transfer-encoding", "content-length")
_NEVER_RECORDED = ("authorization", "proxy-authorization")


class _Sha256Writer(WARCWriter):  # type: ignore[misc]  # warcio ships no types: WARCWriter is Any
    """warcio's writer with sha256 digests (its default is sha1)."""

    @staticmethod
    def _create_digester() -> Digester:
        return Digester("sha256")


@dataclass(frozen=True, slots=True)
class WarcRef:
    """Where a capture's bytes are: the WARC file (name, in ``warc_dir``), the response record's id, its digest."""

    file: str
    record_id: str
    payload_digest: str
    #: the response record's gzip member in the file: byte offset and length (a range read gets exactly it)
    offset: int | None = None
    length: int | None = None


def sha256_digest(body: bytes) -> str:
    """``sha256:<base32>``: the WARC form of a body's digest."""
    return "sha256:" + base64.b32encode(hashlib.sha256(body).digest()).decode("ascii")


def digest_hex(warc_digest: str) -> str:
    """The hex form of a ``sha256:<base32>`` digest (as in a snapshot's ``body_sha256``)."""
    algo, _, value = warc_digest.partition(":")
    if algo != "sha256":
        raise ValueError(f"not a sha256 digest: {warc_digest}")
    return base64.b32decode(value).hex()


def surt(url: str) -> str:
    """The SURT sort key of ``url`` (``com,example)/path?a=1&b=2``), as CDXJ indexes use."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower().strip(".")
    if host.startswith("www."):
        host = host[4:]
    key = ",".join(reversed(host.split("."))) if host else ""
    default = {"http": 80, "https": 443}.get(parts.scheme.lower())
    try:
        port = parts.port
    except ValueError:
        port = None
    if port is not None and port != default:
        key += f":{port}"
    path = parts.path or "/"
    query = "&".join(sorted(parts.query.split("&"))) if parts.query else ""
    return f"{key}){path}{'?' + query if query else ''}".lower()


def cdx_timestamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y%m%d%H%M%S")


def warc_file_name(started_at: dt.datetime, shard: str | None = None) -> str:
    """``archiver-20250101T020000Z.warc.gz``; with a shard ``...-shard-2-of-4.warc.gz``."""
    stamp = started_at.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    tail = f"-shard-{shard.replace('/', '-of-')}" if shard else ""
    return f"archiver-{stamp}{tail}.warc.gz"


def _recorded_headers(exchange: RawExchange, body_len: int) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in exchange.headers:
        if name.lower() in _WIRE_HEADERS:
            out.append((f"X-Archiver-Orig-{name}", value))
        else:
            out.append((name, value))
    out.append(("Content-Length", str(body_len)))
    return out


def _request_line(exchange: RawExchange) -> str:
    parts = urlsplit(exchange.url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return f"{exchange.method} {target} {exchange.http_version}"


class WarcRun:
    """The WARC file of one run: records appended as captures come (thread-safe), renamed at :meth:`close`."""

    def __init__(self, folder: str | os.PathLike[str], started_at: dt.datetime, shard: str | None = None) -> None:
        self.folder = Path(folder)
        self.started_at = started_at
        name = warc_file_name(started_at, shard)
        n = 2
        while (self.folder / name).exists():  # two runs started in the same second
            name = warc_file_name(started_at, shard).replace(".warc.gz", f"-{n}.warc.gz")
            n += 1
        self.name = name
        self.path = self.folder / name
        self.records = 0
        self._lock = threading.Lock()
        self._fh: IO[bytes] | None = None
        self._tmp: str | None = None
        self._writer: _Sha256Writer | None = None
        self._index: list[str] = []

    @property
    def index_path(self) -> Path:
        return self.folder / (self.name.removesuffix(".warc.gz") + ".cdxj")

    def _open(self) -> _Sha256Writer:
        if self._writer is None:
            fd, self._tmp = atomic.open_temp(self.path)
            self._fh = os.fdopen(fd, "wb")
            self._writer = _Sha256Writer(self._fh, gzip=True, warc_version="1.1")
            info = self._writer.create_warcinfo_record(self.name, {
                "software": f"archiver {__version__} (warcio)",
                "format": "WARC File Format 1.1",
                "conformsTo": "https://iipc.github.io/warc-specifications/specifications/warc-format/warc-1.1/",
                "description": "live captures and archive rescues of the links an evidence timeline cites",
            })
            self._writer.write_record(info)
        return self._writer

    def write(self, capture: Recordable) -> WarcRef | None:
        """Append the capture's request, response and metadata records; None without a raw exchange."""
        exchange, body = capture.exchange, capture.body
        if exchange is None or body is None:
            return None
        rescue = capture.origin != "live"
        target = capture.url if rescue else exchange.url
        date = datetime_to_iso_date(capture.captured_at.astimezone(dt.UTC).replace(tzinfo=None), use_micros=False)
        with self._lock:
            writer = self._open()
            assert self._fh is not None
            warc_headers: dict[str, str] = {"WARC-Date": date}
            if exchange.peer_ip and not rescue:
                warc_headers["WARC-IP-Address"] = exchange.peer_ip
            if capture.extraction.truncated:
                warc_headers["WARC-Truncated"] = "length"
            if rescue:
                warc_headers["WARC-Refers-To-Target-URI"] = exchange.url
            http = StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(),
                                    _recorded_headers(exchange, len(body)), protocol=exchange.http_version)
            response = writer.create_warc_record(target, "response", payload=io.BytesIO(body), length=len(body),
                                                 warc_headers_dict=warc_headers, http_headers=http)
            record_id = response.rec_headers.get_header("WARC-Record-ID")
            digest = response.rec_headers.get_header("WARC-Payload-Digest")
            request_headers = [(k, v) for k, v in exchange.request_headers if k.lower() not in _NEVER_RECORDED]
            request_http = StatusAndHeaders(_request_line(exchange), request_headers, is_http_request=True)
            request = writer.create_warc_record(
                target, "request", warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
                http_headers=request_http)
            meta = {"cited-url": capture.url, "origin": capture.origin}
            if rescue:
                meta["archive-capture-url"] = exchange.url
                meta["memento-datetime"] = date
            fields = "".join(f"{k}: {v}\r\n" for k, v in meta.items()).encode("utf-8")
            metadata = writer.create_warc_record(
                target, "metadata", payload=io.BytesIO(fields), length=len(fields),
                warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
                warc_content_type="application/warc-fields")
            offset = self._fh.tell()
            writer.write_record(response)
            length = self._fh.tell() - offset
            writer.write_record(request)
            writer.write_record(metadata)
            self.records += 1
            mime = next((v for k, v in exchange.headers if k.lower() == "content-type"), "")
            entry: dict[str, Any] = {"url": target, "mime": mime.split(";")[0].strip().lower() or "unk",
                                     "status": str(exchange.status), "digest": digest, "length": str(length),
                                     "offset": str(offset), "filename": self.name}
            if rescue:
                entry["source"] = exchange.url
            self._index.append(f"{surt(target)} {cdx_timestamp(capture.captured_at)} {json.dumps(entry)}")
        return WarcRef(file=self.name, record_id=str(record_id), payload_digest=str(digest), offset=offset,
                       length=length)

    def close(self) -> Path | None:
        """Finish the file: its CDXJ index written, then the WARC renamed into place; its path (None if empty)."""
        with self._lock:
            if self._fh is None or self._tmp is None:
                return None
            fh, tmp, self._fh, self._tmp, self._writer = self._fh, self._tmp, None, None, None
            try:
                fh.flush()
                os.fsync(fh.fileno())
            finally:
                fh.close()
            atomic.write_text(self.index_path, "".join(line + "\n" for line in sorted(self._index)))
            os.replace(tmp, self.path)
            return self.path

    def abort(self) -> None:
        """Drop the unfinished file (nothing under the final name)."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
            if self._tmp is not None:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self._tmp)
            self._fh = self._tmp = self._writer = None


def warc_fields(ref: WarcRef | None) -> dict[str, Any]:
    """The snapshot header fields naming a capture's WARC record (none for a capture without one:
    older snapshots and runs with ``warc_dir`` off stay valid)."""
    if ref is None:
        return {}
    fields: dict[str, Any] = {"warc_file": ref.file, "warc_record_id": ref.record_id,
                              "warc_payload_digest": ref.payload_digest}
    if ref.offset is not None and ref.length is not None:
        fields.update(warc_offset=ref.offset, warc_length=ref.length)
    return fields


def record_warc(warcs: WarcRun | None, capture: CaptureT) -> CaptureT:
    """A good capture with its exchange written as WARC records (``capture.warc`` set, the body dropped)."""
    if warcs is None or capture.warc is not None or capture.exchange is None or capture.body is None:
        return capture
    ref = warcs.write(capture)
    return replace(capture, warc=ref, body=None) if ref is not None else capture


def open_run(settings: Any, started_at: dt.datetime, shard: object | None = None) -> WarcRun | None:
    """The run's WARC file per the ``warc_dir`` setting (None when it is off)."""
    folder = settings.warc_folder
    return WarcRun(folder, started_at, str(shard) if shard else None) if folder is not None else None


def finish_run(warcs: WarcRun | None) -> Path | None:
    """Close the run's WARC file (renamed into place) or, after a failed write, drop it."""
    if warcs is None:
        return None
    try:
        return warcs.close()
    except BaseException:
        warcs.abort()
        raise


def warc_files(folder: str | os.PathLike[str]) -> Iterator[Path]:
    """The finished WARC files of ``folder``, oldest run first (temp files of killed runs are skipped)."""
    root = Path(folder)
    if not root.is_dir():
        return iter(())
    return iter(sorted(p for p in root.glob("*.warc.gz") if not p.name.startswith(".")))


def index_warc(path: Path) -> list[str]:
    """CDXJ lines of the ``response`` records of a WARC file (for a file whose own index is missing)."""
    from warcio.archiveiterator import ArchiveIterator

    lines: list[str] = []
    with open(path, "rb") as fh:
        it = ArchiveIterator(fh)
        for record in it:
            if record.rec_type != "response":
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
            http = record.http_headers
            mime = (http.get_header("Content-Type") or "unk").split(";")[0].strip().lower() if http else "unk"
            status = http.get_statuscode() if http else "-"
            digest = record.rec_headers.get_header("WARC-Payload-Digest")
            it.read_to_end(record)
            offset, length = it.get_record_offset(), it.get_record_length()
            when = dt.datetime.fromisoformat(date.replace("Z", "+00:00"))
            entry = {"url": url, "mime": mime, "status": status, "digest": digest, "length": str(length),
                     "offset": str(offset), "filename": path.name}
            lines.append(f"{surt(url)} {cdx_timestamp(when)} {json.dumps(entry)}")
    return sorted(lines)
