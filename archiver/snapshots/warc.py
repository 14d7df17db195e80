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

A live capture reached through redirects is preceded by a ``response`` and a ``request`` record for
each redirect answer, in order (the cited URL's 301 with its ``Location``, then the next hop's ...;
a page that forwards with a meta refresh too, with its body), so a replay of the cited URL follows
the chain to the page. Each response record, hop or page, has its own line in the CDXJ index (the
hop's with its 3xx status), keyed by the canonical SURT (:mod:`archiver.support.surt`).

The file is written under a temp name (``.<name>.XXXXXXXX.tmp``, locked with ``flock`` while the run
lives) and renamed into place when the run ends (:meth:`WarcRun.close`), after its CDXJ index
(``<name>.cdxj``): a killed run leaves no half file under a final name. Each capture's records are
flushed to the file before the snapshot naming them is written, so a killed run's snapshots name
records that are in its temp file; the next run (:func:`open_run`) or ``archiver pack`` finishes that
file (:func:`finish_unfinished`: cut after its last whole record, indexed, renamed to the name the
snapshots give). A kill loses nothing a snapshot names; a power cut may (records are not fsynced
one by one).
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import re
import threading
import zlib
from collections.abc import Iterator
from dataclasses import Field, dataclass, replace
from pathlib import Path
from typing import IO, Any, ClassVar, Protocol, TypeVar
from urllib.parse import urlsplit

try:
    import fcntl
except ImportError:  # not on Windows: no lock, a run's file is finished only by the run
    fcntl = None  # type: ignore[assignment]  # the module, or None where the platform has none

from warcio.statusandheaders import StatusAndHeaders
from warcio.timeutils import datetime_to_iso_date
from warcio.utils import Digester
from warcio.warcwriter import WARCWriter

from .. import __version__
from ..models import RawExchange, RawHop
from ..support import atomic
from ..support.surt import surt


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


def _hop_headers(hop: RawHop, date: str) -> dict[str, str]:
    headers = {"WARC-Date": date}
    if hop.exchange.peer_ip:
        headers["WARC-IP-Address"] = hop.exchange.peer_ip
    if hop.truncated:
        headers["WARC-Truncated"] = "length"
    return headers


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
            _lock_file(fd)  # held until the file is closed or the process dies: the next run leaves it alone
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
        """Append the capture's records: for each redirect answer that led to it a response and a request,
        then its own response, request and metadata records; None without a raw exchange."""
        exchange, body = capture.exchange, capture.body
        if exchange is None or body is None:
            return None
        rescue = capture.origin != "live"
        target = capture.url if rescue else exchange.url
        date = datetime_to_iso_date(capture.captured_at.astimezone(dt.UTC).replace(tzinfo=None), use_micros=False)
        warc_headers: dict[str, str] = {"WARC-Date": date}
        if exchange.peer_ip and not rescue:
            warc_headers["WARC-IP-Address"] = exchange.peer_ip
        if capture.extraction.truncated:
            warc_headers["WARC-Truncated"] = "length"
        if rescue:
            warc_headers["WARC-Refers-To-Target-URI"] = exchange.url
        with self._lock:
            for hop in exchange.hops:  # a replay follows the cited URL's redirects to the page
                self._exchange(hop, hop.exchange.url, capture.captured_at, _hop_headers(hop, date))
            response, offset, length = self._exchange(RawHop(exchange, body), target, capture.captured_at,
                                                      warc_headers, source=exchange.url if rescue else None)
            record_id = response.rec_headers.get_header("WARC-Record-ID")
            meta = {"cited-url": capture.url, "origin": capture.origin}
            if rescue:
                meta["archive-capture-url"] = exchange.url
                meta["memento-datetime"] = date
            fields = "".join(f"{k}: {v}\r\n" for k, v in meta.items()).encode("utf-8")
            writer = self._open()
            assert self._fh is not None
            writer.write_record(writer.create_warc_record(
                target, "metadata", payload=io.BytesIO(fields), length=len(fields),
                warc_headers_dict={"WARC-Date": date, "WARC-Concurrent-To": record_id},
                warc_content_type="application/warc-fields"))
            self._fh.flush()  # in the file before a snapshot names the record: a killed run loses none of them
            self.records += 1
        digest = response.rec_headers.get_header("WARC-Payload-Digest")
        return WarcRef(file=self.name, record_id=str(record_id), payload_digest=str(digest), offset=offset,
                       length=length)

    def _exchange(self, raw: RawHop, target: str, when: dt.datetime, warc_headers: dict[str, str],
                  source: str | None = None) -> tuple[Any, int, int]:
        """Write one answer's response record, then its request; index the response. Returns the response
        and where it lies in the file (offset, length)."""
        writer = self._open()
        assert self._fh is not None
        exchange, body = raw.exchange, raw.body
        http = StatusAndHeaders(f"{exchange.status} {exchange.reason}".strip(),
                                _recorded_headers(exchange, len(body)), protocol=exchange.http_version)
        response = writer.create_warc_record(target, "response", payload=io.BytesIO(body), length=len(body),
                                             warc_headers_dict=warc_headers, http_headers=http)
        record_id = response.rec_headers.get_header("WARC-Record-ID")
        request_headers = [(k, v) for k, v in exchange.request_headers if k.lower() not in _NEVER_RECORDED]
        request = writer.create_warc_record(
            target, "request", warc_headers_dict={"WARC-Date": warc_headers["WARC-Date"],
                                                  "WARC-Concurrent-To": record_id},
            http_headers=StatusAndHeaders(_request_line(exchange), request_headers, is_http_request=True))
        offset = self._fh.tell()
        writer.write_record(response)
        length = self._fh.tell() - offset
        writer.write_record(request)
        mime = next((v for k, v in exchange.headers if k.lower() == "content-type"), "")
        entry: dict[str, Any] = {"url": target, "mime": mime.split(";")[0].strip().lower() or "unk",
                                 "status": str(exchange.status),
                                 "digest": response.rec_headers.get_header("WARC-Payload-Digest"),
                                 "length": str(length), "offset": str(offset), "filename": self.name}
        if source is not None:
            entry["source"] = source
        self._index.append(f"{surt(target)} {cdx_timestamp(when)} {json.dumps(entry)}")
        return response, offset, length

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
        """Stop writing after a failed :meth:`close`: a file with records stays under its temp name for the next
        run to finish (snapshots name its records); an empty one is removed."""
        with self._lock:
            if self._fh is not None:
                self._fh.close()
            if self._tmp is not None and self.records == 0:
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
    """The run's WARC file per the ``warc_dir`` setting (None when it is off); the files of killed runs
    are finished first (:func:`finish_unfinished`)."""
    folder = settings.warc_folder
    if folder is None:
        return None
    finish_unfinished(folder)
    return WarcRun(folder, started_at, str(shard) if shard else None)


def finish_run(warcs: WarcRun | None) -> Path | None:
    """Close the run's WARC file (renamed into place) or, when that fails, leave it to the next run."""
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


def index_warc(path: Path, name: str | None = None) -> list[str]:
    """CDXJ lines of the ``response`` records of a WARC file (for a file whose own index is missing), the
    file named ``name`` in them (default: its own name)."""
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
                     "offset": str(offset), "filename": name or path.name}
            if source := record.rec_headers.get_header("WARC-Refers-To-Target-URI"):
                entry["source"] = source
            lines.append(f"{surt(url)} {cdx_timestamp(when)} {json.dumps(entry)}")
    return sorted(lines)


# --------------------------------------------------------------------------- killed runs

#: the temp name of a run's unfinished WARC file (archiver/support/atomic.py's ``open_temp``)
_UNFINISHED = re.compile(r"^\.(?P<name>archiver-.+\.warc\.gz)\.[a-z0-9_]{8}\.tmp$")


def _lock_file(fd: int) -> None:
    """Take the writer's lock on an open file (raises :class:`BlockingIOError` when a live process holds it)."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def complete_length(path: str | os.PathLike[str]) -> int:
    """The bytes of ``path`` that are whole gzip members (each WARC record is one): where a killed
    writer's last record, cut short, begins."""
    good = fed = 0  # the whole members' bytes; the bytes fed to the member being read
    member = zlib.decompressobj(wbits=31)
    data = b""
    with open(path, "rb") as fh:
        while data or (data := fh.read(1 << 20)):
            try:
                member.decompress(data)
            except zlib.error:  # not gzip from here on
                break
            if not member.eof:
                fed, data = fed + len(data), b""
                continue
            good += fed + len(data) - len(member.unused_data)
            data, fed, member = member.unused_data, 0, zlib.decompressobj(wbits=31)
    return good


def finish_unfinished(folder: str | os.PathLike[str]) -> list[Path]:
    """Finish the WARC files that killed runs left under their temp names, so every record a snapshot
    names can be read: each is cut after its last whole record, indexed (``.cdxj``) and renamed to the
    name the snapshots give. A file a live run still writes (locked) is left alone; an empty one is
    removed. Returns the files finished."""
    root = Path(folder)
    if not root.is_dir():
        return []
    done = []
    for tmp in sorted(root.iterdir()):
        m = _UNFINISHED.match(tmp.name)
        if m is not None and (path := _finish_one(tmp, root / m.group("name"))) is not None:
            done.append(path)
    return done


def _finish_one(tmp: Path, final: Path) -> Path | None:
    try:
        fd = os.open(tmp, os.O_RDWR)
    except FileNotFoundError:  # finished meanwhile by another run
        return None
    with os.fdopen(fd, "r+b") as fh:
        try:
            _lock_file(fd)
        except BlockingIOError:  # a live run's file
            return None
        if not tmp.exists() or final.exists():  # taken by another run, or a name already used: left for a person
            return None
        fh.truncate(complete_length(tmp))
        fh.flush()
        os.fsync(fd)
        lines = index_warc(tmp, final.name) if fh.seek(0, os.SEEK_END) else []
        if not lines:
            tmp.unlink()
            return None
        atomic.write_text(final.with_name(final.name.removesuffix(".warc.gz") + ".cdxj"),
                          "".join(line + "\n" for line in lines))
        os.replace(tmp, final)
    return final
