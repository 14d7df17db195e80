"""Extraction: articles without boilerplate, PDFs, charsets, thin pages, limits, and the worker pool."""

from __future__ import annotations

import os
import time
from concurrent.futures import wait
from dataclasses import replace

import pytest

from archiver.snapshots.encoding import decode, detect_encoding
from archiver.snapshots.extract import Extraction, ExtractOptions, classify, extract
from archiver.snapshots.pool import ExtractorPool
from archiver.snapshots.textsim import precision_recall
from tests.support.pagefixtures import Page, articles, load_pages, page
from tests.support.pdfgen import make_pdf, wrap

# --------------------------------------------------------------------------- articles


def _norm(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.mark.parametrize("p", articles(), ids=lambda p: p.name)
def test_fixture_article_is_extracted_without_boilerplate(p: Page) -> None:
    x = extract(p.body, p.content_type, p.url)
    assert x.kind == "html" and x.ok, x.reason
    assert p.article is not None
    text = _norm(x.text)
    missing = [para for para in p.paragraphs if _norm(para.removeprefix("- ")) not in text]
    assert not missing, "body paragraphs missing"  # the whole body, every paragraph
    precision, recall, _ = precision_recall(p.article, x.text)  # headline included in the known text
    assert recall >= 0.94, f"recall {recall:.2f}"
    assert precision >= 0.92, f"precision {precision:.2f}"
    leaked = [phrase for phrase in p.boilerplate if phrase.lower() in x.text.lower()]
    assert not leaked
    for probe in p.probe:
        assert probe in x.text
    assert "\ufffd" not in x.text
    assert _norm(x.title) == _norm(p.title)
    assert x.date == p.date
    if p.author:
        assert x.author == p.author
    if p.sitename:
        assert x.sitename == p.sitename


def test_table_is_kept_as_markdown() -> None:
    p = page("harbor-herald-table")
    x = extract(p.body, p.content_type, p.url)
    rows = [line for line in x.text.splitlines() if line.startswith("|")]
    assert len(rows) >= 9  # header, separator, 8 rows
    assert any("County jail" in r and "$77.9M" in r and "+9.0%" in r for r in rows)
    assert any("Total" in r and "$214.0M" in r for r in rows)


def test_comments_are_excluded() -> None:
    p = page("riverton-gazette")
    x = extract(p.body, p.content_type, p.url)
    for comment in ("RiverRat62", "Who audits the auditors", "feed store", "Leave a Reply"):
        assert comment not in x.text


@pytest.mark.parametrize("name", ["cookie-wall", "js-app-shell", "paywall-stub"])
def test_thin_pages_are_flagged_not_passed_off(name: str) -> None:
    p = page(name)
    x = extract(p.body, p.content_type, p.url)
    assert x.thin and not x.ok
    assert x.reason


def test_a_short_stub_with_paywall_wording_is_thin_even_above_the_length_limit() -> None:
    lead = ("The state auditor found that the agency could not account for thousands of searches of its criminal "
            "records database made last year, and that no supervisor had reviewed the logs since 2019. ") * 3
    html = (f"<html><head><title>Audit finds gaps</title></head><body><article><h1>Audit finds gaps</h1><p>{lead}</p>"
            "<p>Subscribe to continue reading. This article is available exclusively to subscribers.</p>"
            "</article></body></html>").encode()
    x = extract(html, "text/html; charset=utf-8", "https://paper.example/audit")
    assert x.thin and "paywall" in (x.reason or "")


# --------------------------------------------------------------------------- charsets


def test_windows_1252_declared() -> None:
    p = page("echo-des-alpes-cp1252")
    x = extract(p.body, p.content_type, p.url)
    assert x.encoding == "cp1252"
    assert "1,8 million d’euros" in x.text and "16 000 €" in x.text


def test_header_that_lies_about_utf8() -> None:
    p = page("hansestadt-anzeiger-header-lies")
    assert "utf-8" in p.content_type
    x = extract(p.body, p.content_type, p.url)
    assert x.encoding == "cp1252"
    assert "„Wer Kameras verkauft, muss wissen, wo die Bilder landen“" in x.text
    assert "\ufffd" not in x.text


def test_shift_jis_declared_in_meta_only() -> None:
    p = page("toto-shimbun-shift-jis")
    assert "charset" not in p.content_type
    x = extract(p.body, p.content_type, p.url)
    assert x.encoding == "cp932" and "個人情報保護委員会" in x.text and x.ok


def test_iso_8859_1_is_read_as_windows_1252() -> None:
    body = "<p>Caf\u00e9 \u201cquoted\u201d \u2013 5 \u20ac</p>".encode("cp1252")
    text, encoding, _ = decode(body, "text/html; charset=ISO-8859-1")
    assert encoding == "cp1252" and "Café “quoted” – 5 €" in text


def test_latin1_header_over_utf8_bytes() -> None:
    body = "<html><head><meta charset='utf-8'></head><body><p>Müller über Straße</p></body></html>".encode()
    assert detect_encoding(body, "text/html; charset=iso-8859-1")[0] == "utf-8"


def test_byte_order_mark_wins() -> None:
    body = "\ufeff<p>naïve café</p>".encode()
    text, encoding, how = decode(body, "text/html; charset=windows-1252")
    assert encoding == "utf-8-sig" and "naïve café" in text and how == "byte-order mark"


def test_undeclared_legacy_bytes_are_sniffed() -> None:
    body = ("<html><body><p>" + "Die Behörde verhängte ein Bußgeld gegen den Hersteller der Überwachungskameras. "
            * 5 + "</p></body></html>").encode("cp1252")
    text, encoding, _ = decode(body, "text/html")
    assert encoding == "cp1252" and "Bußgeld" in text


def test_central_european_legacy_bytes_keep_their_letters() -> None:
    body = ("<html><body><p>" + "Zażółć gęślą jaźń. Świętokrzyskie województwo, łódź, źdźbło, książka. " * 5
            + "</p></body></html>").encode("cp1250")
    text, encoding, _ = decode(body, "text/html; charset=utf-8")  # the header lies
    assert encoding == "cp1250" and "Zażółć gęślą jaźń" in text


def test_meta_utf16_on_ascii_bytes_is_utf8() -> None:
    body = "<html><head><meta charset='utf-16'></head><body><p>café</p></body></html>".encode()
    assert decode(body, "text/html")[0].count("café") == 1


def test_utf8_cut_in_a_character_is_still_utf8() -> None:
    body = ("<p>" + "é" * 100).encode()[:-1]
    assert detect_encoding(body, "text/html; charset=utf-8")[0] == "utf-8"


# --------------------------------------------------------------------------- PDF

FILING = [
    ["UNITED STATES DISTRICT COURT", "SOUTHERN DISTRICT OF NEW YORK", "",
     "CIVIL LIBERTIES UNION, et al., Plaintiffs,", "v.", "DEPARTMENT OF HOMELAND SECURITY, Defendant.", "",
     "Case No. 1:23-cv-04512 (RJS)", "", "OPINION AND ORDER",
     *wrap("Plaintiffs challenge the warrantless search of travelers' electronic devices at ports of entry. "
           "For the reasons that follow, the motion to dismiss is granted in part and denied in part.")],
    wrap("I. BACKGROUND. The complaint alleges that between 2017 and 2022 officers searched the phones of "
         "eleven travelers without a warrant or any individualized suspicion, copied the contents of four of the "
         "devices, and retained the copies for up to three years. " * 3),
    wrap("II. DISCUSSION. The government argues that the border search exception forecloses the claims. The court "
         "disagrees as to the forensic searches, which reveal the privacies of life in a way that a search of luggage "
         "does not. SO ORDERED. " * 3),
]


def test_pdf_text_per_page_with_markers_and_metadata() -> None:
    body = make_pdf(FILING, title="Opinion and Order", author="Richard J. Sullivan")
    x = extract(body, "application/pdf", "https://court.example/filing.pdf")
    assert x.kind == "pdf" and x.ok and x.pages == 3 and x.pages_extracted == 3
    assert x.extractor.startswith("pypdfium2 ")
    assert x.text.index("## Page 1") < x.text.index("Case No. 1:23-cv-04512") < x.text.index("## Page 2") \
        < x.text.index("I. BACKGROUND") < x.text.index("## Page 3") < x.text.index("SO ORDERED")
    assert x.title == "Opinion and Order" and x.author == "Richard J. Sullivan" and x.date == "2023-06-14"
    assert "travelers' electronic devices" in x.text


def test_pdf_sniffed_whatever_the_content_type() -> None:
    body = make_pdf(FILING)
    assert classify(body, "application/octet-stream")[0] == "pdf"
    assert classify(body, "text/html")[0] == "pdf"


def test_pdf_page_and_byte_caps() -> None:
    body = make_pdf(FILING * 2)
    x = extract(body, "application/pdf", options=ExtractOptions(max_pdf_pages=2))
    assert x.pages == 6 and x.pages_extracted == 2 and "## Page 3" not in x.text
    assert "pages 3-6 not extracted" in x.text
    big = extract(body, "application/pdf", options=ExtractOptions(max_pdf_bytes=len(body) - 1))
    assert big.kind == "failed" and "byte limit" in (big.reason or "")


def test_broken_truncated_and_scanned_pdfs() -> None:
    broken = extract(b"%PDF-1.7\n" + os.urandom(2000), "application/pdf")
    assert broken.kind == "failed" and not broken.ok
    body = make_pdf(FILING)
    cut = extract(body[: len(body) // 3], "application/pdf", truncated=True)
    assert not cut.ok and cut.truncated
    scanned = extract(make_pdf([[], []]), "application/pdf")
    assert scanned.kind == "pdf" and scanned.thin and "no text layer" in (scanned.reason or "")


# --------------------------------------------------------------------------- other types and limits


def test_plain_text_json_and_binaries() -> None:
    statement = ("STATEMENT OF THE COMMITTEE. " + "The committee met on Tuesday to review the report. " * 20).encode()
    x = extract(statement, "text/plain; charset=utf-8")
    assert x.kind == "text" and x.ok and x.text.startswith("STATEMENT")
    png = extract(b"\x89PNG\r\n\x1a\n" + os.urandom(500), "image/png")
    assert png.kind == "binary" and not png.ok and "image/png" in (png.reason or "")
    video = extract(os.urandom(100), "video/mp4")
    assert video.kind == "binary" and "video/mp4" in (video.reason or "")
    zipped = extract(b"PK\x03\x04" + os.urandom(300), "application/octet-stream")
    assert zipped.kind == "binary" and "ZIP" in (zipped.reason or "")
    disguised = extract(b"\xff\xd8\xff\xe0" + os.urandom(300), "text/html")
    assert disguised.kind == "binary" and "JPEG" in (disguised.reason or "")
    empty = extract(b"  \n", "text/html")
    assert empty.kind == "empty" and not empty.ok
    assert extract(b'{"a": 1}', "application/json").kind == "text"


def test_tree_size_and_byte_limits_refuse_before_parsing() -> None:
    html = ("<html><body>" + "<div><span>x</span></div>" * 30_000 + "</body></html>").encode()
    started = time.monotonic()
    x = extract(html, "text/html", options=ExtractOptions(max_html_elements=40_000))
    assert x.kind == "failed" and "tag limit" in (x.reason or "")
    assert time.monotonic() - started < 1.0
    y = extract(html, "text/html", options=ExtractOptions(max_html_bytes=100_000))
    assert y.kind == "failed" and "byte limit" in (y.reason or "")
    assert y.body_sha256 and y.body_bytes == len(html)


def test_every_fixture_gets_a_body_hash() -> None:
    for p in load_pages():
        x = extract(p.body, p.content_type, p.url)
        assert len(x.body_sha256) == 64 and x.body_bytes == len(p.body)


# --------------------------------------------------------------------------- the pool


def slow_extract(body: bytes, content_type: str | None, url: str | None = None, *,
                 options: ExtractOptions | None = None, truncated: bool = False) -> Extraction:
    """A worker target that hangs on URLs containing 'hang' and crashes on 'crash' (for the pool tests)."""
    if url and "hang" in url:
        time.sleep(300)
    if url and "crash" in url:
        os._exit(3)
    return extract(body, content_type, url, options=options, truncated=truncated)


def test_pool_kills_a_hung_page_at_the_timeout_and_keeps_working() -> None:
    p = page("continental-press")
    with ExtractorPool(workers=2, timeout=1.5, target=slow_extract) as pool:
        warm = [pool.submit(p.body, p.content_type, p.url) for _ in range(2)]  # start both workers
        wait(warm)
        started = time.monotonic()
        hung = pool.submit(p.body, p.content_type, "https://example.com/hang")
        others = [pool.submit(p.body, p.content_type, p.url) for _ in range(6)]
        quick = [f.result(timeout=30) for f in others]
        assert all(x.ok for x in quick)  # the other worker went on meanwhile
        result = hung.result(timeout=30)
        elapsed = time.monotonic() - started
        assert result.kind == "failed" and "longer than 1.5s" in (result.reason or "") and not result.ok
        assert result.body_sha256 and 1.5 <= elapsed < 10
        after = pool.extract(p.body, p.content_type, p.url)  # the pool still works, with a new worker
        assert after.ok
        crashed = pool.extract(p.body, p.content_type, "https://example.com/crash")
        assert crashed.kind == "failed" and "crashed (exit code 3)" in (crashed.reason or "")
        assert pool.extract(p.body, p.content_type, p.url).ok
        assert pool.stats.timeouts == 1 and pool.stats.crashes == 1


def test_pool_results_match_direct_extraction() -> None:
    pages = articles()[:4]
    with ExtractorPool(workers=2, timeout=20) as pool:
        futures = [pool.submit(p.body, p.content_type, p.url) for p in pages]
        results = [f.result(timeout=60) for f in futures]
    for p, x in zip(pages, results, strict=True):
        assert replace(x, elapsed=0) == replace(extract(p.body, p.content_type, p.url), elapsed=0)


def test_closed_pool_refuses_work() -> None:
    pool = ExtractorPool(workers=1)
    pool.close()
    with pytest.raises(RuntimeError):
        pool.submit(b"<p>x</p>", "text/html")
