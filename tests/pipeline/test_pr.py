"""``archiver pr``: a real git repository (base and pull-request head), local hosts and the local Wayback double.

Only the citations the diff adds or changes are checked (the hosts' request logs say so), a dead new
link fails with an annotation on its ``url:`` line, a blocked one warns, a dead link the pull request
does not touch is not reported, deleting events checks nothing, the JUnit XML parses, and the archive
is asked for copies (and saves only with the keys).
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from archiver.report.pr import Annotation, escape_data, escape_property, shown, workflow_command
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.farm_sites import article
from tests.support.wayback_double import WaybackDouble

NOW = dt.datetime(2024, 5, 1, 2, 0, tzinfo=dt.UTC)
KEYS = {"IA_ACCESS_KEY": "IAKEY-access-pr", "IA_SECRET_KEY": "IAKEY-secret-pr"}


async def news(req: Request, conn: Conn) -> None:
    """Home page and articles answer; /gone/... is 404."""
    if req.path.startswith("/gone/"):
        await conn.send(404, "<html><head><title>Not found</title></head><body><h1>Not found</h1></body></html>")
    elif req.path == "/":
        await conn.send(200, article("front-page"))
    else:
        await conn.send(200, article(req.path.strip("/").replace("/", "-") or "home"))


async def forbidden(req: Request, conn: Conn) -> None:
    await conn.send(403, "<html><head><title>Forbidden</title></head><body><h1>403 Forbidden</h1></body></html>")


@dataclass
class World:
    farm: Farm
    news: FarmHost
    blocked: FarmHost
    old: FarmHost
    double: WaybackDouble


@pytest.fixture
def world() -> Iterator[World]:
    farm = Farm().start()
    double = WaybackDouble(access=KEYS["IA_ACCESS_KEY"], secret=KEYS["IA_SECRET_KEY"], clock=lambda: NOW)
    double.start(farm)
    try:
        yield World(farm, farm.add("news", news), farm.add("blocked", forbidden), farm.add("old", news), double)
    finally:
        farm.stop()


def event_text(event_id: str, urls: list[str], publisher: str = "Example News") -> str:
    sources = "".join(f"  - title: Source {i}\n    url: {u}\n    publisher: {publisher}\n    date: 2024-03-0{i + 1}\n"
                      f"    tier: 1\n" for i, u in enumerate(urls))
    return f"---\nid: {event_id}\ndate: 2024-03-01\ntitle: Event {event_id}\nsources:\n{sources}---\n\nBody.\n"


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"HOME": str(cwd), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@x.org",
                "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@x.org"})
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          timeout=60).stdout


class Repo:
    """A timeline repository: a base commit on main, then a pull-request branch."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.events = root / "events"
        self.events.mkdir(parents=True)
        git(root, "init", "-q", "-b", "main")

    def write(self, name: str, text: str) -> None:
        (self.events / name).write_text(text, "utf-8")

    def commit(self, message: str) -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)

    def branch(self) -> None:
        git(self.root, "checkout", "-q", "-b", "pr")

    def run(self, world: World, *args: str, keys: bool = False) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ARCHIVER_", "IA_", "GIT_"))}
        env.update({"ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_PER_HOST_GAP": "0",
                    "ARCHIVER_CONNECT_TIMEOUT": "1", "ARCHIVER_READ_TIMEOUT": "2", "ARCHIVER_TOTAL_TIMEOUT": "3",
                    "ARCHIVER_ATTEMPTS": "1", "ARCHIVER_BACKOFF_BASE": "0",
                    "ARCHIVER_WAYBACK_URL": world.double.base_url,
                    "ARCHIVER_AVAILABILITY_URL": world.double.base_url, "ARCHIVER_CDX_PER_MINUTE": "6000",
                    "ARCHIVER_SAVE_PER_MINUTE": "6000", "ARCHIVER_SAVE_POLL_SECONDS": "10", "HOME": str(self.root)})
        if keys:
            env.update(KEYS)
        return subprocess.run([sys.executable, "-m", "archiver.cli", "pr", *args], cwd=self.root, env=env,
                              capture_output=True, text=True, timeout=120, check=False)


def line_of(path: Path, needle: str) -> int:
    return next(n for n, line in enumerate(path.read_text("utf-8").splitlines(), 1) if needle in line)


@pytest.mark.subprocess
def test_only_the_changed_citations_are_checked(world: World, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "timeline")
    old_dead = world.old.url("/gone/vanished-years-ago")
    repo.write("2024-01-01--old.md", event_text("2024-01-01--old", [old_dead, world.news.url("/articles/kept")]))
    repo.write("2024-02-01--edited.md", event_text("2024-02-01--edited", [world.news.url("/articles/unchanged")]))
    repo.commit("base")
    repo.branch()
    dead, blocked = world.news.url("/gone/typo-in-slug"), world.blocked.url("/story/paywalled")
    alive = world.news.url("/articles/council-vote")
    repo.write("2024-02-01--edited.md", event_text("2024-02-01--edited", [world.news.url("/articles/unchanged"),
                                                                          alive]))
    repo.write("2024-03-01--new.md", event_text("2024-03-01--new", [dead, blocked]))
    repo.commit("pr: two events")
    summary = tmp_path / "summary.md"
    done = repo.run(world, "--base", "main", "--summary", str(summary))
    assert done.returncode == 1, done.stdout + done.stderr

    # the requests: the new links (and the home page of the 404's host, by the home-page rule), nothing else
    assert {r.path for r in world.news.requests if r.path.startswith("/articles/")} == {"/articles/council-vote"}
    assert {r.path for r in world.news.requests} <= {"/articles/council-vote", "/gone/typo-in-slug", "/"} | {
        r.path for r in world.news.requests if r.path.count("/") == 1 and len(r.path) > 20}  # the random-path probe
    assert [r.path for r in world.blocked.requests if r.path == "/story/paywalled"] == ["/story/paywalled"]
    assert world.old.requests == [], "the unchanged dead link elsewhere in the timeline is not checked"

    new_file = repo.events / "2024-03-01--new.md"
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error ")]
    # the new event has no readable source (issue 22): its dead link is lost, its blocked one unknown
    (event_error,) = [e for e in errors if "title=event lost::" in e]
    errors.remove(event_error)
    assert event_error.startswith(f"::error file=events/2024-03-01--new.md,line={line_of(new_file, dead)},title="
                                  "event lost::the new event 2024-03-01--new has no readable source (0 live, 0 copy, "
                                  "1 lost, 1 unknown)"), event_error
    assert "1 new event(s) with no readable source" in done.stderr
    assert errors == [f"::error file=events/2024-03-01--new.md,line={line_of(new_file, dead)},title=dead link::"
                      f"{dead} is dead: HTTP 404 Not Found. A new citation's link must work: "
                      "fix the URL, or cite an archived copy (archive_url) of the page"], done.stdout
    warnings = [line for line in done.stdout.splitlines() if line.startswith("::warning ")]
    (block,) = [w for w in warnings if blocked in w]
    assert f"line={line_of(new_file, blocked)}," in block and "title=link blocked" in block
    assert "does not fail the pull request" in block
    assert old_dead not in done.stdout and old_dead not in summary.read_text("utf-8")
    table = summary.read_text("utf-8")
    assert "3 new or changed citations in 2 events (against main)" in table
    assert "**1 dead link: the check fails.**" in table
    assert table.count("\n| ") == 4  # the header and three citations
    assert "saving is off" in table


@pytest.mark.subprocess
def test_a_pr_that_only_deletes_events_checks_nothing(world: World, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "timeline")
    repo.write("a.md", event_text("a", [world.news.url("/gone/a")]))
    repo.write("b.md", event_text("b", [world.news.url("/articles/b")]))
    repo.commit("base")
    repo.branch()
    (repo.events / "a.md").unlink()
    repo.commit("remove a")
    done = repo.run(world, "--base", "main", "--format", "text")
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert world.news.requests == [] and world.double.log == []
    assert "0 new or changed citation(s) in 0 event(s) against main (1 event file(s) deleted)" in done.stderr


@pytest.mark.subprocess
def test_renamed_event_checks_only_what_changed_and_missing_base_is_explained(world: World, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "timeline")
    repo.write("a.md", event_text("a", [world.news.url("/articles/a1"), world.news.url("/articles/a2")]))
    repo.commit("base")
    repo.branch()
    (repo.events / "a.md").unlink()
    repo.write("2024-renamed.md", event_text("a", [world.news.url("/articles/a1"), world.news.url("/articles/a3")]))
    repo.commit("rename, one source replaced")
    done = repo.run(world, "--base", "main", "--format", "text")
    assert done.returncode == 0, done.stderr
    assert {r.path for r in world.news.requests if r.path.startswith("/articles/")} == {"/articles/a3"}

    missing = repo.run(world, "--base", "origin/main")
    assert missing.returncode == 2
    assert "the base ref 'origin/main' is not in this clone" in missing.stderr and "fetch-depth: 0" in missing.stderr


@pytest.mark.subprocess
def test_junit_output_parses(world: World, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "timeline")
    repo.write("a.md", event_text("a", [world.news.url("/articles/a1")]))
    repo.commit("base")
    repo.branch()
    odd = world.news.url("/gone/<weird>&\"quote\"")
    repo.write("b.md", event_text("b", [world.news.url("/articles/b1"), odd.replace('"', "%22")]))
    repo.commit("pr")
    out = tmp_path / "pr.xml"
    done = repo.run(world, "--base", "main", "--format", "junit", "--output", str(out))
    assert done.returncode == 1, done.stderr
    root = ET.fromstring(out.read_text("utf-8"))
    (suite,) = root.findall("testsuite")
    cases = suite.findall("testcase")
    assert len(cases) == 2 and suite.get("tests") == "2" and suite.get("failures") == "1"
    failed = [c for c in cases if c.find("failure") is not None]
    assert len(failed) == 1 and "<weird>&" in (failed[0].get("name") or "")
    assert failed[0].get("file") == "events/b.md" and failed[0].get("line") == str(line_of(repo.events / "b.md",
                                                                                          "/gone/"))


@pytest.mark.subprocess
def test_new_links_are_looked_up_and_saved_only_with_keys(world: World, tmp_path: Path) -> None:
    repo = Repo(tmp_path / "timeline")
    repo.write("a.md", event_text("a", [world.news.url("/articles/a1")]))
    repo.commit("base")
    repo.branch()
    archived, fresh = world.news.url("/articles/archived-before"), world.news.url("/articles/fresh")
    world.double.add(archived, "20240301120000", body=article("archived-before").encode())
    repo.write("b.md", event_text("b", [archived, fresh]))
    repo.commit("pr")
    summary = tmp_path / "summary.md"
    done = repo.run(world, "--base", "main", "--summary", str(summary))
    assert done.returncode == 0, done.stderr
    assert {h.kind for h in world.double.log} == {"cdx"}, "no save without keys"
    table = summary.read_text("utf-8")
    assert f"found: {world.double.base_url}/web/20240301120000/{archived}" in table
    assert "none found" in table and "saving is off" in table

    summary.unlink()
    done = repo.run(world, "--base", "main", "--summary", str(summary), keys=True)
    assert done.returncode == 0, done.stderr
    saves = [h for h in world.double.log if h.kind == "save"]
    assert {h.url for h in saves} == {archived, fresh}
    table = summary.read_text("utf-8")
    assert f"saved now: {world.double.base_url}/web/" in table and "(add `archive_url: " in table
    assert KEYS["IA_SECRET_KEY"] not in table + done.stdout + done.stderr


def test_annotations_escape_and_stop_at_githubs_limits() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"
    assert escape_property("a:b,c%") == "a%3Ab%2Cc%25"
    line = workflow_command(Annotation("error", "events/a,b:c.md", 7, "dead link", "x\ny"))
    assert line == "::error file=events/a%2Cb%3Ac.md,line=7,title=dead link::x%0Ay"
    many = [Annotation("warning", "f.md", n, "t", "m") for n in range(15)] + \
           [Annotation("error", "f.md", n, "t", "m") for n in range(12)]
    kept, left_out = shown(many)
    assert len(kept) == 20 and left_out == 7


def test_new_events_with_no_readable_source() -> None:
    """Only an event the pull request adds is judged: lost (a dead link without a copy) fails, unknown (blocked,
    a refused connection, no lookup) warns, a live page or any archived copy makes it readable."""
    from archiver.pipeline.pr import REFUSED, unreadable_events
    from archiver.report.pr import PrItem
    from archiver.timeline.changes import Changes

    def item(file: str, line: int, status: str, *, note: str = "none found", archived: str | None = None,
             evidence: str = "HTTP 404") -> PrItem:
        return PrItem(file=file, line=line, event=file.rsplit("/", 1)[1][:-3], source_index=line, url="u",
                      kind="added", status=status, evidence=evidence, archived=archived, archive_note=note)

    files = {f"events/{n}.md": "added" for n in ("lost", "unknown", "copy", "live", "refused")}
    changes = Changes(base="main", merge_base="x", files={**files, "events/edited.md": "modified"})
    items = [item("events/lost.md", 9, "dead"), item("events/lost.md", 6, "blocked"),
             item("events/unknown.md", 6, "blocked"), item("events/unknown.md", 9, "dead", note="lookup failed: 503"),
             item("events/copy.md", 6, "dead", archived="https://web.archive.org/web/2020/u", note="found"),
             item("events/live.md", 6, "alive"), item("events/live.md", 9, "dead"),
             item("events/refused.md", 6, "dead", evidence=f"{REFUSED} (possibly a passing outage)"),
             item("events/edited.md", 6, "dead")]
    verdicts = {(e.event, e.health, e.level, e.line) for e in unreadable_events(changes, items)}
    assert verdicts == {("lost", "lost", "error", 6), ("unknown", "unknown", "warning", 6),
                        ("refused", "unknown", "warning", 6)}
