"""The README's two commands are the ones CI and the workflows run, and the README stays a front page."""

from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent


def readme_commands() -> list[str]:
    text = (PROJECT / "README.md").read_text("utf-8")
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```sh\n(.*?)```", quick, re.S)]


def test_readme_has_exactly_two_setup_commands() -> None:
    commands = readme_commands()
    assert len(commands) == 2
    main, tests = commands
    assert "pip install -e ." in main and "archiver " in main
    assert "pip install -e '.[test]'" in tests and "pytest" in tests
    assert all("\n" not in c for c in commands), "each command is one line a newcomer can copy"


def test_ci_runs_the_readme_test_command() -> None:
    _, tests = readme_commands()
    ci = (PROJECT / ".ci" / "run").read_text("utf-8")
    assert tests in ci.splitlines()
    workflow = (PROJECT / ".github" / "workflows" / "ci.yml").read_text("utf-8")
    assert "bash .ci/run" in workflow


def test_readme_is_short_and_the_docs_repeat_its_commands() -> None:
    """The README is the front page (the manual is docs/); Getting started shows the same two commands."""
    lines = (PROJECT / "README.md").read_text("utf-8").splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines: the manual belongs in docs/"
    started = (PROJECT / "docs" / "getting-started.md").read_text("utf-8")
    quick = started.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    assert [b.strip() for b in re.findall(r"```sh\n(.*?)```", quick, re.S)] == readme_commands()
