"""The snapshot store: provenance header, never-worse, drift versus cosmetic changes, no-op writes."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from archiver.models import CheckResult, Citation, Link
from archiver.snapshots.extract import Extraction, extract, failed, media_type
from archiver.snapshots.store import FIRST, Capture, SnapshotStore, drift_findings, parse, report_entry
from archiver.support.storepaths import link_dir
from archiver.timeline.catalog import canonical_url
from tests.support.pagefixtures import COSMETIC, REAL, Page, articles, page, real_replaced
from tests.support.pdfgen import make_pdf, wrap

T0 = dt.datetime(2024, 3, 13, 2, 0, tzinfo=dt.UTC)
T1 = dt.datetime(2024, 4, 1, 2, 0, tzinfo=dt.UTC)
T2 = dt.datetime(2024, 4, 2, 2, 0, tzinfo=dt.UTC)
EVENTS = ("2024-03-12--riverton-cameras", "2024-06-01--camera-audit")


def capture(p: Page, body: bytes | None = None, *, at: dt.datetime = T0, status: str = "alive",
            extraction: Extraction | None = None, origin: str = "live", http_status: int = 200) -> Capture:
    x = extraction or extract(body if body is not None else p.body, p.content_type, p.url)
    return Capture(url=p.url, normalized_url=canonical_url(p.url), captured_at=at, extraction=x, status=status,
                   http_status=http_status, final_url=p.url, content_type=media_type(p.content_type),
                   origin=origin, cited_by=EVENTS)  # type: ignore[arg-type]


def files(root: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``root`` with its bytes and modification time: to prove nothing was written."""
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def link_for(p: Page) -> Link:
    return Link(url=p.url, normalized_url=canonical_url(p.url), citations=[
        Citation(event=EVENTS[0], file="2024/03/riverton.md", source_index=0, line=7),
        Citation(event=EVENTS[1], file="2024/06/audit.md", source_index=2, line=12)])


@pytest.fixture
def store(tmp_path: Path) -> SnapshotStore:
    return SnapshotStore(tmp_path / "snapshots")


def test_first_good_capture_is_written_with_provenance(store: SnapshotStore) -> None:
    p = page("riverton-gazette")
    outcome = store.save(capture(p))
    assert outcome.action == "written" and outcome.written is not None
    path = store.root / link_dir(canonical_url(p.url)) / FIRST
    assert outcome.written.path == path and path.is_file()
    assert path.parent.parent.name == "rivertongazette.com"
    content = path.read_text("utf-8")
    assert content.startswith("---\nformat: archiver.snapshot/1\ntitle: Riverton council approves")
    parsed = parse(content)
    assert parsed is not None
    header, text = parsed
    assert header["url"] == p.url and header["final_url"] == p.url
    assert header["normalized_url"] == canonical_url(p.url)
    assert header["captured_at"] == "2024-03-13T02:00:00Z"
    assert header["http_status"] == 200 and header["content_type"] == "text/html"
    assert header["origin"] == "live" and header["wayback_url"] is None
    assert header["body_sha256"] == hashlib.sha256(p.body).hexdigest() and header["body_bytes"] == len(p.body)
    assert header["text_sha256"] == hashlib.sha256(text.encode()).hexdigest()  # everything after the blank line
    assert header["extractor"].startswith("trafilatura ") and header["kind"] == "html"
    assert header["author"] == "Maria Delgado" and header["published"] == "2024-03-12"
    assert header["site_name"] == "Riverton Gazette"
    assert header["cited_by"] == list(EVENTS) and header["version"] == "first"
    assert "five-year contract for automated license plate readers" in text
    assert "We use cookies" not in text
    snap = store.read(canonical_url(p.url))
    assert snap is not None and snap.text == text and store.latest(canonical_url(p.url)) == snap.info


def test_an_unchanged_page_changes_no_file(store: SnapshotStore) -> None:
    p = page("continental-press")
    store.save(capture(p))
    before = files(store.root)
    again = store.save(capture(p, at=T1))
    assert again.action == "unchanged" and again.written is None
    assert files(store.root) == before


@pytest.mark.parametrize("change", list(COSMETIC), ids=list(COSMETIC))
@pytest.mark.parametrize("p", articles()[:5], ids=lambda p: p.name)
def test_cosmetic_changes_are_not_drift(store: SnapshotStore, p: Page, change: str) -> None:
    store.save(capture(p))
    before = files(store.root)
    outcome = store.save(capture(p, COSMETIC[change](p), at=T1))
    assert outcome.action == "unchanged", outcome.reason
    assert files(store.root) == before
    assert drift_findings(link_for(p), outcome) == []


EDITS: dict[str, Callable[[Page], bytes]] = {**REAL, "replaced": lambda p: real_replaced(p, page("continental-press"))}


@pytest.mark.parametrize("edit", list(EDITS), ids=list(EDITS))
def test_real_edits_are_kept_beside_the_first_capture(store: SnapshotStore, edit: str) -> None:
    p = page("ledger-review")
    url = canonical_url(p.url)
    first = store.save(capture(p))
    assert first.written is not None
    first_bytes = first.written.path.read_bytes()
    changed = EDITS[edit](p)

    outcome = store.save(capture(p, changed, at=T1))
    assert outcome.action == "drift", outcome.reason
    assert outcome.written is not None and outcome.written.path.name == "snapshot-20240401T020000Z.md"
    assert first.written.path.read_bytes() == first_bytes  # the first capture is kept as it was
    header = outcome.written.header
    assert header["version"] == "drift" and header["first_capture"] == FIRST
    assert 0 <= header["similarity_to_first"] < 1
    assert [v.path.name for v in store.versions(url)] == [FIRST, "snapshot-20240401T020000Z.md"]

    findings = drift_findings(link_for(p), outcome, display=lambda path: path.name)
    assert len(findings) == 2 and {f.event for f in findings} == set(EVENTS)
    f = findings[0]
    assert f.kind == "content_drift" and f.severity == "warning" and f.url == p.url
    assert f.expected == first.written.header["text_sha256"] and f.actual == header["text_sha256"]
    assert f.data is not None and f.data["similarity"] == header["similarity_to_first"]
    assert f"{f.data['similarity']:.0%} of the text is the same" in f.message
    assert f.file == "2024/03/riverton.md" and f.line == 7 and f.source_index == 0

    before = files(store.root)
    seen = store.save(capture(p, changed, at=T2))  # the same drifted text next night
    assert seen.action == "drift_seen" and files(store.root) == before
    assert len(drift_findings(link_for(p), seen)) == 2  # still reported: the page still differs

    back = store.save(capture(p, at=T2))  # the page went back to what was first captured
    assert back.action == "unchanged" and files(store.root) == before


def test_a_page_cut_down_to_a_stub_is_not_drift_but_kept(store: SnapshotStore) -> None:
    p = page("riverton-gazette")
    store.save(capture(p))
    before = files(store.root)
    outcome = store.save(capture(p, REAL["gutted"](p), at=T1))  # two paragraphs left: thin
    assert outcome.action == "kept" and "thin" in outcome.reason
    assert files(store.root) == before and drift_findings(link_for(p), outcome) == []


def test_a_second_drift_gets_its_own_version(store: SnapshotStore) -> None:
    p = page("notes-on-oversight")
    store.save(capture(p))
    store.save(capture(p, REAL["rewrite"](p), at=T1))
    third = store.save(capture(p, REAL["gutted"](p), at=T2))
    assert third.action == "drift"
    assert [v.path.name for v in store.versions(canonical_url(p.url))] == [
        FIRST, "snapshot-20240401T020000Z.md", "snapshot-20240402T020000Z.md"]


def _bad_captures(p: Page) -> dict[str, Capture]:
    stub = page("paywall-stub")
    error_title = Extraction(kind="html", text=extract(p.body, p.content_type, p.url).text,
                             title="Page not found | Riverton Gazette", extractor="trafilatura x")
    challenge = Extraction(kind="html", text="Checking if the site connection is secure. " * 30,
                           title="Just a moment...", extractor="trafilatura x")
    return {
        "paywall stub": capture(p, stub.body, at=T1),
        "cookie wall": capture(p, page("cookie-wall").body, at=T1),
        "javascript shell": capture(p, page("js-app-shell").body, at=T1),
        "soft 404": capture(p, at=T1, status="soft_404"),
        "blocked": capture(p, at=T1, status="blocked", http_status=403),
        "dead": capture(p, at=T1, status="dead", http_status=404),
        "error title": capture(p, at=T1, extraction=error_title),
        "bot challenge": capture(p, at=T1, extraction=challenge),
        "wayback challenge": capture(p, at=T1, extraction=challenge, origin="wayback"),
        "wayback 404": capture(p, at=T1, origin="wayback", http_status=404),
        "timed out": capture(p, at=T1, extraction=failed("extraction took longer than 20s and was stopped")),
        "image": capture(p, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, at=T1),
        "empty": capture(p, b"", at=T1),
    }


def test_never_a_worse_capture_over_a_good_one(store: SnapshotStore) -> None:
    p = page("riverton-gazette")
    store.save(capture(p))
    before = files(store.root)
    for name, bad in _bad_captures(p).items():
        outcome = store.save(bad)
        assert outcome.action == "kept", name
        assert "the good capture of 2024-03-13T02:00:00Z is kept" in outcome.reason
        assert outcome.first is not None and outcome.first.path.name == FIRST
    assert files(store.root) == before


def test_nothing_is_stored_without_a_good_capture(store: SnapshotStore) -> None:
    p = page("riverton-gazette")
    for name, bad in _bad_captures(p).items():
        outcome = store.save(bad)
        assert outcome.action == "rejected", name
        assert outcome.reason.startswith("not stored: ") and not outcome.stored
    assert not store.root.exists()
    assert report_entry(store.save(capture(p, page("paywall-stub").body))) is None


def test_pdf_capture(store: SnapshotStore) -> None:
    body = make_pdf([wrap("ORDER GRANTING MOTION TO DISMISS IN PART. " + "The court has considered the briefs. " * 30),
                     wrap("SO ORDERED. " + "The clerk is directed to close the motion at docket entry 41. " * 10)],
                    title="Order", author="Judge Jane Roe")
    x = extract(body, "application/pdf", "https://www.courtlistener.example/docket/1/order.pdf")
    cap = Capture(url="https://www.courtlistener.example/docket/1/order.pdf",
                  normalized_url="https://courtlistener.example/docket/1/order.pdf", captured_at=T0, extraction=x,
                  http_status=200, content_type="application/pdf")
    outcome = store.save(cap)
    assert outcome.action == "written" and outcome.written is not None
    header = outcome.written.header
    assert header["kind"] == "pdf" and header["pages"] == 2 and header["extractor"].startswith("pypdfium2")
    assert header["encoding"] is None and header["title"] == "Order"
    text = outcome.written.path.read_text("utf-8")
    assert "## Page 1" in text and "## Page 2" in text and "docket entry 41" in text


def test_page_meta_for_the_audit(store: SnapshotStore) -> None:
    for name in ("riverton-gazette", "echo-des-alpes-cp1252"):
        store.save(capture(page(name)))
    meta = store.page_meta()
    riverton = meta[canonical_url(page("riverton-gazette").url)]
    assert riverton.site_name == "Riverton Gazette" and riverton.date == "2024-03-12"
    assert riverton.title == "Riverton council approves $2.4 million contract for license plate cameras"
    assert meta[canonical_url(page("echo-des-alpes-cp1252").url)].site_name == "L’Écho des Alpes"
    only = store.page_meta([canonical_url(page("riverton-gazette").url), "https://nowhere.example/x"])
    assert list(only) == [canonical_url(page("riverton-gazette").url)]


def test_report_entry_and_capture_from_a_check(store: SnapshotStore) -> None:
    p = page("kvtx-channel7")
    link = link_for(p)
    link.archive_urls.append("https://web.archive.org/web/20240522000000/" + p.url)
    result = CheckResult(url=p.url, status="alive", checked_at=T0, http_status=200, final_url=p.url,
                         content_type="text/html")
    cap = Capture.from_check(link, result, extract(p.body, p.content_type, p.url))
    assert cap.cited_by == tuple(sorted(EVENTS)) and cap.wayback_url == link.archive_urls[0]
    outcome = store.save(cap)
    entry = report_entry(outcome, display=lambda path: path.relative_to(store.root).as_posix())
    assert entry is not None
    assert entry.path == f"{link_dir(link.normalized_url)}/{FIRST}"
    assert entry.sha256 == outcome.first.text_sha256 if outcome.first else False
    assert entry.captured_at == "2024-03-13T02:00:00Z" and entry.origin == "live"
    drift = store.save(Capture.from_check(link, CheckResult(
        url=p.url, status="alive", checked_at=T1, http_status=200, final_url=p.url, content_type="text/html"),
        extract(REAL["rewrite"](p), p.content_type, p.url)))
    entry = report_entry(drift, display=lambda path: path.name)
    assert entry is not None
    assert entry.latest is not None and entry.latest.path == "snapshot-20240401T020000Z.md"
    assert entry.similarity is not None and 0 < entry.similarity < 1


# --------------------------------------------------------------------------- the pipeline's snapshot stage


class _SlowPool:
    """Stands in for the extractor pool: extracts in a thread, slowly, and records what it held."""

    workers = 1

    def __init__(self, delay: float) -> None:
        from concurrent.futures import ThreadPoolExecutor

        self.delay = delay
        self.executor = ThreadPoolExecutor(1)
        self.bodies_seen = 0

    def submit(self, body: bytes, content_type: str | None, url: str | None = None, *, truncated: bool = False):
        import time as _time

        def run() -> Extraction:
            _time.sleep(self.delay)
            self.bodies_seen += 1
            return extract(body, content_type, url, truncated=truncated)

        return self.executor.submit(run)

    def close(self, cancel_pending: bool = False) -> None:
        self.executor.shutdown(wait=True, cancel_futures=cancel_pending)


async def test_stage_drops_bodies_bounds_memory_and_stores(tmp_path: Path) -> None:
    from archiver.config import Settings
    from archiver.snapshots.stage import SnapshotStage

    pages = articles()
    pool = _SlowPool(0.01)
    stage = SnapshotStage(Settings(snapshots=tmp_path / "snaps"), pool=pool, max_pending_bytes=20_000)  # type: ignore[arg-type]
    results = []
    for i, p in enumerate(pages * 2):
        link = Link(url=f"{p.url}?copy={i}", normalized_url=canonical_url(f"{p.url}?copy={i}"),
                    citations=[Citation(event=f"e{i}", file=f"e{i}.md", source_index=0, line=5)])
        result = CheckResult(url=link.url, status="alive" if i % 5 else "dead", checked_at=T0, http_status=200,
                             final_url=p.url, content_type="text/html", content_type_header=p.content_type,
                             body=p.body)
        stage.offer(link, result)
        assert result.body is None  # the check's results never keep a body
        results.append(link)
    assert stage.spilled > 0  # the check ran ahead: waiting bodies went to disk, not memory
    await stage.finish()
    await stage.aclose()
    alive = [link for i, link in enumerate(results) if i % 5]
    assert pool.bodies_seen == len(alive)
    assert {stage.outcomes[link.normalized_url].action for link in alive} == {"written"}
    entries = stage.extras(results)
    assert all((snap := entries[link.normalized_url].snapshot) is not None and snap.path.endswith("snapshot.md")
               for link in alive)
    assert stage.seconds > 0 and "snapshots: 16 written" in stage.summary()


async def test_stage_stops_at_the_deadline(tmp_path: Path) -> None:
    import time as _time

    from archiver.config import Settings
    from archiver.snapshots.stage import SnapshotStage

    p = page("riverton-gazette")
    stage = SnapshotStage(Settings(snapshots=tmp_path / "snaps"), pool=_SlowPool(0.2))  # type: ignore[arg-type]
    for i in range(10):
        link = Link(url=f"{p.url}?n={i}", normalized_url=canonical_url(f"{p.url}?n={i}"))
        stage.offer(link, CheckResult(url=link.url, status="alive", checked_at=T0, http_status=200,
                                      content_type="text/html", body=p.body))
    await stage.finish(deadline=_time.monotonic() + 0.1, grace=0.2)
    await stage.aclose()
    assert stage.skipped >= 5 and "skipped at the time budget" in stage.summary()
    assert len(stage.outcomes) < 10


def test_pool_answers_when_a_worker_cannot_start(monkeypatch: pytest.MonkeyPatch) -> None:
    from archiver.snapshots import pool as extractpool

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("no more processes")

    monkeypatch.setattr(extractpool, "_Worker", refuse)
    pool = extractpool.ExtractorPool(workers=1, timeout=5)
    try:
        result = pool.submit(b"<html><body>x</body></html>", "text/html").result(timeout=10)
    finally:
        pool.close()
    assert not result.ok and "could not start an extraction worker" in (result.reason or "")
