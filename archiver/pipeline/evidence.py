"""The evidence-store commands as library calls: ``archiver push``, ``archiver show --raw`` and
``archiver pack --from-store`` (the store itself is :mod:`archiver.store`)."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TextIO

from ..config import Settings
from ..history.lock import LockError, run_lock
from ..snapshots.store import parse
from ..snapshots.wacz import pack, select_warcs
from ..store.client import EvidenceStoreError
from ..store.push import push
from ..store.records import fetch_runs, snapshot_record
from .summary import ExitCode, error_exit


def run_push(settings: Settings, wacz: list[Path], *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """``archiver push``: every finished WARC file (with its index) not yet in the evidence store, the pending
    ones, and ``wacz``, under the run lock. Exit 0 when nothing is left pending, 2 when something is."""
    out, err = out or sys.stdout, err or sys.stderr
    options = settings.store_options
    if options.is_warc_folder or not options.url:
        print(f"archiver: evidence_store is not set: the WARC files stay in {options.warc_folder} "
              "(set ARCHIVER_EVIDENCE_STORE to a folder or s3://bucket/prefix)", file=err)
        return ExitCode.FAILED
    try:
        with run_lock(settings.snapshots, err=err):
            outcome = push(options, wacz)
    except LockError as exc:
        print(error_exit(exc)[1], file=err)
        return ExitCode.FAILED
    print(outcome.line(), file=out)
    for error in outcome.errors:
        print(f"archiver: {error}", file=err)
    return ExitCode.FAILED if outcome.pending else ExitCode.OK


def show_raw(settings: Settings, snapshots: list[Path], *, err: TextIO | None = None) -> int:
    """``show --raw``: each snapshot's raw HTTP response on standard output (bytes as recorded), where it was
    read from on ``err``. Raises :class:`EvidenceStoreError` when a record cannot be read."""
    err = err or sys.stderr
    options = settings.store_options
    stdout = sys.stdout.buffer
    for path in snapshots:
        parsed = parse(path.read_text("utf-8"))
        data, source = snapshot_record(options, parsed[0] if parsed else {})
        print(f"archiver: {path.name}: record read from {source}", file=err)
        stdout.write(data)
    stdout.flush()
    return ExitCode.OK


def pack_from_store(settings: Settings, out: Path, runs: tuple[str, ...], since: str | None = None,
                    until: str | None = None) -> int:
    """``pack --from-store``: the runs from ``since`` to ``until`` read from the evidence store, packed."""
    options = settings.store_options
    with tempfile.TemporaryDirectory(prefix="archiver-pack-") as tmp:
        fetch_runs(options, Path(tmp), since, until)
        warcs = select_warcs(Path(tmp), runs)
        if not warcs:
            raise EvidenceStoreError(f"no WARC files in the evidence store {options.public_url} from "
                                     f"{since or 'the first run'} to {until or 'the last'}")
        done = pack(warcs, out, now=settings.clock())
    print(f"{done.path}: {done.pages} pages from {done.warcs} WARC file(s) of {options.public_url}, "
          f"{done.bytes} bytes")
    return ExitCode.OK
