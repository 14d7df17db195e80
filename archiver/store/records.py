"""One WARC record read back from wherever it lives: the local WARC file, else the evidence store,
by a range read of exactly its bytes (``offset``/``length`` from the snapshot header or the CDXJ index).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..support import atomic
from .client import EvidenceStoreError, open_store, store_error
from .options import StoreOptions


@dataclass(frozen=True, slots=True)
class RecordRef:
    """Where one record is: its WARC file (name), byte offset and length (of its gzip member)."""

    file: str
    offset: int
    length: int

    @classmethod
    def from_header(cls, header: Any) -> RecordRef | None:
        """From a snapshot header's ``warc_file``, ``warc_offset``, ``warc_length`` (None when it lacks them)."""
        try:
            return cls(str(header["warc_file"]), int(header["warc_offset"]), int(header["warc_length"]))
        except (KeyError, TypeError, ValueError):
            return None


def read_range(options: StoreOptions, ref: RecordRef) -> tuple[bytes, str]:
    """The record's bytes (one gzip member) and where they were read from: the local file when it is
    there, else a range read from the store."""
    import obstore

    local = options.warc_folder / ref.file if options.warc_folder is not None else None
    if local is not None and local.is_file():
        with open(local, "rb") as fh:
            fh.seek(ref.offset)
            return fh.read(ref.length), str(local)
    store = open_store(options)
    key = f"warcs/{ref.file}"
    try:
        data = bytes(obstore.get_range(store, key, start=ref.offset, length=ref.length))
    except Exception as exc:
        raise store_error(options, exc, f"reading {key}") from None
    return data, f"{options.public_url.rstrip('/')}/{key}"


def http_response(member: bytes) -> bytes:
    """The raw HTTP response (status line, headers, body) held by one gzipped WARC response record."""
    from warcio.archiveiterator import ArchiveIterator

    for record in ArchiveIterator(io.BytesIO(member)):
        if record.rec_type != "response" or record.http_headers is None:
            break
        return bytes(record.http_headers.to_bytes()) + bytes(record.raw_stream.read())
    raise EvidenceStoreError("the bytes at that offset are not a WARC response record", "failed")


def snapshot_record(options: StoreOptions, header: Any) -> tuple[bytes, str]:
    """The raw HTTP response of a snapshot (by its header) and where it was read from."""
    ref = RecordRef.from_header(header)
    if ref is None:
        raise EvidenceStoreError("the snapshot names no WARC record with its offset and length "
                                 "(captured before they were recorded, or with warc_dir off)", "failed")
    data, source = read_range(options, ref)
    return http_response(data), source


def run_stamp(name: str) -> str | None:
    """``20250101T020000Z`` of ``archiver-20250101T020000Z[-shard-1-of-4][-2].warc.gz``, else None."""
    head = name.removeprefix("archiver-")[:16]
    return head if len(head) == 16 and head[8] == "T" and head.endswith("Z") else None


def fetch_runs(options: StoreOptions, into: Path, since: str | None = None, until: str | None = None) -> list[Path]:
    """Download the stored WARC files (with their CDXJ indexes) of the runs from ``since`` to ``until``
    (run stamps or their prefixes, e.g. ``2025-01`` or ``20250101``; both inclusive) into ``into``."""
    import obstore

    store = open_store(options)
    low = (since or "").replace("-", "")
    high = (until or "").replace("-", "")
    try:
        keys = sorted(str(meta["path"]) for meta in obstore.list(store, prefix="warcs/").collect())
    except Exception as exc:
        raise store_error(options, exc, "listing warcs/") from None
    out: list[Path] = []
    for key in keys:
        name = key.rsplit("/", 1)[-1]
        stamp = run_stamp(name)
        if stamp is None or stamp < low or (high and stamp[: len(high)] > high):
            continue
        target = into / name
        try:
            atomic.write_bytes(target, bytes(obstore.get(store, key).bytes()), fsync=False)
        except Exception as exc:
            raise store_error(options, exc, f"reading {key}") from None
        if name.endswith(".warc.gz"):
            out.append(target)
    return out
