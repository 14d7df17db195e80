"""Raw captures: the check's WARC records, the snapshot header naming them, `archiver pack` (WACZ), file modes."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import os
import stat
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.models import RawExchange
from archiver.snapshots.extract import Extraction
from archiver.snapshots.store import Capture, parse
from archiver.snapshots.warc import WarcRun, digest_hex, warc_files
from archiver.support import atomic
from archiver.support.storepaths import link_dir
from archiver.timeline.catalog import canonical_url
from tests.snapshots.test_snapshot_cli import FAST, invoke, write_event
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import page

ARTICLE = page("riverton-gazette")
ECHO = page("echo-des-alpes-cp1252")


async def _serve(req: Request, conn: Conn) -> None:
    if req.path == "/gzipped":  # encoded on the wire, duplicate headers in a set order
        body = gzip.compress(ARTICLE.body)
        head = (f"HTTP/1.1 200 Fine Thanks\r\nX-Order: first\r\nContent-Type: {ARTICLE.content_type}\r\n"
                f"Set-Cookie: a=1\r\nContent-Encoding: gzip\r\nSet-Cookie: b=2\r\nContent-Length: {len(body)}\r\n"
                "Connection: close\r\n\r\n")
        await conn.write(head.encode("latin-1") + body)
    elif req.path == "/plain":
        await conn.send(200, ECHO.body, content_type=ECHO.content_type)
    else:
        await conn.send(404, b"<html><head><title>Not found</title></head><body>Not found</body></html>")


@pytest.fixture(scope="module")
def host() -> Iterator[FarmHost]:
    farm = Farm().start()
    try:
        yield farm.add("warcs", _serve)
    finally:
        farm.stop()


def _check(host: FarmHost, tmp_path: Path, *extra: str) -> dict[str, str]:
    events = tmp_path / "events"
    events.mkdir(exist_ok=True)
    urls = {"gz": host.url("/gzipped"), "plain": host.url("/plain"), "dead": host.url("/gone")}
    write_event(events, "2024-03-12--cameras", list(urls.values()))
    code, _, err = invoke(["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet",
                           *FAST, *extra], tmp_path, env={"ARCHIVER_NOW": "2024-03-13T02:00:00Z"})
    assert code == 0, err
    return urls


def _header(tmp_path: Path, url: str) -> dict[str, object]:
    text = (tmp_path / "snaps" / link_dir(canonical_url(url)) / "snapshot.md").read_text("utf-8")
    parsed = parse(text)
    assert parsed is not None
    return parsed[0]


def _records(path: Path | io.BytesIO) -> list[tuple[object, bytes]]:
    out = []
    with (open(path, "rb") if isinstance(path, Path) else path) as fh:
        for record in ArchiveIterator(fh):
            out.append((record, record.content_stream().read()))
    return out


def test_check_writes_the_exchange_as_warc_records_named_by_the_snapshot(host: FarmHost, tmp_path: Path) -> None:
    urls = _check(host, tmp_path)
    warcs = tmp_path / "warcs"
    assert sorted(p.name for p in warcs.iterdir()) == ["archiver-20240313T020000Z.cdxj",
                                                        "archiver-20240313T020000Z.warc.gz"]
    warc = warcs / "archiver-20240313T020000Z.warc.gz"
    records = _records(warc)
    assert records[0][0].rec_type == "warcinfo"
    responses = {r.rec_headers.get_header("WARC-Target-URI"): (r, body) for r, body in records
                 if r.rec_type == "response"}
    assert set(responses) == {urls["gz"], urls["plain"]}  # the dead link has no record

    header = _header(tmp_path, urls["gz"])
    record, payload = responses[urls["gz"]]
    assert record.rec_headers.protocol == "WARC/1.1"
    assert header["warc_file"] == warc.name
    assert header["warc_record_id"] == record.rec_headers.get_header("WARC-Record-ID")
    assert header["warc_payload_digest"] == record.rec_headers.get_header("WARC-Payload-Digest")
    # the payload is what the text was extracted from: the decoded body, and its digest is body_sha256
    assert payload == ARTICLE.body
    assert hashlib.sha256(payload).hexdigest() == header["body_sha256"]
    assert digest_hex(str(header["warc_payload_digest"])) == header["body_sha256"]
    assert record.rec_headers.get_header("WARC-Block-Digest").startswith("sha256:")
    assert record.rec_headers.get_header("WARC-Date") == "2024-03-13T02:00:00Z"
    assert record.rec_headers.get_header("WARC-IP-Address") == host.ip
    assert record.rec_headers.get_header("WARC-Truncated") is None
    # headers as received: status line, order, duplicates; the wire encoding kept aside, consistent lengths
    http = record.http_headers
    assert http.protocol == "HTTP/1.1" and http.statusline == "200 Fine Thanks"
    names = [k for k, _ in http.headers]
    assert names[:5] == ["X-Order", "Content-Type", "Set-Cookie", "X-Archiver-Orig-Content-Encoding", "Set-Cookie"]
    assert [v for k, v in http.headers if k == "Set-Cookie"] == ["a=1", "b=2"]
    assert http.get_header("Content-Encoding") is None
    assert http.get_header("Content-Length") == str(len(ARTICLE.body))
    requests = [r for r, _ in records if r.rec_type == "request"
                and r.rec_headers.get_header("WARC-Concurrent-To") == header["warc_record_id"]]
    assert len(requests) == 1
    assert requests[0].http_headers.protocol == "GET" and requests[0].http_headers.statusline == "/gzipped HTTP/1.1"
    assert requests[0].http_headers.get_header("Accept-Encoding")
    meta = [body for r, body in records if r.rec_type == "metadata"
            and r.rec_headers.get_header("WARC-Concurrent-To") == header["warc_record_id"]]
    assert meta and b"origin: live" in meta[0]

    # the run's index resolves each record
    for line in (warcs / "archiver-20240313T020000Z.cdxj").read_text("utf-8").splitlines():
        entry = json.loads(line.split(" ", 2)[2])
        with open(warc, "rb") as fh:
            fh.seek(int(entry["offset"]))
            (rec, _body), *_ = _records(io.BytesIO(fh.read(int(entry["length"]))))
        assert rec.rec_headers.get_header("WARC-Target-URI") == entry["url"]
        assert rec.rec_headers.get_header("WARC-Payload-Digest") == entry["digest"]


def test_pack_builds_a_wacz_an_independent_reader_replays(host: FarmHost, tmp_path: Path) -> None:
    urls = _check(host, tmp_path)
    code, out, err = invoke(["pack", "--snapshots", "snaps", "--out", "night.wacz"], tmp_path)
    assert code == 0, err
    assert "2 pages from 1 WARC file(s)" in out
    with zipfile.ZipFile(tmp_path / "night.wacz") as zf:
        names = set(zf.namelist())
        assert {"archive/archiver-20240313T020000Z.warc.gz", "indexes/index.cdx", "pages/pages.jsonl",
                "datapackage.json", "datapackage-digest.json"} <= names
        assert zf.getinfo("archive/archiver-20240313T020000Z.warc.gz").compress_type == zipfile.ZIP_STORED
        package = json.loads(zf.read("datapackage.json"))
        assert package["wacz_version"] == "1.1.1" and package["profile"] == "data-package"
        for resource in package["resources"]:
            data = zf.read(resource["path"])
            assert resource["hash"] == "sha256:" + hashlib.sha256(data).hexdigest()
            assert resource["bytes"] == len(data)
        digest = json.loads(zf.read("datapackage-digest.json"))
        assert digest["hash"] == "sha256:" + hashlib.sha256(zf.read("datapackage.json")).hexdigest()
        pages = [json.loads(line) for line in zf.read("pages/pages.jsonl").decode().splitlines()]
        assert pages[0]["format"] == "json-pages-1.0"
        assert {p["url"] for p in pages[1:]} == {urls["gz"], urls["plain"]}
        index = {}
        for line in zf.read("indexes/index.cdx").decode().splitlines():
            _key, ts, data = line.split(" ", 2)
            index[json.loads(data)["url"]] = (ts, json.loads(data))
        for p in pages[1:]:
            ts, entry = index[p["url"]]
            assert p["ts"] == "2024-03-13T02:00:00Z" and ts == "20240313020000"
            member = zf.read(f"archive/{entry['filename']}")
            chunk = member[int(entry["offset"]): int(entry["offset"]) + int(entry["length"])]
            (record, body), = _records(io.BytesIO(chunk))
            assert record.rec_type == "response" and record.rec_headers.get_header("WARC-Target-URI") == p["url"]
            assert hashlib.sha256(body).hexdigest() == _header(tmp_path, p["url"])["body_sha256"]
        for name in names:
            if name.startswith("archive/"):  # every WARC reads through
                assert all(r.rec_type for r, _ in _records(io.BytesIO(zf.read(name))))


def test_pack_without_warcs_and_with_warc_dir_off(host: FarmHost, tmp_path: Path) -> None:
    code, _, err = invoke(["pack", "--snapshots", "snaps"], tmp_path)
    assert code == 2 and "no finished WARC files" in err
    code, _, err = invoke(["pack", "--warc-dir", "off"], tmp_path)
    assert code == 2 and "warc_dir is off" in err


def test_warc_dir_off_writes_no_records_and_no_header_fields(host: FarmHost, tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    url = host.url("/plain")
    write_event(events, "e", [url])
    code, _, err = invoke(["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet",
                           *FAST], tmp_path, env={"ARCHIVER_WARC_DIR": "off"})
    assert code == 0, err
    assert not (tmp_path / "warcs").exists()
    assert "warc_file" not in _header(tmp_path, url) and _header(tmp_path, url)["body_sha256"]


def _capture(origin: str, url: str, exchange: RawExchange, body: bytes, truncated: bool = False) -> Capture:
    extraction = Extraction(kind="html", text="Some text", truncated=truncated,
                            body_sha256=hashlib.sha256(body).hexdigest(), body_bytes=len(body))
    return Capture(url=url, normalized_url=canonical_url(url), extraction=extraction, origin=origin,  # type: ignore[arg-type]
                   captured_at=dt.datetime(2020, 5, 1, 12, 0, tzinfo=dt.UTC), exchange=exchange, body=body)


def test_rescue_and_truncated_records(tmp_path: Path) -> None:
    run = WarcRun(tmp_path, dt.datetime(2024, 3, 13, 2, tzinfo=dt.UTC), shard="2/4")
    original = "https://news.example/story"
    replay = "http://127.0.0.9/web/20200501120000id_/https://news.example/story"
    ex = RawExchange(url=replay, status=200, reason="OK", headers=(("Content-Type", "text/html"),),
                     request_headers=(("Host", "127.0.0.9"), ("Authorization", "secret")), peer_ip="127.0.0.9")
    ref = run.write(_capture("wayback", original, ex, b"<html>archived</html>"))
    cut = RawExchange(url="https://big.example/", headers=(("Content-Type", "text/html"),))
    run.write(_capture("live", "https://big.example/", cut, b"x" * 100, truncated=True))
    # not closed yet: nothing under the final name (a killed run leaves only a temp file)
    assert list(warc_files(tmp_path)) == [] and not run.path.exists()
    path = run.close()
    assert path is not None and path.name == "archiver-20240313T020000Z-shard-2-of-4.warc.gz"
    records = _records(path)
    (rescue, _body), = [(r, b) for r, b in records if r.rec_type == "response"
                       and r.rec_headers.get_header("WARC-Target-URI") == original]
    assert ref is not None and rescue.rec_headers.get_header("WARC-Record-ID") == ref.record_id
    assert rescue.rec_headers.get_header("WARC-Refers-To-Target-URI") == replay
    assert rescue.rec_headers.get_header("WARC-Date") == "2020-05-01T12:00:00Z"
    assert rescue.rec_headers.get_header("WARC-IP-Address") is None  # the archive's address is not the site's
    meta = [b for r, b in records if r.rec_type == "metadata"
            and r.rec_headers.get_header("WARC-Concurrent-To") == ref.record_id]
    assert f"archive-capture-url: {replay}".encode() in meta[0]
    request = next(r for r, _ in records if r.rec_type == "request"
               and r.rec_headers.get_header("WARC-Concurrent-To") == ref.record_id)
    assert request.http_headers.get_header("Authorization") is None
    truncated = next(r for r, _ in records if r.rec_type == "response"
                 and r.rec_headers.get_header("WARC-Target-URI") == "https://big.example/")
    assert truncated.rec_headers.get_header("WARC-Truncated") == "length"


def test_an_unfinished_run_leaves_no_file_and_the_next_run_is_fine(tmp_path: Path) -> None:
    started = dt.datetime(2024, 3, 13, 2, tzinfo=dt.UTC)
    killed = WarcRun(tmp_path, started)
    ex = RawExchange(url="https://a.example/", headers=(("Content-Type", "text/html"),))
    killed.write(_capture("live", "https://a.example/", ex, b"<html>a</html>"))  # never closed: as if killed
    killed._fh.close()  # type: ignore[union-attr]  # what the OS does for a killed process: no WarcRun.close()
    nxt = WarcRun(tmp_path, started)
    nxt.write(_capture("live", "https://a.example/", ex, b"<html>a</html>"))
    assert nxt.close() == tmp_path / "archiver-20240313T020000Z.warc.gz"
    assert [p.name for p in warc_files(tmp_path)] == ["archiver-20240313T020000Z.warc.gz"]
    assert WarcRun(tmp_path, started).name == "archiver-20240313T020000Z-2.warc.gz"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600)])
def test_written_files_get_the_umask_permissions(host: FarmHost, tmp_path: Path, umask: int, mode: int) -> None:
    old = os.umask(umask)
    try:
        atomic.write_bytes(tmp_path / "a.bin", b"x")
        assert atomic.create_bytes(tmp_path / "b.bin", b"y")
        urls = _check(host, tmp_path)
    finally:
        os.umask(old)
    snap = tmp_path / "snaps" / link_dir(canonical_url(urls["gz"]))
    written = [tmp_path / "a.bin", tmp_path / "b.bin", tmp_path / "out" / "report.json",
               tmp_path / "out" / "report.html", snap / "snapshot.md", snap / "state.json",
               tmp_path / "warcs" / "archiver-20240313T020000Z.warc.gz", tmp_path / "warcs" /
               "archiver-20240313T020000Z.cdxj"]
    for path in written:
        assert stat.S_IMODE(path.stat().st_mode) == mode, path
