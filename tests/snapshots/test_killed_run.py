"""A run killed with SIGKILL leaves no snapshot naming a WARC record that cannot be read once the next run
has started: its records are in its file's temp name before any snapshot names them, and the next run
finishes that file (cut after its last whole record, indexed, renamed to the name the snapshots give)."""

from __future__ import annotations

import datetime as dt
import gzip
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.models import RawExchange
from archiver.snapshots.store import parse
from archiver.snapshots.warc import WarcRun, complete_length, digest_hex, finish_unfinished, warc_files
from tests.snapshots.test_snapshot_cli import FAST, write_event
from tests.snapshots.test_warc import _capture
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import load_pages

PAGES = [p for p in load_pages() if p.content_type.startswith("text/html")][:8]

#: the CLI, SIGKILLed by itself right after the first snapshot file is written (a real kill at a known point)
KILLED_CHECK = r"""
import os, signal, sys
from archiver.snapshots import store
create = store.SnapshotStore._create
def create_then_die(self, path, fields, text):
    info = create(self, path, fields, text)
    if info is not None:
        os.kill(os.getpid(), signal.SIGKILL)
    return info
store.SnapshotStore._create = create_then_die
from archiver.cli import main
sys.argv[0] = "archiver"
main()
"""


async def _serve(req: Request, conn: Conn) -> None:
    n = int(req.path.strip("/").removeprefix("p") or -1)
    if 0 <= n < len(PAGES):
        await conn.send(200, PAGES[n].body, content_type=PAGES[n].content_type)
    else:
        await conn.send(404, b"<html><title>Not found</title></html>")


@pytest.fixture(scope="module")
def host() -> Iterator[FarmHost]:
    farm = Farm().start()
    try:
        yield farm.add("killed", _serve)
    finally:
        farm.stop()


def _check(root: Path, now: str, code: str | None = None) -> subprocess.CompletedProcess[str]:
    args = ["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet", *FAST]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")} | {"ARCHIVER_NOW": now}
    command = [sys.executable, "-c", code, *args] if code else [sys.executable, "-m", "archiver.cli", *args]
    return subprocess.run(command, cwd=root, capture_output=True, text=True, timeout=120, env=env)


def _named_records(root: Path) -> list[dict[str, str]]:
    out = []
    for path in sorted((root / "snaps").rglob("*.md")):
        parsed = parse(path.read_text("utf-8"))
        if parsed is not None and "warc_file" in parsed[0]:
            out.append({k: str(v) for k, v in parsed[0].items()})
    return out


def _read_record(warcs: Path, header: dict[str, str]) -> bytes | None:
    """The payload of the response record a snapshot names, or None when it cannot be read."""
    path = warcs / header["warc_file"]
    if not path.is_file():
        return None
    with open(path, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_headers.get_header("WARC-Record-ID") == header["warc_record_id"]:
                return bytes(record.content_stream().read())
    return None


@pytest.mark.subprocess
def test_a_killed_run_s_records_resolve_after_the_next_run(host: FarmHost, tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    write_event(tmp_path / "events", "2024-03-12--many", [host.url(f"/p{n}") for n in range(len(PAGES))])
    killed = _check(tmp_path, "2024-03-13T02:00:00Z", KILLED_CHECK)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    named = _named_records(tmp_path)
    assert len(named) == 1  # killed right after the first snapshot file
    warcs = tmp_path / "warcs"
    # what a kill leaves: the snapshot names a file that is still under its temp name, its record already in it
    assert list(warc_files(warcs)) == [] and not (warcs / named[0]["warc_file"]).exists()
    (unfinished,) = [p for p in warcs.iterdir() if p.name.endswith(".tmp") and ".warc.gz." in p.name]
    assert complete_length(unfinished) > 0

    done = _check(tmp_path, "2024-03-14T02:00:00Z")
    assert done.returncode == 0, done.stderr
    named = _named_records(tmp_path)
    assert len(named) == len(PAGES)
    assert {h["warc_file"] for h in named} == {"archiver-20240313T020000Z.warc.gz",
                                               "archiver-20240314T020000Z.warc.gz"}
    for header in named:
        body = _read_record(warcs, header)
        assert body is not None, header["warc_file"]
        assert digest_hex(header["warc_payload_digest"]) == header["body_sha256"]
    assert not [p for p in warcs.iterdir() if p.name.endswith(".tmp")]
    # and any other file of the runs (state, reports) that names a WARC file names one that is there
    for path in tmp_path.rglob("*"):
        if path.is_file() and warcs not in path.parents and path.suffix in (".json", ".md", ".jsonl", ".yaml"):
            for name in re.findall(r"archiver-[0-9A-Za-z-]+\.warc\.gz", path.read_text("utf-8", "replace")):
                assert (warcs / name).is_file(), (path, name)


def test_finishing_cuts_a_half_written_record_and_keeps_the_whole_ones(tmp_path: Path) -> None:
    run = WarcRun(tmp_path, dt.datetime(2024, 3, 13, 2, tzinfo=dt.UTC))
    ex = RawExchange(url="https://a.example/", headers=(("Content-Type", "text/html"),))
    refs = [run.write(_capture("live", f"https://a.example/{n}", ex, b"<html>%d</html>" % n)) for n in range(3)]
    assert run._fh is not None and run._tmp is not None
    whole = run._fh.tell()
    run._fh.write(gzip.compress(b"WARC/1.1\r\nWARC-Type: response\r\n" + os.urandom(5000))[:200])  # cut short
    run._fh.flush()
    assert complete_length(run._tmp) == whole
    # a live run's file is locked: another run leaves it alone
    assert finish_unfinished(tmp_path) == [] and Path(run._tmp).exists()
    run._fh.close()  # what the OS does for a killed process (the lock goes with it)
    (path,) = finish_unfinished(tmp_path)
    assert path == run.path and path.stat().st_size == whole
    with open(path, "rb") as fh:
        ids = [r.rec_headers.get_header("WARC-Record-ID") for r in ArchiveIterator(fh) if r.rec_type == "response"]
    assert ids == [ref.record_id for ref in refs if ref is not None]
    index = run.index_path.read_text("utf-8").splitlines()
    assert len(index) == 3 and all('"filename": "archiver-20240313T020000Z.warc.gz"' in line for line in index)
    assert finish_unfinished(tmp_path) == []  # nothing left to finish


def test_an_empty_unfinished_file_is_removed(tmp_path: Path) -> None:
    run = WarcRun(tmp_path, dt.datetime(2024, 3, 13, 2, tzinfo=dt.UTC))
    run._open()  # the warcinfo record only: no capture, so nothing names it
    assert run._fh is not None and run._tmp is not None
    run._fh.close()
    assert finish_unfinished(tmp_path) == [] and not Path(run._tmp).exists() and not run.path.exists()
