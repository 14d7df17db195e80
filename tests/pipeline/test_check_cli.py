"""`archiver check` as other tools run it: a subprocess, flags and environment, report.json."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from archiver.report.build import load_schema
from tests.support.farm_sites import Sites

FAST = ["--per-host-gap", "0", "--connect-timeout", "1", "--read-timeout", "1", "--total-timeout", "2",
        "--attempts", "1", "--backoff-base", "0", "--quiet"]




def write_event(folder: Path, event_id: str, urls: list[str]) -> None:
    sources = "".join(f"  - url: {u}\n    title: Source {i}\n    publisher: Example\n    date: 2020-01-0{i + 1}\n"
                      f"    tier: 1\n" for i, u in enumerate(urls))
    (folder / f"{event_id}.md").write_text(
        f"---\nid: {event_id}\ndate: 2020-01-01\ntitle: Event {event_id}\nsources:\n{sources}---\n\nBody.\n",
        encoding="utf-8")


def run_cli(args: list[str], cwd: Path, env_extra: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARCHIVER_")}
    env.update(env_extra or {})
    return subprocess.run([sys.executable, "-m", "archiver.cli", "check", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.mark.subprocess
def test_check_writes_a_valid_report(sites: Sites, tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    moved, dead = sites.news.url("/old/court-rules"), sites.news.url("/gone-404/vanished")
    write_event(events, "2020-01-01--first", [sites.news.url("/articles/council-budget"), dead, moved])
    write_event(events, "2020-02-01--second", [sites.soft.url("/missing/story-gone"), sites.news.url("/forbidden"),
                                               "ftp://files.example.org/report.pdf", dead])
    done = run_cli(["--events", str(events), "--report-dir", str(tmp_path / "out"),
                    "--allow-networks", "127.0.0.0/8", *FAST], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "checked 5 of 5 due links (6 in all) on 2 hosts" in done.stdout
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    validator = jsonschema.Draft202012Validator(load_schema(), format_checker=jsonschema.FormatChecker())
    validator.validate(report)
    by_url = {e["url"]: e for e in report["links"]}
    assert by_url[moved]["status"] == "alive" and by_url[moved]["moved_to"] == sites.news.url("/articles/court-rules")
    assert by_url[moved]["redirects"] == [{"url": moved, "status": 301}]
    assert by_url[dead]["status"] == "dead" and by_url[dead]["http_status"] == 404
    assert by_url[dead]["checked_at"] and by_url[dead]["elapsed"] >= 0 and by_url[dead]["error"]
    assert by_url[moved]["final_url"] == sites.news.url("/articles/court-rules")
    assert by_url[moved]["content_type"] == "text/html"
    assert by_url[sites.soft.url("/missing/story-gone")]["status"] == "soft_404"
    assert by_url[sites.news.url("/forbidden")]["status"] == "blocked"
    assert by_url["ftp://files.example.org/report.pdf"]["status"] == "invalid"
    assert report["run"]["network"] == "ok" and report["run"]["complete"] is True

    findings = report["findings"]
    dead_findings = [f for f in findings if f["kind"] == "dead_link"]
    assert {(f["event"], f["source_index"]) for f in dead_findings} == {("2020-01-01--first", 1),
                                                                        ("2020-02-01--second", 3)}
    assert all(f["file"].endswith(".md") and f["line"] and f["url"] == dead for f in dead_findings)
    (move,) = [f for f in findings if f["kind"] == "moved"]
    assert sites.news.url("/articles/court-rules") in move["fix"] and move["source_index"] == 2
    assert {f["kind"] for f in findings} >= {"dead_link", "moved", "soft_404", "blocked", "invalid_url"}


@pytest.mark.subprocess
def test_environment_variables_configure_the_network(sites: Sites, tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    write_event(events, "e", [sites.news.url("/articles/env-configured")])
    out = tmp_path / "r"
    done = run_cli(["--events", str(events), "--report-dir", str(out), "--quiet"], cwd=tmp_path,
                   env_extra={"ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_PER_HOST_GAP": "0",
                              "ARCHIVER_USER_AGENT": "EnvBot/1.0"})
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads((out / "report.json").read_text())["links"]
    assert entry["status"] == "alive"
    assert sites.news.hits("/articles/env-configured")[-1].headers["user-agent"] == "EnvBot/1.0"


@pytest.mark.subprocess
def test_loopback_is_refused_without_allow_networks(sites: Sites, tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    write_event(events, "e", [sites.news.url("/articles/not-allowed-by-default")])
    done = run_cli(["--events", str(events), "--report-dir", str(tmp_path / "r"), *FAST], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (entry,) = json.loads((tmp_path / "r" / "report.json").read_text())["links"]
    assert entry["status"] == "invalid" and "loopback" in entry["error"]
    assert sites.news.hits("/articles/not-allowed-by-default") == []


@pytest.mark.subprocess
def test_offline_network_exits_non_zero_with_one_clear_line(tmp_path: Path) -> None:
    events = tmp_path / "events"
    events.mkdir()
    write_event(events, "e1", [f"https://www.paper{i}.invalid/2019/story-{i}" for i in range(4)])
    write_event(events, "e2", [f"https://news{i}.invalid/a" for i in range(4)])
    done = run_cli(["--events", str(events), "--report-dir", str(tmp_path / "r"), *FAST], cwd=tmp_path)
    assert done.returncode != 0
    lines = [line for line in done.stderr.splitlines() if line.startswith("archiver:")]
    assert len(lines) == 1 and "network offline" in lines[0] and "no link was reported dead" in lines[0]
    report = json.loads((tmp_path / "r" / "report.json").read_text())
    assert report["run"]["network"] == "offline"
    assert "dead" not in report["summary"]["links"]
    assert not [f for f in report["findings"] if f["kind"] == "dead_link"]


@pytest.mark.subprocess
def test_bad_configuration_exits_non_zero_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "events").mkdir()
    done = run_cli(["--events", str(tmp_path / "events"), "--concurrency", "0"], cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "concurrency" in done.stderr
    done = run_cli(["--events", str(tmp_path / "events")], cwd=tmp_path,
                   env_extra={"ARCHIVER_ALLOW_NETWORKS": "not-a-network"})
    assert done.returncode == 2 and "ARCHIVER_ALLOW_NETWORKS" in done.stderr
    done = run_cli(["--events", str(tmp_path / "missing")], cwd=tmp_path)
    assert done.returncode == 2 and "does not exist" in done.stderr
