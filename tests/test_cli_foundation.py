"""`archiver validate` and `archiver links` through the real console script."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.timeline.test_events import GOOD, write_broken_timeline

PROJECT = Path(__file__).resolve().parent.parent


def run(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "archiver.cli", *args], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=60)


@pytest.mark.subprocess
def test_validate_clean_timeline_exits_zero(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "good.md").write_text(GOOD)
    proc = run("validate", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "1 events, 1 citations, 1 distinct links: no problems" in proc.stdout


@pytest.mark.subprocess
def test_validate_broken_timeline_lists_findings_and_exits_one(tmp_path: Path) -> None:
    write_broken_timeline(tmp_path / "tl")
    proc = run("validate", "--events", str(tmp_path / "tl"), cwd=tmp_path)
    assert proc.returncode == 1
    assert "tl/url-words.md:6: error: invalid_url:" in proc.stdout
    proc = run("validate", "--events", str(tmp_path / "tl"), "--format", "json", cwd=tmp_path)
    data = json.loads(proc.stdout)
    assert data["summary"]["events"] >= 10
    assert any(f["kind"] == "duplicate_id" for f in data["findings"])


@pytest.mark.subprocess
def test_validate_project_events_are_clean() -> None:
    proc = run("validate", cwd=PROJECT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.subprocess
def test_links_formats(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "a.md").write_text(GOOD)
    (tmp_path / "events" / "b.md").write_text(GOOD.replace("good-event", "other").replace(
        "/world/a-story", "/world/a-story?utm_source=x"))
    proc = run("links", "--format", "csv", cwd=tmp_path)
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 1 and rows[0]["citations"] == "2" and rows[0]["events"] == "good-event other"
    data = json.loads(run("links", "--format", "json", cwd=tmp_path).stdout)
    assert data[0]["domain"] == "reuters.com"


@pytest.mark.subprocess
def test_bad_setting_is_one_clear_line(tmp_path: Path) -> None:
    proc = run("validate", cwd=tmp_path, env={"ARCHIVER_MAX_EVENT_BYTES": "lots"})
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0
    assert "max_event_bytes" in proc.stderr and "ARCHIVER_MAX_EVENT_BYTES" in proc.stderr
