"""Benchmark: the citation audit on the real corpus, and the title-similarity threshold.

Prints, offline:

1. wall time to load the timeline, build the catalog and audit it (one process);
2. findings per kind and severity;
3. a seeded random sample of findings, each with the cited source's lines from the
   file, for hand checking (``--sample 30 --seed 7``); ``--kind`` samples one kind;
4. the title threshold measured three ways: the labelled pairs of
   tests/data/title_pairs.tsv; corpus titles against their own URL slug (the
   page's SEO headline) versus another article's slug on the same domain; corpus
   pages cited twice under different titles versus different pages of the domain.

    python benchmarks/audit_corpus.py [--events PATH] [--sample 30] [--seed 7] [--kind KIND]
"""

from __future__ import annotations

import argparse
import collections
import itertools
import random
import re
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = ROOT.parent / "shared" / "corpus" / "capture-cascade" / "events"
PAIRS = ROOT / "tests" / "data" / "title_pairs.tsv"
THRESHOLDS = (0.2, 0.25, 0.3, 1 / 3, 0.4, 0.5, 0.6)


def source_block(path: str, line: int | None) -> list[str]:
    """The lines of one source item, from its first line to the next item or key at its level."""
    if not line:
        return []
    lines = Path(path).read_text("utf-8", errors="replace").splitlines()
    start = line - 1
    first = lines[start]
    indent = len(first) - len(first.lstrip(" -"))
    out = [first]
    for text in lines[start + 1:]:
        stripped = text.lstrip(" ")
        if text.strip() == "---" or (text.strip() and len(text) - len(stripped) < indent) or stripped.startswith("- "):
            break
        out.append(text)
    return out


def slug_title(url: str) -> str | None:
    """The last path segment of a URL as words, when it looks like a headline (4+ words)."""
    segment = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
    segment = re.sub(r"\.(html?|php|aspx?|pdf)$", "", segment)
    words = [w for w in re.split(r"[-_+]+", segment) if w]
    words = [w for w in words if not re.fullmatch(r"[0-9a-f]{6,}|\d{5,}|rcna\d+|n\d{6,}|id[A-Z0-9]+", w)]
    return " ".join(words) if len(words) >= 4 else None


def rates(same: list[float], different: list[float]) -> list[str]:
    rows = []
    for t in THRESHOLDS:
        flagged = sum(s < t for s in same) / max(len(same), 1)
        missed = sum(s >= t for s in different) / max(len(different), 1)
        rows.append(f"    threshold {t:.2f}: same page flagged {flagged:6.1%}   different article missed {missed:6.1%}")
    return rows


def measure_titles(events: list, registry) -> None:  # type: ignore[no-untyped-def]
    from archiver.audit.rules import TITLE_THRESHOLD, title_similarity
    from archiver.timeline.catalog import canonical_url, host_of, registrable_domain

    print(f"\n== title threshold (in use: {TITLE_THRESHOLD:.3f}: flag below) ==")
    by_label: dict[str, list[float]] = collections.defaultdict(list)
    for line in PAIRS.read_text("utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        label, site, cited, page = line.split("\t")
        names = [site, *(n for e in registry.by_name(site) for n in e.names)]
        score = title_similarity(cited, page, names)
        if score is not None:
            by_label[label].append(score)
    print(f"  labelled pairs ({PAIRS.relative_to(ROOT)}): "
          + ", ".join(f"{k} {len(v)} (min {min(v):.2f}, max {max(v):.2f})" for k, v in sorted(by_label.items())))
    print("\n".join(rates(by_label["same"], by_label["different"])))
    sib = by_label.get("sibling", [])
    print(f"    same-story sibling articles flagged at {TITLE_THRESHOLD:.2f}: "
          f"{sum(s < TITLE_THRESHOLD for s in sib)}/{len(sib)}")

    rng = random.Random(7)
    with_slug = []
    domains: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    titles_by_url: dict[str, set[str]] = collections.defaultdict(set)
    for event in events:
        for s in event.sources:
            if not (s.url and s.title) or re.fullmatch(r"[\w.-]+\.[a-z]{2,}", s.title.strip()):
                continue  # a bare domain as title is a placeholder, not a headline
            domain = registrable_domain(host_of(s.url))
            titles_by_url[canonical_url(s.url)].add(s.title)
            slug = slug_title(s.url)
            if slug:
                with_slug.append((s, slug, domain))
                domains[domain].append((s.url, slug))
    same, different = [], []
    for s, slug, domain in with_slug:
        match = registry.lookup(s.url)
        names = [s.publisher or "", *(match.entry.names if match else ())]
        score = title_similarity(s.title, slug, names)
        if score is not None:
            same.append(score)
        others = [o for o in domains[domain] if o[0] != s.url]
        if others:
            score = title_similarity(s.title, rng.choice(others)[1], names)
            if score is not None:
                different.append(score)
    print(f"  corpus title vs its own URL slug: {len(same)} pairs; vs another slug of the same domain: "
          f"{len(different)} pairs (slugs are SEO headlines, often truncated or keyword lists: an upper bound)")
    print("\n".join(rates(same, different)))

    same2 = [title_similarity(a, b) for t in titles_by_url.values() for a, b in itertools.combinations(sorted(t), 2)]
    by_domain: dict[str, list[tuple[str, str]]] = collections.defaultdict(list)
    for url, titles in sorted(titles_by_url.items()):  # sorted: set order varies between runs
        for t in sorted(titles):
            by_domain[registrable_domain(host_of(url))].append((url, t))
    diff2 = []
    for items in by_domain.values():
        for url, t in items:
            others = [o for o in items if o[0] != url]
            if others:
                diff2.append(title_similarity(t, rng.choice(others)[1]))
    same2f = [x for x in same2 if x is not None]
    diff2f = [x for x in diff2 if x is not None]
    print(f"  one page cited under two titles: {len(same2f)} pairs (both written by editors, often descriptions "
          f"rather than headlines: an upper bound); different pages of a domain: {len(diff2f)}")
    print("\n".join(rates(same2f, diff2f)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, default=DEFAULT)
    parser.add_argument("--sample", type=int, default=30)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--kind", default=None, help="sample only this finding kind")
    parser.add_argument("--no-titles", action="store_true", help="skip the title-threshold measurement")
    args = parser.parse_args()
    if not args.events.is_dir():
        sys.exit(f"corpus not found at {args.events}")

    t0 = time.perf_counter()
    from archiver.audit.registry import load_registry
    from archiver.audit.rules import audit
    from archiver.timeline.catalog import build_catalog
    from archiver.timeline.load import load_events

    t1 = time.perf_counter()
    loaded = load_events(args.events)
    t2 = time.perf_counter()
    catalog = build_catalog(loaded.events)
    registry = load_registry()
    t3 = time.perf_counter()
    findings = audit(loaded.events, catalog, registry)
    t4 = time.perf_counter()

    print(f"== {args.events}: {len(loaded.events)} events, {catalog.citations} citations, "
          f"{len(catalog.links)} distinct links; registry {len(registry)} entries ==")
    print(f"  seconds: import {t1 - t0:.2f}  load {t2 - t1:.2f}  catalog+registry {t3 - t2:.2f}  "
          f"audit {t4 - t3:.2f}  total {t4 - t0:.2f}")
    by_kind = collections.Counter(f.kind for f in findings)
    print(f"\n== findings: {len(findings)} ==")
    for kind, n in sorted(by_kind.items()):
        sev = {f.severity for f in findings if f.kind == kind}
        print(f"  {kind:20} {n:6}  ({', '.join(sorted(sev))})")
    missing = collections.Counter(f.message.split(": ")[1] for f in findings if f.kind == "missing_field")
    print("  missing_field by field: " + ", ".join(f"{k} {v}" for k, v in missing.most_common()))
    fillable = sum(1 for f in findings if f.kind == "missing_field" and f.fix and not f.fix.startswith("add "))
    print(f"  missing publisher/tier fillable by `archiver audit --write`: {fillable}")

    pool = [f for f in findings if args.kind is None or f.kind == args.kind]
    sample = random.Random(args.seed).sample(pool, min(args.sample, len(pool)))
    print(f"\n== random sample of {len(sample)} findings (seed {args.seed}"
          + (f", kind {args.kind}" if args.kind else "") + ") ==")
    paths = {e.file: e.path for e in loaded.events}
    for i, f in enumerate(sample, 1):
        print(f"\n[{i}] {f.where()}  {f.severity} {f.kind}")
        print(f"    {f.message}")
        print(f"    expected={f.expected!r} actual={f.actual!r}")
        print(f"    fix: {f.fix}")
        for line in source_block(paths.get(f.file or "", ""), f.line):
            print(f"    | {line}")

    if not args.no_titles:
        measure_titles(loaded.events, registry)


if __name__ == "__main__":
    main()
