"""Benchmark: ``archiver pr`` on a pull request adding 5 events (15 citations) to a copy of the corpus.

The corpus (../shared/corpus/capture-cascade/events, about 2,800 events) is copied into a temporary
git repository and committed as the base; a branch adds 5 events of 3 citations each, citing pages
on 5 local hosts (tests/support/farm.py: 12 live, 2 answering 404, 1 answering 403), and the local
Wayback double (tests/support/wayback_double.py) holds a capture for 5 of them. ``archiver pr --base
main`` runs as a subprocess, with and without Save Page Now keys. Printed: wall time, exit code,
requests each local host and the double received (by kind), and the annotations.

The archive rates are the defaults unless ``--cdx-per-minute`` says otherwise (24 a minute: 15
lookups take about 35 s at the real rate; the default here is the real rate).

    .venv/bin/python benchmarks/pr_check.py [--cdx-per-minute 24]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.farm import Conn, Farm, Request
from tests.support.farm_sites import article
from tests.support.wayback_double import WaybackDouble

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "capture-cascade" / "events"
KEYS = {"IA_ACCESS_KEY": "bench-access", "IA_SECRET_KEY": "bench-secret"}


async def site(req: Request, conn: Conn) -> None:
    if req.path.startswith("/gone/"):
        await conn.send(404, "<html><head><title>Not found</title></head><body><h1>Not found</h1></body></html>")
    elif req.path.startswith("/members/"):
        await conn.send(403, "<html><head><title>Forbidden</title></head><body><h1>Forbidden</h1></body></html>")
    else:
        await conn.send(200, article(req.path.strip("/").replace("/", "-") or "front-page"))


def git(cwd: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@x.org", "GIT_COMMITTER_NAME": "bench",
           "GIT_COMMITTER_EMAIL": "b@x.org", "HOME": str(cwd)}
    subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, timeout=300)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cdx-per-minute", type=float, default=24.0)
    args = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus {CORPUS} is absent")
    farm = Farm().start()
    double = WaybackDouble(access=KEYS["IA_ACCESS_KEY"], secret=KEYS["IA_SECRET_KEY"],
                           clock=lambda: dt.datetime.now(dt.UTC)).start(farm)
    hosts = [farm.add(f"site{i}", site) for i in range(5)]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "timeline"
        shutil.copytree(CORPUS, root / "events")
        git(root, "init", "-q", "-b", "main")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "base: the corpus")
        git(root, "checkout", "-q", "-b", "pr")
        for n in range(5):
            paths = [f"/news/2024/story-{n}-{k}" for k in range(3)]
            if n == 1:
                paths[2] = f"/gone/story-{n}"
            if n == 3:
                paths[0], paths[1] = f"/gone/typo-{n}", f"/members/story-{n}"
            urls = [hosts[(n + k) % 5].url(p) for k, p in enumerate(paths)]
            double.add(urls[0], "20240301120000", body=article(f"old-{n}").encode())
            sources = "".join(f"  - url: {u}\n    title: Story {n}.{k}\n    publisher: Example News\n"
                              f"    date: 2024-03-0{k + 1}\n    tier: 2\n" for k, u in enumerate(urls))
            (root / "events" / f"2026-01-0{n + 1}--bench-{n}.md").write_text(
                f"---\nid: 2026-01-0{n + 1}--bench-{n}\ndate: 2026-01-0{n + 1}\ntitle: Bench {n}\n"
                f"sources:\n{sources}---\n\nBody.\n", "utf-8")
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "pr: five events")
        for keys in (False, True):
            for host in hosts:
                host.requests.clear()
            double.log.clear()
            env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "IA_"))}
            env.update({"ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_WAYBACK_URL": double.base_url,
                        "ARCHIVER_AVAILABILITY_URL": double.base_url,
                        "ARCHIVER_CDX_PER_MINUTE": str(args.cdx_per_minute)})
            if keys:
                env.update(KEYS)
            t0 = time.monotonic()
            done = subprocess.run([sys.executable, "-m", "archiver.cli", "pr", "--base", "main"], cwd=root, env=env,
                                  capture_output=True, text=True, timeout=900, check=False)
            wall = time.monotonic() - t0
            sites = sum(len(h.requests) for h in hosts)
            kinds = Counter(h.kind for h in double.log)
            print(f"== keys: {keys}: exit {done.returncode}, wall {wall:.1f}s; requests to the 5 sites: {sites}; "
                  f"archive calls: {dict(sorted(kinds.items()))}")
            print(done.stderr.strip())
            for line in done.stdout.splitlines():
                print("  " + line[:160])
    farm.stop()


if __name__ == "__main__":
    main()
