"""The docs site (docs/, mkdocs.yml) and the README: complete, runnable, buildable.

- every page of the nav exists, every docs page is in the nav, and the README links to them;
- the configuration reference is generated from the settings' declaration (the hook, run
  without mkdocs) and holds every setting;
- every ``archiver ...`` command shown in a code block of the README or the docs names a real
  command with real options and valid values (tests/support/clicommands.py), every command
  the docs name answers ``--help``, and the options of the commands table exist;
- every YAML and TOML example loads the way archiver loads it: the event example as an event,
  the registry example as a registry, the settings example as settings, the workflow excerpt
  as the workflow's own step;
- ``mkdocs build --strict`` passes (skipped without mkdocs: ``.ci/run`` installs the docs extra
  and runs the build itself, as a step of its own).
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import frontmatter
import pytest
import yaml
from click.testing import CliRunner

from archiver.audit.registry import load_registry
from archiver.cli import cli
from archiver.config import SETTINGS, env_name, load_settings
from archiver.timeline.load import load_events
from tests.support.clicommands import EXPRESSION, check_command_line
from tests.support.docs import DOCS, PROJECT, config_reference, page

README = PROJECT / "README.md"
MKDOCS = PROJECT / "mkdocs.yml"
FENCE = re.compile(r"^( *)```(\w*)\n(.*?)^\1```$", re.S | re.M)
INLINE = re.compile(r"(?<!`)`(archiver [^`\n]+)`(?!`)")
#: the pages the issue asks for, by file (the nav's titles may change)
PAGES = ["index.md", "getting-started.md", "nightly-job.md", "pull-requests.md", "verdicts.md", "snapshots.md",
         "archives.md", "relocations.md", "configuration.md", "reports.md", "architecture.md", "faq.md"]


def nav_files() -> list[str]:
    def walk(items: Any) -> list[str]:
        out: list[str] = []
        for item in items:
            value = next(iter(item.values())) if isinstance(item, dict) else item
            out += walk(value) if isinstance(value, list) else [value]
        return out

    return walk(yaml.safe_load(MKDOCS.read_text("utf-8"))["nav"])


def markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md"))]


def blocks(lang: str) -> list[tuple[str, str]]:
    """(file, text) of every fenced block of that language in the README and the docs, unindented."""
    found = []
    for path in markdown_files():
        for indent, fence_lang, text in FENCE.findall(path.read_text("utf-8")):
            if fence_lang == lang:
                body = "\n".join(line[len(indent):] for line in text.splitlines())
                found.append((path.relative_to(PROJECT).as_posix(), body))
    return found


def shown_commands() -> list[tuple[str, str]]:
    """(file, line) of every archiver command in a shell block, its setup prefix (.venv/bin/) dropped."""
    out = []
    for where, text in blocks("sh"):
        for line in text.replace("\\\n", " ").splitlines():
            for part in line.split("&&"):
                part = part.strip().removeprefix(".venv/bin/")
                if part.startswith("archiver"):
                    out.append((where, part))
    return out


# --------------------------------------------------------------------------- pages and nav


def test_nav_has_the_pages_and_every_page_is_in_it() -> None:
    nav = nav_files()
    assert sorted(nav) == sorted(PAGES)
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(PAGES), "a docs page outside the nav"
    hooks = yaml.safe_load(MKDOCS.read_text("utf-8"))["hooks"]
    assert all((PROJECT / hook).is_file() for hook in hooks)


def test_readme_links_every_docs_page_and_its_screenshot() -> None:
    readme = README.read_text("utf-8")
    for name in PAGES:
        if name != "index.md":
            assert f"(docs/{name}" in readme, f"the README does not link docs/{name}"
    images = re.findall(r"!\[[^\]]+\]\(([^)]+\.png)\)", readme)
    assert images == ["docs/img/report.png"]
    assert (PROJECT / images[0]).stat().st_size < 300_000


def test_the_nightly_page_keeps_the_archive_lanes_section() -> None:
    assert "\n## Archive lanes and the night's budget\n" in page("nightly-job")


def test_the_reports_page_includes_the_schema_file() -> None:
    text = page("reports")
    assert '--8<-- "archiver/schema/report-v1.schema.json"' in text
    assert "](schema/report-v1.schema.json)" in text  # published by docs/hooks/report_schema.py
    assert (PROJECT / "archiver" / "schema" / "report-v1.schema.json").is_file()


# --------------------------------------------------------------------------- the generated reference


def test_the_configuration_reference_holds_every_setting() -> None:
    reference = config_reference().render(page("configuration"))
    assert config_reference().MARKER not in reference
    for name, f in SETTINGS.items():
        row = next((line for line in reference.splitlines() if line.startswith(f"| `{name}` |")), None)
        assert row is not None, f"setting {name} is not in the generated reference"
        assert f"`{env_name(name)}`" in row and f.metadata["doc"] in row
    with pytest.raises(ValueError, match="marker"):
        config_reference().render("# Configuration reference\n")


# --------------------------------------------------------------------------- commands


def test_every_shown_command_parses_with_the_cli() -> None:
    commands = shown_commands()
    assert {line.split()[1] for _, line in commands} >= {"run", "pr", "merge", "site"}
    for where, line in commands:
        try:
            check_command_line(line)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None


def test_inline_commands_name_real_commands_and_options() -> None:
    """`archiver ...` in running text and tables: the command exists and so does every option it shows;
    a complete one (no [optional] parts or placeholders) parses as a whole."""
    named: set[str] = set()
    checked = 0
    for path in markdown_files():
        for span in INLINE.findall(path.read_text("utf-8")):
            words = span.replace("\\|", "|").split()
            if len(words) < 2 or words[1].isupper():  # `archiver COMMAND --help`
                continue
            command = cli.commands.get(words[1])
            assert command is not None, f"{path.name}: `{span}`: archiver has no command {words[1]!r}"
            named.add(words[1])
            options = {o for p in command.params for o in (*p.opts, *p.secondary_opts) if o.startswith("--")}
            for option in re.findall(r"(?<![\w-])--[a-z][a-z-]*", span):
                assert option in options, f"{path.name}: `{span}`: archiver {words[1]} has no option {option}"
            if not re.search(r"[\[\]|…]|\.\.\.|\b[A-Z]{2,}\b", span) and "$" not in EXPRESSION.sub("", span):
                check_command_line(span)
                checked += 1
    assert len(named) >= 10 and checked >= 10, (named, checked)


def test_every_documented_command_answers_help() -> None:
    runner = CliRunner()
    text = "\n".join(p.read_text("utf-8") for p in markdown_files())
    named = {name for name in cli.commands if f"archiver {name}" in text}
    assert named == set(cli.commands), f"commands the docs never show: {set(cli.commands) - named}"
    for name in sorted(named):
        result = runner.invoke(cli, [name, "--help"])
        assert result.exit_code == 0, f"archiver {name} --help: {result.output}"


# --------------------------------------------------------------------------- examples


def test_every_yaml_example_loads() -> None:
    examples = blocks("yaml")
    assert len(examples) >= 4
    for where, text in examples:
        if text.startswith("---\n"):
            post = frontmatter.loads(text)  # a file with a frontmatter header: an event or a snapshot
            assert post.metadata, where
        else:
            assert yaml.safe_load(text) is not None, where


def test_the_event_example_is_an_event(tmp_path: Path) -> None:
    (text,) = [t for _, t in blocks("yaml") if "\nsources:\n" in t and t.startswith("---\n")]
    (tmp_path / "events").mkdir()
    (tmp_path / "events" / "example.md").write_text(text + "\nThe event's text.\n", "utf-8")
    result = load_events(tmp_path / "events", processes=1)
    assert [f for f in result.findings if f.severity.value == "error"] == []
    (event,) = result.events
    assert event.id == "2013-06-06--prism-program-revealed"
    assert len(event.sources) == 2 and event.sources[0].publisher == "The Guardian"
    assert event.sources[1].url.endswith(".pdf")


def test_the_snapshot_example_has_the_stored_header() -> None:
    (text,) = [t for _, t in blocks("yaml") if "format: archiver.snapshot/1" in t]
    header = frontmatter.loads(text).metadata
    assert header["format"] == "archiver.snapshot/1" and header["origin"] in ("live", "wayback")
    assert {"url", "final_url", "captured_at", "http_status", "body_sha256", "text_sha256"} <= set(header)


def test_the_registry_example_is_a_registry(tmp_path: Path) -> None:
    (text,) = [t for _, t in blocks("yaml") if t.startswith("version: 1\n")]
    path = tmp_path / "publishers.yaml"
    path.write_text(text, "utf-8")
    registry = load_registry(path)
    assert registry is not None


def test_the_workflow_excerpt_is_the_workflows_step() -> None:
    (text,) = [t for _, t in blocks("yaml") if "name: Run archiver" in t]
    (shown,) = yaml.safe_load(text)
    nightly = yaml.safe_load((PROJECT / ".github" / "workflows" / "nightly.yml").read_text("utf-8"))
    (step,) = [s for s in nightly["jobs"]["nightly"]["steps"] if s.get("name") == "Run archiver"]
    assert shown["run"] == step["run"] and shown["env"] == step["env"]


def test_every_toml_example_is_valid_settings(tmp_path: Path) -> None:
    examples = blocks("toml")
    assert examples
    for i, (where, text) in enumerate(examples):
        folder = tmp_path / str(i)
        folder.mkdir()
        (folder / "pyproject.toml").write_text(text, "utf-8")
        assert tomllib.loads(text), where
        settings = load_settings(env={}, cwd=folder)  # an unknown setting or a bad value raises
        for key in tomllib.loads(text)["tool"]["archiver"]:
            assert key in SETTINGS, f"{where}: {key} is not a setting"
        assert settings.per_host_gap == 2.0


# --------------------------------------------------------------------------- the build


@pytest.mark.subprocess
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        pytest.skip("mkdocs-material is not installed (pip install -e '.[docs]'; .ci/run builds the docs itself)")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                            cwd=PROJECT, capture_output=True, text=True, timeout=300,
                            env={"NO_MKDOCS_2_WARNING": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stdout + result.stderr
    configuration = (tmp_path / "site" / "configuration" / "index.html").read_text("utf-8")
    for name in SETTINGS:
        assert f"<code>{name}</code>" in configuration, f"{name} is not in the built configuration page"
    assert (tmp_path / "site" / "schema" / "report-v1.schema.json").is_file()
    assert (tmp_path / "site" / "img" / "report.png").is_file()
