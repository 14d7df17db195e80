"""Benchmark: extraction quality of trafilatura settings on the fixture pages, and the
thin and drift thresholds.

Prints, offline, on the pages of tests/fixtures/pages (realistic news, government,
magazine, blog and broadcaster pages with navigation, cookie banners, related links,
comments and footers, each with its known article text):

1. body precision, recall and F1 by word 4-gram shingles (multisets, as
   scrapinghub/article-extraction-benchmark) for each trafilatura setting, with the
   worst page's recall, boilerplate phrases leaked, metadata found and time per page,
   next to a naive baseline (all visible text); the setting archiver uses is marked;
   then the same on the pages inflated to the size of real news pages;
2. the thin threshold: the text size of every article against every thin page;
3. the drift thresholds: similarity and changed words of cosmetic changes and of real
   edits, made in the HTML of every article page and extracted again.

    python benchmarks/extract_quality.py [--repeat 3] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver.config import Settings  # noqa: E402
from archiver.liveness.pages import visible_text  # noqa: E402
from archiver.snapshots.encoding import decode  # noqa: E402
from archiver.snapshots.extract import ExtractOptions, extract, text_size  # noqa: E402
from archiver.snapshots.textsim import compare, precision_recall  # noqa: E402
from tests.support.pagefixtures import COSMETIC, REAL, Page, articles, inflate, load_pages, real_replaced  # noqa: E402

CHOSEN = ExtractOptions()
SETTINGS: dict[str, ExtractOptions | None] = {
    "trafilatura defaults (comments kept)": replace(CHOSEN, favor_precision=False, include_comments=True),
    "include_comments=False": replace(CHOSEN, favor_precision=False, include_comments=False),
    "favor_precision, no comments": replace(CHOSEN, favor_precision=True, include_comments=False),
    "favor_recall, no comments": replace(CHOSEN, favor_recall=True, favor_precision=False, include_comments=False),
    "favor_precision, no comments, fast": replace(CHOSEN, favor_precision=True, include_comments=False, fast=True),
    "naive: all visible text": None,
}


@dataclass
class Row:
    name: str
    precision: float
    recall: float
    f1: float
    min_recall: float
    leaks: int
    leak_pages: int
    metadata: str
    ms_per_page: float
    chosen: bool


def naive(p: Page) -> str:
    _, encoding, _ = decode(p.body, p.content_type)
    return visible_text(p.body, encoding)


def measure(name: str, options: ExtractOptions | None, pages: list[Page], repeat: int) -> tuple[Row, list[dict]]:
    per_page = []
    times = []
    leaks = leak_pages = 0
    meta_found = meta_total = 0
    for p in pages:
        assert p.article is not None
        started = time.perf_counter()
        for _ in range(repeat):
            if options is None:
                text, x = naive(p), None
            else:
                x = extract(p.body, p.content_type, p.url, options=options)
                text = x.text
        times.append((time.perf_counter() - started) / repeat)
        precision, recall, f1 = precision_recall(p.article, text)
        leaked = [b for b in p.boilerplate if b.lower() in text.lower()]
        leaks += len(leaked)
        leak_pages += bool(leaked)
        if x is not None:
            for want, got in ((p.title, x.title), (p.author, x.author), (p.date, x.date), (p.sitename, x.sitename)):
                if want:
                    meta_total += 1
                    meta_found += " ".join(want.split()) == " ".join((got or "").split())
        per_page.append({"page": p.name, "precision": round(precision, 4), "recall": round(recall, 4),
                         "f1": round(f1, 4), "leaked": leaked, "ms": round(times[-1] * 1000, 2)})
    row = Row(name=name, precision=statistics.mean(r["precision"] for r in per_page),
              recall=statistics.mean(r["recall"] for r in per_page), f1=statistics.mean(r["f1"] for r in per_page),
              min_recall=min(r["recall"] for r in per_page), leaks=leaks, leak_pages=leak_pages,
              metadata=f"{meta_found}/{meta_total}" if meta_total else "-",
              ms_per_page=statistics.mean(times) * 1000, chosen=options == CHOSEN)
    return row, per_page


def quality(repeat: int, inflated: bool = False) -> dict:
    pages = articles()
    what = "fixture articles"
    if inflated:
        pages = [replace(p, body=inflate(p, i)) for i, p in enumerate(pages)]
        what = "fixture articles inflated to real-page size (~150 KB, ~2,200 tags: mega menu, state script, cards)"
    print(f"\n== body extraction on {len(pages)} {what} "
          f"({sum(len((p.article or '').split()) for p in pages)} words of known text), 4-gram shingles")
    print(f"{'setting':40} {'P':>6} {'R':>6} {'F1':>6} {'minR':>6} {'leaks':>9} {'metadata':>9} {'ms/page':>8}")
    out = {}
    for name, options in SETTINGS.items():
        row, per_page = measure(name, options, pages, repeat)
        mark = "  <- chosen" if row.chosen else ""
        print(f"{name:40} {row.precision:6.3f} {row.recall:6.3f} {row.f1:6.3f} {row.min_recall:6.3f} "
              f"{row.leaks:>4} ({row.leak_pages:>2}p) {row.metadata:>9} {row.ms_per_page:8.1f}{mark}")
        out[name] = {"precision": row.precision, "recall": row.recall, "f1": row.f1, "min_recall": row.min_recall,
                     "leaks": row.leaks, "metadata": row.metadata, "ms_per_page": row.ms_per_page,
                     "chosen": row.chosen, "pages": per_page}
    chosen = next(v for v in out.values() if v["chosen"])
    print("\nper page, chosen setting:")
    for r in chosen["pages"]:
        print(f"  {r['page']:34} P {r['precision']:.3f}  R {r['recall']:.3f}  F1 {r['f1']:.3f}  "
              f"{r['ms']:6.1f} ms  leaked: {', '.join(r['leaked']) or '-'}")
    return out


def thin(settings: Settings) -> dict:
    print(f"\n== thin threshold (thin_chars = {settings.thin_chars}; CJK characters count twice)")
    rows = []
    for p in load_pages():
        x = extract(p.body, p.content_type, p.url, options=CHOSEN)
        rows.append((p.kind, p.name, text_size(x.text), x.thin))
        print(f"  {p.kind:8} {p.name:34} {text_size(x.text):6} chars  thin={x.thin}")
    articles_min = min(size for kind, _, size, _ in rows if kind == "article")
    thin_max = max(size for kind, _, size, _ in rows if kind == "thin")
    wrong = [name for kind, name, _, flagged in rows if flagged != (kind == "thin")]
    print(f"  smallest article {articles_min} chars, largest thin page {thin_max} chars; misjudged: {wrong or 'none'}")
    return {"smallest_article": articles_min, "largest_thin": thin_max, "misjudged": wrong}


def drift(settings: Settings) -> dict:
    print(f"\n== drift (drift_similarity = {settings.drift_similarity}, drift_min_words = "
          f"{settings.drift_min_words}): similarity / changed words against the original capture")
    pages = articles()
    scenarios = {**{f"cosmetic:{k}": v for k, v in COSMETIC.items()}, **{f"real:{k}": v for k, v in REAL.items()}}
    results: dict[str, list[tuple[float, int, bool]]] = {name: [] for name in [*scenarios, "real:replaced"]}
    for i, p in enumerate(pages):
        base = extract(p.body, p.content_type, p.url, options=CHOSEN).text
        bodies = {name: fn(p) for name, fn in scenarios.items()}
        bodies["real:replaced"] = real_replaced(p, pages[(i + 1) % len(pages)])
        for name, body in bodies.items():
            c = compare(base, extract(body, p.content_type, p.url, options=CHOSEN).text)
            results[name].append((c.similarity, c.changed_words,
                                  c.meaningful(settings.drift_similarity, settings.drift_min_words)))
    print(f"  {'scenario':22} {'similarity min-max':>20} {'changed words min-max':>22} {'counted as drift':>17}")
    wrong = 0
    for name, values in results.items():
        sims = [v[0] for v in values]
        words = [v[1] for v in values]
        drifted = sum(v[2] for v in values)
        should = name.startswith("real:")
        wrong += (len(values) - drifted) if should else drifted
        print(f"  {name:22} {min(sims):9.3f} - {max(sims):.3f} {min(words):11} - {max(words):<8} "
              f"{drifted:>7}/{len(values)}")
    cosmetic_sim = min(v[0] for k, vs in results.items() if k.startswith("cosmetic") for v in vs)
    cosmetic_words = max(v[1] for k, vs in results.items() if k.startswith("cosmetic") for v in vs)
    real_words = min(v[1] for k, vs in results.items() if k.startswith("real") for v in vs)
    print(f"  cosmetic: similarity >= {cosmetic_sim:.3f}, changed words <= {cosmetic_words}; "
          f"real edits: changed words >= {real_words}; misjudged: {wrong}")
    return {name: values for name, values in results.items()} | {"misjudged": wrong}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="extractions per page for the timing")
    parser.add_argument("--json", type=Path, help="save the figures here")
    args = parser.parse_args()
    settings = Settings()
    figures = {"quality": quality(args.repeat), "quality_inflated": quality(1, inflated=True),
               "thin": thin(settings), "drift": drift(settings)}
    if args.json:
        args.json.write_text(json.dumps(figures, indent=1, ensure_ascii=False) + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
