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

from ..errors import UsageError
from ..models import Link
from ..support import atomic
from .lock import LOCK_FILE
from .store import RUN_FILE, STATE_FILE, dumps


@dataclass(frozen=True, slots=True)
class Shard:
    index: int  # 1-based
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        try:
            k, n = (int(part) for part in text.split("/", 1))
        except ValueError:
            raise UsageError(f"--shard takes K/N (e.g. 2/4), got {text!r}") from None
        if not 1 <= k <= n:
            raise UsageError(f"--shard {text}: K must be between 1 and N")
        return cls(k, n)

    def holds(self, link: Link) -> bool:
        key = link.domain or link.host or link.normalized_url
        digest = hashlib.sha256(key.encode("utf-8", "surrogatepass")).digest()
        return int.from_bytes(digest[:8], "big") % self.count == self.index - 1

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def _checked(data: bytes) -> str:
    try:
        return str(json.loads(data).get("last_checked") or "")
    except ValueError:
        return ""


def merge_snapshots(sources: list[Path], target: Path) -> dict[str, int]:
    """Merge shard ``snapshots/`` folders into ``target``; returns counts of what was done.

    A shard may start from a copy of the whole committed folder (the sharded workflow
    does), so a file a shard did not change equals the target's and is skipped; a file
    a shard changed replaces the target's. Should two shards change one state file,
    the one checked last wins; an archived text that differs from the target's is
    never written over (drift versions have their own names).
    """
    counts = {"links": 0, "files_copied": 0, "states_replaced": 0, "conflicts_kept": 0}
    runs: list[dict[str, Any]] = []
    changed: dict[Path, list[bytes]] = {}
    folders: set[Path] = set()
    for source in sources:
        run_path = source / RUN_FILE
        if run_path.is_file():
            runs.append(json.loads(run_path.read_text("utf-8")))
        for folder in sorted(p for p in source.glob("*/*") if p.is_dir()):
            rel = folder.relative_to(source)
            folders.add(rel)
            for file in sorted(f for f in folder.iterdir() if f.is_file() and not f.name.startswith(".")):
                data = file.read_bytes()
                out = target / rel / file.name
                if out.is_file() and out.read_bytes() == data:
                    continue  # this shard left it as committed
                changed.setdefault(rel / file.name, []).append(data)
        for extra in sorted(p for p in source.iterdir() if p.is_file()
                            and p.name not in (RUN_FILE, LOCK_FILE) and not (target / p.name).exists()):
            shutil.copyfile(extra, target / extra.name)
    counts["links"] = len(folders)
    for rel in sorted(changed):
        versions = changed[rel]
        out = target / rel
        if rel.name == STATE_FILE:
            best = max(versions, key=_checked)  # max() keeps the first of equals: shard order decides
            counts["states_replaced" if out.exists() else "files_copied"] += 1
            atomic.write_bytes(out, best)
        elif not out.exists():
            atomic.write_bytes(out, versions[0])
            counts["files_copied"] += 1
            counts["conflicts_kept"] += len({v for v in versions}) - 1
        else:
            counts["conflicts_kept"] += 1  # archived text is never overwritten
    if runs:
        atomic.write_text(target / RUN_FILE, dumps(merge_runs(runs)))
    return counts


def merge_runs(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One run record from the shards' records."""
    order = {"ok": 0, "degraded": 1, "offline": 2}
    shards = {str(r.get("shard")) for r in runs}
    expected = {int(s.split("/")[1]) for s in shards if "/" in s}
    missing = [f"{k}/{n}" for n in expected for k in range(1, n + 1) if f"{k}/{n}" not in shards]
    merged: dict[str, Any] = {
        "started_at": min(r.get("started_at") or "" for r in runs) or None,
        "finished_at": max(r.get("finished_at") or "" for r in runs) or None,
        "complete": all(r.get("complete", False) for r in runs) and not missing,
        "network": max((r.get("network", "ok") for r in runs), key=lambda s: order.get(s, 0)),
        "budgets_hit": sorted({b for r in runs for b in r.get("budgets_hit", [])}),
        "stage_seconds": {},
        "checked": sum(int(r.get("checked", 0)) for r in runs),
        "due": sum(int(r.get("due", 0)) for r in runs),
        "shard": None,
        "shards": sorted(str(r.get("shard")) for r in runs),
        "notes": [n for r in runs for n in r.get("notes", [])]
        + ([f"shard(s) {', '.join(missing)} missing from the merge: their links were not checked"] if missing else []),
        "changes": sorted((c for r in runs for c in r.get("changes", [])),
                          key=lambda c: (c.get("kind", ""), c.get("url", ""))),
    }
    for r in runs:
        for stage, seconds in r.get("stage_seconds", {}).items():
            merged["stage_seconds"][stage] = max(merged["stage_seconds"].get(stage, 0.0), seconds)
    return merged
