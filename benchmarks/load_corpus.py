"""Benchmark: load the real corpus and build the link catalog.

Prints wall time per stage (median of --repeat runs, each in a fresh process so
imports and caches are cold), peak memory, and the counts, side by side with a
baseline: plain ``frontmatter.load`` of every file (no line numbers, no
findings, no catalog), and with archiver parsing the events in one process instead of
two (peak RSS is the main process's). Target: under 5 s on 2 cores.

    python benchmarks/load_corpus.py [--events PATH] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "capture-cascade" / "events"

CHILD = r"""
import json, resource, sys, time
t0 = time.perf_counter()
mode, root = sys.argv[1], sys.argv[2]
if mode.startswith("archiver"):
    from archiver.timeline.load import load_events
    from archiver.timeline.catalog import build_catalog
    t1 = time.perf_counter()
    loaded = load_events(root, processes=1 if mode == "archiver-1-process" else 2)
    t2 = time.perf_counter()
    catalog = build_catalog(loaded.events)
    t3 = time.perf_counter()
    counts = {"files": loaded.files, "events": len(loaded.events), "citations": catalog.citations,
              "links": len(catalog.links), "findings": len(loaded.findings) + len(catalog.findings)}
else:
    import pathlib
    import frontmatter
    t1 = time.perf_counter()
    n = s = 0
    for p in sorted(pathlib.Path(root).rglob("*.md")):
        post = frontmatter.load(p)
        n += 1
        s += len(post.metadata.get("sources") or [])
    t2 = t3 = time.perf_counter()
    counts = {"files": n, "sources": s}
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "catalog": t3 - t2, "total": t3 - t0,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "counts": counts}))
"""


def run(mode: str, root: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(root)], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=Path, default=DEFAULT)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.events.is_dir():
        sys.exit(f"corpus not found at {args.events}")
    rows = {}
    for mode in ("archiver", "archiver-1-process", "frontmatter-baseline"):
        runs = [run(mode, args.events) for _ in range(args.repeat)]
        rows[mode] = {k: statistics.median(r[k] for r in runs) for k in ("import", "load", "catalog", "total",
                                                                          "peak_rss_mb")}
        rows[mode]["counts"] = runs[0]["counts"]
    print(f"corpus: {args.events}  (median of {args.repeat} cold runs)")
    print(f"{'':22}{'import s':>10}{'load s':>10}{'catalog s':>11}{'total s':>10}{'peak RSS MB':>13}")
    for mode, r in rows.items():
        print(f"{mode:22}{r['import']:>10.2f}{r['load']:>10.2f}{r['catalog']:>11.2f}{r['total']:>10.2f}"
              f"{r['peak_rss_mb']:>13.0f}")
    a, b = rows["archiver"], rows["frontmatter-baseline"]
    print(f"archiver / baseline total: {a['total'] / b['total']:.2f}x  (target: archiver total < 5 s: "
          f"{'met' if a['total'] < 5 else 'MISSED'})")
    print("archiver counts:", json.dumps(a["counts"]))
    print("baseline counts:", json.dumps(b["counts"]))


if __name__ == "__main__":
    main()
