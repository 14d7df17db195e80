"""`archiver snapshot`, `archiver show` and the snapshot stage of `archiver check`, against a loopback farm."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from archiver.cli import cli
from archiver.report.build import load_schema
from archiver.snapshots.store import parse
from archiver.support.storepaths import link_dir
from archiver.timeline.catalog import canonical_url
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import page, real_rewrite
from tests.support.pdfgen import make_pdf, wrap

FAST = ["--per-host-gap", "0", "--connect-timeout", "2", "--read-timeout", "2", "--total-timeout", "5",
        "--attempts", "1", "--backoff-base", "0", "--allow-networks", "127.0.0.0/8"]
PDF = make_pdf([wrap("UNITED STATES DISTRICT COURT. ORDER ON THE MOTION TO DISMISS. " + "The motion is denied "
                     "because the complaint plausibly alleges that the searches were unreasonable. " * 12)],
               title="Order on the motion to dismiss")


class Site:
    """Pages served by one loopback host; ``pages`` can change between runs."""

    def __init__(self) -> None:
        self.pages: dict[str, tuple[int, bytes, str]] = {}

    async def handle(self, req: Request, conn: Conn) -> None:
        status, body, ctype = self.pages.get(req.path, (404, b"<html><head><title>Not found</title></head>"
                                                             b"<body><h1>Not found</h1></body></html>",
                                                        "text/html; charset=utf-8"))
        await conn.send(status, body, content_type=ctype)


@pytest.fixture(scope="module")
def site() -> Iterator[tuple[Site, FarmHost]]:
    farm = Farm().start()
    s = Site()
    host = farm.add("snapshots", s.handle)
    riverton, echo, stub = page("riverton-gazette"), page("echo-des-alpes-cp1252"), page("paywall-stub")
    s.pages.update({
        "/news/council-cameras": (200, riverton.body, riverton.content_type),
        "/grenoble/videosurveillance": (200, echo.body, echo.content_type),
        "/politics/audit": (200, stub.body, stub.content_type),
        "/filings/order.pdf": (200, PDF, "application/pdf"),
        "/images/photo.png": (200, b"\x89PNG\r\n\x1a\n" + bytes(200), "image/png"),
    })
    try:
        yield s, host
    finally:
        farm.stop()


def invoke(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    old = Path.cwd()
    os.chdir(cwd)
    try:
        clean = {k: None for k in os.environ if k.startswith("ARCHIVER_")}
        result = runner.invoke(cli, args, env={**clean, **(env or {})}, catch_exceptions=False)
    finally:
        os.chdir(old)
    return result.exit_code, result.stdout, result.stderr


def test_snapshot_then_show(site: tuple[Site, FarmHost], tmp_path: Path) -> None:
    _, host = site
    url = host.url("/news/council-cameras")
    snaps = tmp_path / "snaps"
    code, out, err = invoke(["snapshot", url, "--snapshots", str(snaps), *FAST], tmp_path)
    assert code == 0, err
    assert f"{url}: alive" in out and "snapshot: written: first good capture" in out
    stored = snaps / link_dir(canonical_url(url)) / "snapshot.md"
    assert stored.is_file()
    parsed = parse(stored.read_text("utf-8"))
    assert parsed is not None and parsed[0]["http_status"] == 200 and parsed[0]["origin"] == "live"
    before = stored.read_bytes()

    code, out, err = invoke(["show", url, "--snapshots", str(snaps)], tmp_path)
    assert code == 0, err
    assert f"url: {url}" in out and "text_sha256: " in out and "captured_at: " in out
    assert "five-year contract for automated license plate readers" in out
    assert "We use cookies" not in out

    code, out, _ = invoke(["snapshot", url, "--snapshots", str(snaps), *FAST], tmp_path)
    assert code == 0 and "snapshot: unchanged" in out
    assert stored.read_bytes() == before


def test_snapshot_of_a_pdf_and_a_declared_charset(site: tuple[Site, FarmHost], tmp_path: Path) -> None:
    _, host = site
    snaps = tmp_path / "snaps"
    for path, expect in (("/filings/order.pdf", "## Page 1"), ("/grenoble/videosurveillance", "16 000 €")):
        url = host.url(path)
        code, _, err = invoke(["snapshot", url, "--snapshots", str(snaps), *FAST], tmp_path)
        assert code == 0, err
        code, out, _ = invoke(["show", url, "--snapshots", str(snaps)], tmp_path)
        assert code == 0 and expect in out


@pytest.mark.parametrize(("path", "why"), [("/gone/article", "the page is dead"),
                                           ("/politics/audit", "thin text"),
                                           ("/images/photo.png", "not extractable")])
def test_pages_that_cannot_be_captured(site: tuple[Site, FarmHost], tmp_path: Path, path: str, why: str) -> None:
    _, host = site
    snaps = tmp_path / "snaps"
    code, _, err = invoke(["snapshot", host.url(path), "--snapshots", str(snaps), *FAST], tmp_path)
    assert code == 1 and why in err
    assert not snaps.exists()


def test_snapshot_obeys_the_network_safety_rules(site: tuple[Site, FarmHost], tmp_path: Path) -> None:
    _, host = site
    url = host.url("/news/council-cameras?refused=1")
    code, out, _ = invoke(["snapshot", url, "--snapshots", str(tmp_path / "s")], tmp_path)
    assert code == 1 and ": invalid" in out and "loopback" in out
    assert host.hits("/news/council-cameras?refused=1") == []


def test_show_without_a_snapshot(tmp_path: Path) -> None:
    code, _, err = invoke(["show", "https://example.com/never-captured", "--snapshots", str(tmp_path)], tmp_path)
    assert code == 1 and err.startswith("archiver: no snapshot of https://example.com/never-captured")
    code, _, err = invoke(["snapshot", "ftp://example.com/x"], tmp_path)
    assert code == 2 and "not an http(s) URL" in err


def write_event(folder: Path, event_id: str, urls: list[str]) -> None:
    sources = "".join(f"  - url: {u}\n    title: Source {i}\n    publisher: Example\n    date: 2024-03-12\n"
                      f"    tier: 1\n" for i, u in enumerate(urls))
    (folder / f"{event_id}.md").write_text(
        f"---\nid: {event_id}\ndate: 2024-03-12\ntitle: Event {event_id}\nsources:\n{sources}---\n\nBody.\n",
        encoding="utf-8")


@pytest.mark.subprocess
def test_check_stores_snapshots_and_reports_drift(site: tuple[Site, FarmHost], tmp_path: Path) -> None:
    s, host = site
    riverton = page("riverton-gazette")
    s.pages["/news/drifting"] = (200, riverton.body, riverton.content_type)
    events = tmp_path / "events"
    events.mkdir()
    urls = {name: host.url(path) for name, path in (
        ("article", "/news/drifting"), ("pdf", "/filings/order.pdf"), ("stub", "/politics/audit"),
        ("dead", "/gone/missing-story"))}
    write_event(events, "2024-03-12--cameras", list(urls.values()))
    args = ["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet", *FAST]

    done = subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=tmp_path, capture_output=True, text=True,
                          timeout=60, check=False, env={**{k: v for k, v in os.environ.items()
                                                           if not k.startswith("ARCHIVER_")},
                                                        "ARCHIVER_NOW": "2024-03-13T02:00:00Z",
                                                        "PYTHONPATH": str(Path(__file__).resolve().parents[2])})
    assert done.returncode == 0, done.stderr
    assert "snapshots: 2 written, 1 rejected" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker()).validate(report)
    by_url = {e["url"]: e for e in report["links"]}
    snap = by_url[urls["article"]]["snapshot"]
    assert snap["path"] == f"snaps/{link_dir(canonical_url(urls['article']))}/snapshot.md"
    assert snap["origin"] == "live" and snap["captured_at"] == "2024-03-13T02:00:00Z" and len(snap["sha256"]) == 64
    assert (tmp_path / snap["path"]).is_file()
    assert by_url[urls["pdf"]]["snapshot"]["path"].endswith("/snapshot.md")
    assert by_url[urls["stub"]]["snapshot"] is None and "thin" in by_url[urls["stub"]]["snapshot_note"]
    assert "snapshot" not in by_url[urls["dead"]] or by_url[urls["dead"]]["snapshot"] is None
    assert "extract" in report["run"]["stage_seconds"]
    assert not [f for f in report["findings"] if f["kind"] == "content_drift"]

    s.pages["/news/drifting"] = (200, real_rewrite(riverton), riverton.content_type)  # a paragraph rewritten
    code, _, err = invoke(args, tmp_path, env={"ARCHIVER_NOW": "2024-03-20T02:00:00Z", "ARCHIVER_RECHECK_DAYS": "1"})
    assert code == 0, err
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    (drift,) = [f for f in report["findings"] if f["kind"] == "content_drift"]
    assert drift["url"] == urls["article"] and drift["event"] == "2024-03-12--cameras" and drift["source_index"] == 0
    assert drift["expected"] == snap["sha256"] and drift["actual"] != snap["sha256"]
    assert 0 < drift["data"]["similarity"] < 0.9 and "of the text is the same" in drift["message"]
    entry = {e["url"]: e for e in report["links"]}[urls["article"]]["snapshot"]
    assert entry["path"] == snap["path"] and entry["latest"]["path"].endswith("snapshot-20240320T020000Z.md")
    assert entry["action"] == "drift"
    assert (tmp_path / entry["latest"]["path"]).is_file()


def test_audit_reads_the_snapshots_page_metadata(tmp_path: Path) -> None:
    import datetime as dt

    from archiver.snapshots.extract import extract
    from archiver.snapshots.store import Capture, SnapshotStore

    p = page("riverton-gazette")
    SnapshotStore(tmp_path / "snapshots").save(Capture(
        url=p.url, normalized_url=canonical_url(p.url), captured_at=dt.datetime(2024, 3, 13, tzinfo=dt.UTC),
        extraction=extract(p.body, p.content_type, p.url), http_status=200, content_type="text/html"))
    events = tmp_path / "events"
    events.mkdir()
    (events / "e.md").write_text(
        "---\nid: e\ndate: 2024-03-12\ntitle: Cameras\nsources:\n"
        f"  - url: {p.url}\n    title: School board delays vote on bus routes\n    publisher: Riverton Gazette\n"
        "    date: 2024-03-12\n    tier: 2\n---\n", encoding="utf-8")
    code, out, err = invoke(["audit", "--format", "json"], tmp_path)
    assert code == 0, err
    kinds = {f["kind"]: f for f in json.loads(out)["findings"]}
    assert "title_mismatch" in kinds
    assert kinds["title_mismatch"]["expected"].startswith("Riverton council approves")
