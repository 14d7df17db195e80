"""Benchmark: extraction throughput with 1 and 2 worker processes, peak memory, and
pypdfium2 against pypdf on a generated multi-page PDF.

Offline. Pages are the fixture pages of tests/fixtures/pages replicated to
``--pages`` (default 500), as they are (1-10 KB, 70 tags on average) and "inflated"
to the size of real news pages (a 600-link mega menu, a 100 KB inline JSON state
script, 100 related-story cards, 200 footer links: about 150 KB and 2,200 tags each). Each run starts a fresh
:class:`~archiver.snapshots.pool.ExtractorPool` and submits every page at once; the
figures are pages per second from the first submission to the last result (worker
start-up included, and reported apart), the parent's peak RSS and each worker's
peak RSS (VmHWM, Linux).

    python benchmarks/extract_speed.py [--pages 500] [--pdf-pages 100] [--json FILE]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.config import Settings  # noqa: E402
from archiver.snapshots.extract import ExtractOptions, extract  # noqa: E402
from archiver.snapshots.pool import ExtractorPool  # noqa: E402
from archiver.snapshots.textsim import precision_recall  # noqa: E402
from tests.support.pagefixtures import inflate, load_pages  # noqa: E402
from tests.support.pdfgen import make_pdf, wrap  # noqa: E402


def peak_rss_mb(pid: int | None = None) -> float | None:
    if pid is None:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU of a process so far (Linux), for a figure that other jobs' load does not skew."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_pool(pages: list[tuple[bytes, str, str]], workers: int, timeout: float) -> dict[str, float | int | None]:
    started = time.perf_counter()
    pool = ExtractorPool(ExtractOptions(), workers=workers, timeout=timeout)
    try:
        warm = [pool.submit(*pages[0]) for _ in range(workers)]
        for f in warm:
            f.result()
        startup = time.perf_counter() - started
        cpu0 = {pid: cpu_seconds(pid) for pid in pool.worker_pids()}
        t0 = time.perf_counter()
        futures = [pool.submit(*page) for page in pages]
        results = [f.result() for f in futures]
        elapsed = time.perf_counter() - t0
        worker_rss = [peak_rss_mb(pid) for pid in pool.worker_pids()]
        cpu = [(cpu_seconds(pid) or 0.0) - (cpu0.get(pid) or 0.0) for pid in pool.worker_pids()]
    finally:
        pool.close()
    ok = sum(r.ok for r in results)
    return {"workers": workers, "pages": len(pages), "ok": ok, "seconds": elapsed,
            "pages_per_second": len(pages) / elapsed, "startup_seconds": startup,
            "worker_cpu_ms_per_page": 1000 * sum(cpu) / len(pages),
            "worker_peak_rss_mb": max((r for r in worker_rss if r is not None), default=None),
            "timeouts": pool.stats.timeouts}


def pdf_bench(n_pages: int) -> dict[str, dict[str, float]]:
    rnd = random.Random(5)
    words = ["court", "plaintiff", "defendant", "motion", "dismiss", "order", "evidence", "record", "hearing",
             "counsel", "exhibit", "testimony", "statute", "claim", "jurisdiction", "appeal", "warrant", "search",
             "device", "border", "agency"]
    pages_text = []
    for _ in range(n_pages):
        para = " ".join(rnd.choice(words) for _ in range(450))
        pages_text.append(wrap(para))
    body = make_pdf(pages_text, title="Benchmark filing")
    known = "\n".join(" ".join(lines) for lines in pages_text)
    out: dict[str, dict[str, float]] = {}
    print(f"\n== PDF text: {n_pages} pages, {len(body) / 1024:.0f} KB, {len(known.split())} words")
    started = time.perf_counter()
    x = extract(body, "application/pdf", options=ExtractOptions(max_pdf_pages=n_pages))
    pdfium_s = time.perf_counter() - started
    _, recall, f1 = precision_recall(known, x.text)
    out["pypdfium2"] = {"seconds": pdfium_s, "pages_per_second": n_pages / pdfium_s, "recall": recall, "f1": f1}
    try:
        import pypdf
    except ImportError:
        print("  pypdf is not installed: skipped (pip install pypdf to compare)")
    else:
        started = time.perf_counter()
        reader = pypdf.PdfReader(io.BytesIO(body))
        text = "\n".join(page.extract_text() or "" for page in reader.pages)
        pypdf_s = time.perf_counter() - started
        _, recall2, f1b = precision_recall(known, text)
        out[f"pypdf {pypdf.__version__}"] = {"seconds": pypdf_s, "pages_per_second": n_pages / pypdf_s,
                                             "recall": recall2, "f1": f1b}
    for name, r in out.items():
        print(f"  {name:16} {r['seconds']:7.3f} s  {r['pages_per_second']:8.1f} pages/s  "
              f"shingle recall {r['recall']:.3f}  F1 {r['f1']:.3f}")
    return out


def limit_bench() -> dict[str, float]:
    """The worst page the limits let through: article text in every one of max_html_elements tags."""
    options = ExtractOptions()
    rnd = random.Random(3)
    words = ["council", "budget", "court", "ruling", "police", "contract", "camera", "data", "vote", "report"]
    blocks, tags = [], 6
    while tags + 6 <= options.max_html_elements:
        spans = "".join(f"<span>{' '.join(rnd.choice(words) for _ in range(6))}</span>" for _ in range(4))
        blocks.append(f"<div><p>{spans}</p></div>")
        tags += 6
    body = ("<html><head><title>Big</title></head><body><nav><a href='/'>Home</a></nav><article>" + "".join(blocks)
            + "</article></body></html>").encode()
    started = time.perf_counter()
    x = extract(body, "text/html", "https://example.com/big", options=options)
    seconds = time.perf_counter() - started
    print(f"\n== the largest page the limits accept ({options.max_html_elements:,} tags, {len(body) / 1e6:.1f} MB, "
          f"all article text): {seconds:.1f} s to extract ({len(x.text) / 1e6:.1f} MB of text); "
          f"the per-page timeout is {Settings().extract_timeout:g} s")
    return {"tags": options.max_html_elements, "bytes": len(body), "seconds": seconds}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--pdf-pages", type=int, default=100)
    parser.add_argument("--timeout", type=float, default=20.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    fixtures = load_pages()
    sets = {
        "fixture pages": [(p.body, p.content_type, p.url) for p in fixtures],
        "inflated pages": [(inflate(p, i), p.content_type, p.url) for i, p in enumerate(fixtures)],
    }
    figures: dict[str, object] = {"cpus": os.cpu_count()}
    for name, base in sets.items():
        pages = [base[i % len(base)] for i in range(args.pages)]
        size = sum(len(b) for b, _, _ in base) / len(base) / 1024
        print(f"== {name}: {len(pages)} pages, {size:.0f} KB average, {os.cpu_count()} CPUs")
        rows = []
        for workers in (1, 2):
            r = run_pool(pages, workers, args.timeout)
            rows.append(r)
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {r['pages_per_second']:7.1f} pages/s "
                  f"({r['seconds']:.2f} s; {r['worker_cpu_ms_per_page']:.1f} worker CPU ms/page; "
                  f"start-up {r['startup_seconds']:.2f} s; ok {r['ok']}/{r['pages']}; "
                  f"worker peak RSS {r['worker_peak_rss_mb']:.0f} MB)")
        figures[name] = rows
        print(f"  speed-up with 2 workers: {rows[1]['pages_per_second'] / rows[0]['pages_per_second']:.2f}x")
    figures["parent_peak_rss_mb"] = peak_rss_mb()
    print(f"parent process peak RSS while feeding the pools: {figures['parent_peak_rss_mb']:.0f} MB")
    figures["pdf"] = pdf_bench(args.pdf_pages)
    figures["limit"] = limit_bench()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
