"""Where each snapshot's raw record lives, for report.json: ``snapshot.warc`` = the WARC file, record id,
offset and length, with the store and key once the file is pushed and verified."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..reportmodel import Report
from ..support import atomic
from .ledger import Ledger
from .options import StoreOptions

_FIELDS = {"warc_file": "file", "warc_record_id": "record_id", "warc_offset": "offset", "warc_length": "length"}


def header_record(path: Path) -> dict[str, Any]:
    """The ``warc_*`` fields of a snapshot file's header (read line by line: no YAML parse)."""
    out: dict[str, Any] = {}
    try:
        with open(path, encoding="utf-8") as fh:
            if fh.readline() != "---\n":
                return out
            for line in fh:
                if line == "---\n":
                    break
                name, _, value = line.partition(": ")
                if name in _FIELDS:
                    text = value.strip().strip("'\"")
                    out[_FIELDS[name]] = int(text) if name in ("warc_offset", "warc_length") else text
    except (OSError, UnicodeDecodeError, ValueError):
        return {}
    return out


def locate(options: StoreOptions, ledger: Ledger, file: str) -> dict[str, Any]:
    """``{"store", "key"}`` of a WARC file: in the store once pushed and verified, else in the WARC
    folder (``pending`` when it is still to be pushed)."""
    local = {"store": str(options.warc_folder) if options.warc_folder else None, "key": file}
    if options.is_warc_folder:
        return local
    return ledger.location(f"warcs/{file}") or {**local, "pending": True}


def add_locations(report: Report, options: StoreOptions) -> None:
    """Give every link's ``snapshot`` in ``report`` its raw record's location (``snapshot.warc``)."""
    ledger = Ledger.load(options.ledger_path)
    for link in report.links:
        snapshot = link.snapshot
        if snapshot is None or snapshot.warc is None or not snapshot.warc.file:  # the header named no record
            continue
        where = locate(options, ledger, snapshot.warc.file)
        warc = replace(snapshot.warc, store=where["store"], key=where["key"], pending=bool(where.get("pending")))
        link.snapshot = replace(snapshot, warc=warc)


def stamp_headers(snapshots: Path, pushed: dict[str, dict[str, Any]]) -> int:
    """Add ``warc_store`` and ``warc_key`` to the header of every snapshot (``snapshot*.md`` under ``snapshots``)
    whose ``warc_file`` was just pushed and verified (``pushed``: file name to ``{"store", "key"}``), each file
    rewritten atomically; a header that has them already is left alone. The number of files stamped."""
    if not pushed or not snapshots.is_dir():
        return 0
    stamped = 0
    for path in snapshots.glob("*/*/snapshot*.md"):
        record = header_record(path)
        where = pushed.get(str(record.get("file")))
        if where is not None and _stamp(path, where):
            stamped += 1
    return stamped


def _stamp(path: Path, where: dict[str, Any]) -> bool:
    text = path.read_text("utf-8")
    end = text.find("\n---\n", 3)
    if end < 0 or "\nwarc_store: " in text[:end]:
        return False
    lines = text[: end + 1].split("\n")
    after = max(i for i, line in enumerate(lines) if line.startswith("warc_"))
    lines[after + 1:after + 1] = [f"warc_store: {json.dumps(where['store'])}", f"warc_key: {json.dumps(where['key'])}"]
    atomic.write_text(path, "\n".join(lines) + text[end + 1:])
    return True
