"""Scale-out: split the links across N runs by registrable domain, then merge their state.

A shard holds every link of the registrable domains whose stable hash falls in it,
so per-host politeness holds across shards (two shards never hit one site). Each
shard writes its own link folders; :func:`merge_snapshots` combines several shards'
``snapshots/`` folders into one, deterministically: link folders are disjoint, so
the merge is a union; should two shards hold the same folder anyway, the state
checked last wins and no archived text is ever overwritten.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import atomic
from .models import Link
from .state import LOCK_FILE, RUN_FILE, STATE_FILE, dumps


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            k, n = (int(part) for part in text.split("/", 1))
        except ValueError:
            raise ValueError(f"--shard takes K/N (e.g. 2/4), got {text!r}") from None
        if not 1 <= k <= n:
            raise ValueError(f"--shard {text}: K must be between 1 and N")
        return cls(k, n)

    def holds(self, link: Link) -> bool:
        key = link.domain or link.host or link.normalized_url
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _checked(path: Path) -> str:
    try:
        return str(json.loads(path.read_text("utf-8")).get("last_checked") or "")
    except (OSError, ValueError):
        return ""


def merge_snapshots(sources: list[Path], target: Path) -> dict[str, int]:
    """Merge shard ``snapshots/`` folders into ``target``; returns counts of what was done."""
    counts = {"links": 0, "files_copied": 0, "states_replaced": 0, "conflicts_kept": 0}
    runs: list[dict[str, Any]] = []
    for source in sources:
        run_path = source / RUN_FILE
        if run_path.is_file():
            runs.append(json.loads(run_path.read_text("utf-8")))
        for folder in sorted(p for p in source.glob("*/*") if p.is_dir()):
            rel = folder.relative_to(source)
            dest = target / rel
            counts["links"] += 1
            for file in sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")):
                out = dest / file.name
                if not out.exists():
                    atomic.write_bytes(out, file.read_bytes())
                    counts["files_copied"] += 1
                elif file.name == STATE_FILE:
                    if _checked(file) > _checked(out):
                        atomic.write_bytes(out, file.read_bytes())
                        counts["states_replaced"] += 1
                elif out.read_bytes() != file.read_bytes():
                    counts["conflicts_kept"] += 1  # archived text is never overwritten
        for extra in sorted(p for p in source.iterdir() if p.is_file()
                            and p.name not in (RUN_FILE, LOCK_FILE) and not (target / p.name).exists()):
            shutil.copyfile(extra, target / extra.name)
    if runs:
        atomic.write_text(target / RUN_FILE, dumps(merge_runs(runs)))
    return counts


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run record from the shards' records."""
    order = {"ok": 0, "degraded": 1, "offline": 2}
    merged: dict[str, Any] = {
        "started_at": min(r.get("started_at") or "" for r in runs) or None,
        "finished_at": max(r.get("finished_at") or "" for r in runs) or None,
        "complete": all(r.get("complete", False) for r in runs),
        "network": max((r.get("network", "ok") for r in runs), key=lambda s: order.get(s, 0)),
        "budgets_hit": sorted({b for r in runs for b in r.get("budgets_hit", [])}),
        "stage_seconds": {},
        "checked": sum(int(r.get("checked", 0)) for r in runs),
        "due": sum(int(r.get("due", 0)) for r in runs),
        "shard": None,
        "shards": sorted(str(r.get("shard")) for r in runs),
        "notes": [n for r in runs for n in r.get("notes", [])],
        "changes": sorted((c for r in runs for c in r.get("changes", [])),
                          key=lambda c: (c.get("kind", ""), c.get("url", ""))),
    }
    for r in runs:
        for stage, seconds in r.get("stage_seconds", {}).items():
            merged["stage_seconds"][stage] = max(merged["stage_seconds"].get(stage, 0.0), seconds)
    return merged
