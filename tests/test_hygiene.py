"""The suite's own rules (tests/support/hygiene.py), run on small sandboxed suites with pytester."""

from __future__ import annotations

import pytest

PLUGIN = ("-p", "tests.support.hygiene", "-p", "no:cacheprovider", "-p", "no:asyncio")

_SKIPPING = """
import pytest

@pytest.mark.browser
def test_browser():
    pytest.skip("chromium is not installed")

@pytest.mark.lint
@pytest.mark.skipif(True, reason="no shellcheck on PATH")
def test_lint():
    pass

def test_other():
    pytest.skip("jq is absent")
"""


def test_browser_and_lint_skips_fail_under_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(test_sandbox=_SKIPPING)
    result = pytester.runpytest(*PLUGIN, "-rA")
    result.assert_outcomes(failed=1, errors=1, skipped=1)  # the skipif one fails in setup: an error
    result.stdout.fnmatch_lines(["*test_browser*a browser test may not be skipped under CI=true*chromium*",
                                 "*test_lint*a lint test may not be skipped under CI=true*no shellcheck*"],
                                consecutive=False)


@pytest.mark.parametrize("ci", [None, "false", ""])
def test_they_skip_outside_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, ci: str | None) -> None:
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)
    pytester.makepyfile(test_sandbox=_SKIPPING)
    pytester.runpytest(*PLUGIN).assert_outcomes(skipped=3)


@pytest.mark.subprocess  # its sandbox starts processes in this one
def test_a_process_needs_the_subprocess_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sandbox="""
import subprocess, sys
import pytest

def test_unmarked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

@pytest.mark.subprocess
def test_marked():
    subprocess.run([sys.executable, "-c", "pass"], check=True)

def test_no_process():
    pass
""")
    result = pytester.runpytest(*PLUGIN)
    result.assert_outcomes(passed=3, errors=1)  # the unmarked one passes, then fails in teardown
    result.stdout.fnmatch_lines(["*test_unmarked started processes without @pytest.mark.subprocess*"])


def test_corpus_fixture_and_marker_go_together(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_sandbox="""
import pytest

@pytest.fixture
def corpus():
    return "corpus"

def test_fixture_only(corpus):
    pass

@pytest.mark.corpus
def test_marker_only():
    pass

@pytest.mark.corpus
def test_both(corpus):
    pass
""")
    result = pytester.runpytest(*PLUGIN)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*corpus fixture exactly when marked corpus*test_fixture_only*test_marker_only*"])
