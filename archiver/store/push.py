"""Pushing finished files to the evidence store: every finished WARC file and its CDXJ index under
``warcs/<file>``, the night's WACZ under ``wacz/<file>``.

A key is never overwritten: each upload is a ``put`` with ``mode="create"``. An existing key whose
bytes have the same sha256 counts as done (a retried upload, a second run); one with other bytes is
a conflict, reported and left pending. Every upload is verified by reading it back (size and
sha256) before the ledger records it. A local file is deleted only after its upload is verified,
and only when ``keep_local`` is off. When the store is down or refuses the credentials, the files
left are pending in the ledger, and the next run (or ``archiver push``) tries them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..reportmodel import EvidenceStoreRun
from .client import EvidenceStoreError, open_store, store_error
from .ledger import Ledger
from .locations import stamp_headers
from .options import StoreOptions

if TYPE_CHECKING:
    from obstore.store import ObjectStore

CHUNK = 1 << 20


@dataclass(slots=True)
class PushOutcome:
    """What one push did: keys pushed (verified), keys still pending, the errors (one line each)."""

    store: str
    pushed: list[str] = field(default_factory=list)
    pending: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    #: bytes uploaded and verified this push
    bytes: int = 0
    #: False when there is nothing to push to (the store is the WARC folder itself)
    active: bool = True

    def record(self) -> EvidenceStoreRun:
        """``run.evidence_store`` of report.json."""
        return EvidenceStoreRun(store=self.store, pushed=len(self.pushed), pending=len(self.pending),
                                errors=list(self.errors))

    def line(self) -> str:
        """The run summary's line."""
        return self.record().line()


def candidates(options: StoreOptions, extra: Iterable[Path] = ()) -> list[tuple[str, Path]]:
    """``(key, local file)`` of every finished WARC file with its CDXJ index, oldest run first, then ``extra``."""
    from ..snapshots.warc import warc_files

    out: list[tuple[str, Path]] = []
    if options.warc_folder is not None:
        for warc in warc_files(options.warc_folder):
            out.append((f"warcs/{warc.name}", warc))
            index = warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj")
            if index.is_file():
                out.append((f"warcs/{index.name}", index))
    out.extend((f"wacz/{path.name}", path) for path in extra)
    return out


def file_digest(path: Path) -> tuple[int, str]:
    """Size and sha256 (hex) of a local file."""
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest()


def stored_digest(store: ObjectStore, key: str) -> tuple[int, str]:
    """Size and sha256 (hex) of a stored object, read back in full."""
    import obstore

    digest, size = hashlib.sha256(), 0
    for chunk in obstore.get(store, key).stream(min_chunk_size=CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def upload(options: StoreOptions, store: ObjectStore, key: str, path: Path) -> dict[str, Any]:
    """Put ``path`` under ``key`` (never overwriting), read it back; the ledger entry. Raises
    :class:`EvidenceStoreError` (``conflict`` when the key holds other bytes)."""
    import obstore
    from obstore.exceptions import AlreadyExistsError

    try:
        size, sha = file_digest(path)
    except OSError as exc:  # the local file went away or cannot be read: this file only
        raise EvidenceStoreError(f"cannot read {path}: {exc.strerror or exc}", "local") from None
    existed = False
    try:
        obstore.put(store, key, path, mode="create")
    except AlreadyExistsError:
        existed = True  # a retried upload, or the same file pushed before: same bytes count as done
    except Exception as exc:
        raise store_error(options, exc, f"uploading {key}") from None
    try:
        got = stored_digest(store, key)
    except Exception as exc:
        raise store_error(options, exc, f"reading back {key}") from None
    if got != (size, sha):
        what = "holds other bytes: not overwritten" if existed else "read back different bytes"
        raise EvidenceStoreError(f"{key} in the evidence store {options.public_url} {what} "
                                 f"({got[0]} bytes, sha256 {got[1][:12]}… against {size}, {sha[:12]}…)", "conflict")
    return {"store": options.public_url, "size": size, "sha256": sha,
            "pushed_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def push(options: StoreOptions, extra: Iterable[Path] = ()) -> PushOutcome:
    """Push every finished file not yet in the store (and the pending ones); never raises for the store."""
    out = PushOutcome(store=options.public_url)
    if options.is_warc_folder or not options.url:  # the default (or warc_dir off): nothing to push
        out.active = False
        return out
    ledger = Ledger.load(options.ledger_path)
    todo = [(key, path) for key, path in _with_pending(candidates(options, extra), ledger)
            if not ledger.is_pushed(key, options.public_url)]
    if not todo:
        return out
    try:
        store = open_store(options)
    except EvidenceStoreError as exc:
        _leave(ledger, out, todo, str(exc))
        return out
    for n, (key, path) in enumerate(todo):
        try:
            ledger.mark_pushed(key, upload(options, store, key, path))
        except EvidenceStoreError as exc:
            if exc.kind in ("conflict", "local"):  # this key only (other bytes there, the local file unreadable)
                _leave(ledger, out, [(key, path)], str(exc))
                continue
            _leave(ledger, out, todo[n:], str(exc))  # store down or credentials refused: stop here
            return out
        out.pushed.append(key)
        out.bytes += ledger.pushed[key]["size"]
        ledger.save()
        if key.endswith(".warc.gz"):  # the snapshots naming its records now say where it is kept
            stamp_headers(options.ledger_path.parent, {path.name: {"store": options.public_url, "key": key}})
        if not options.evidence_keep_local and key.startswith("warcs/"):
            path.unlink(missing_ok=True)
    return out


def _with_pending(items: list[tuple[str, Path]], ledger: Ledger) -> list[tuple[str, Path]]:
    """``items`` and the pending files of earlier pushes that are not among them (a WACZ pushed with a run)."""
    known = {key for key, _ in items}
    more = [(key, Path(str(entry.get("local")))) for key, entry in ledger.pending.items()
            if key not in known and entry.get("local") and Path(str(entry.get("local"))).is_file()]
    return items + more


def _leave(ledger: Ledger, out: PushOutcome, items: list[tuple[str, Path]], error: str) -> None:
    for key, path in items:
        ledger.mark_pending(key, path, error)
        out.pending.append(key)
    out.errors.append(error)
    ledger.save()
