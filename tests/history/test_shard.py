"""Merging shard folders that started from a copy of the committed state."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from archiver.history.shards import merge_runs, merge_snapshots


def _state(root: Path, rel: str, **fields: object) -> Path:
    path = root / rel / "state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"url": rel, "last_checked": "2026-03-01T02:00:00Z", **fields}))
    return path


def test_a_shard_update_without_a_recheck_is_kept(tmp_path: Path) -> None:
    committed = tmp_path / "snapshots"
    _state(committed, "a.org/x--1")
    _state(committed, "b.org/y--2")
    (committed / "a.org/x--1/snapshot.md").write_text("first capture")
    shards = []
    for k in (1, 2):
        shard = tmp_path / f"shard-{k}"
        shutil.copytree(committed, shard)
        shards.append(shard)
    # shard 1 owns a.org: it learnt of a Wayback copy without rechecking the page
    _state(shards[0], "a.org/x--1", wayback={"url": "https://web.archive.org/web/2020/x"})
    (shards[0] / "a.org/x--1/snapshot-20260301T020000Z.md").write_text("drift version")
    # shard 2 owns b.org: rechecked
    _state(shards[1], "b.org/y--2", last_checked="2026-03-02T02:00:00Z")
    counts = merge_snapshots(shards, committed)
    a = json.loads((committed / "a.org/x--1/state.json").read_text())
    b = json.loads((committed / "b.org/y--2/state.json").read_text())
    assert a["wayback"]["url"] == "https://web.archive.org/web/2020/x"
    assert b["last_checked"] == "2026-03-02T02:00:00Z"
    assert (committed / "a.org/x--1/snapshot-20260301T020000Z.md").read_text() == "drift version"
    assert counts["states_replaced"] == 2 and counts["files_copied"] == 1


def test_archived_text_is_never_overwritten(tmp_path: Path) -> None:
    committed = tmp_path / "snapshots"
    _state(committed, "a.org/x--1")
    (committed / "a.org/x--1/snapshot.md").write_text("the article")
    shard = tmp_path / "shard"
    shutil.copytree(committed, shard)
    (shard / "a.org/x--1/snapshot.md").write_text("an error page")
    counts = merge_snapshots([shard], committed)
    assert (committed / "a.org/x--1/snapshot.md").read_text() == "the article"
    assert counts["conflicts_kept"] == 1


def test_a_missing_shard_makes_the_merged_run_incomplete() -> None:
    runs = [{"shard": "1/3", "complete": True}, {"shard": "3/3", "complete": True}]
    merged = merge_runs(runs)
    assert merged["complete"] is False
    assert any("2/3" in note for note in merged["notes"])
    assert merge_runs([{"shard": "1/2", "complete": True}, {"shard": "2/2", "complete": True}])["complete"]
