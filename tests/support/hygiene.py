"""The suite's own rules, as a pytest plugin (tests/conftest.py loads it; tests/test_hygiene.py tests it).

- Under ``CI=true`` a test marked ``browser`` or ``lint`` that would be skipped fails instead: CI
  installs Chromium, ReplayWeb.page, actionlint and shellcheck (``.ci/run``), so a skip there means
  the check silently did not happen. Outside CI they skip as before.
- A test that starts a process (``subprocess``, ``asyncio.create_subprocess_*``, which use
  :class:`subprocess.Popen`) must be marked ``subprocess``, so ``-m "not subprocess"`` really
  leaves them out; one that starts a process unmarked fails.
- A test that uses the ``corpus`` fixture must be marked ``corpus`` and the other way round (the
  fixture is what skips it where ../shared/corpus is absent).
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Generator, Iterator
from typing import Any

import pytest

#: markers whose tests must run in CI: a skip there is a failure
REQUIRED_IN_CI = ("browser", "lint")


def in_ci() -> bool:
    """True under ``CI=true`` (GitHub Actions and most CI services set it)."""
    return os.environ.get("CI", "").strip().lower() in ("true", "1")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if not report.skipped or not in_ci() or hasattr(report, "wasxfail"):
        return
    required = [name for name in REQUIRED_IN_CI if item.get_closest_marker(name) is not None]
    if not required:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    report.outcome = "failed"
    report.longrepr = (f"{item.nodeid}: a {required[0]} test may not be skipped under CI=true "
                       f"(.ci/run installs what it needs): {reason}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    wrong = [item.nodeid for item in items
             if ("corpus" in getattr(item, "fixturenames", ())) != (item.get_closest_marker("corpus") is not None)]
    if wrong:
        raise pytest.UsageError("tests must use the corpus fixture exactly when marked corpus (the fixture skips "
                                "them without ../shared/corpus): " + ", ".join(wrong))


@pytest.fixture(autouse=True)
def _a_process_needs_the_subprocess_marker(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("subprocess") is not None:
        yield
        return
    started: list[str] = []
    real_init = subprocess.Popen.__init__

    def init(self: subprocess.Popen[Any], args: Any, *rest: Any, **kwargs: Any) -> None:
        started.append(str(args)[:200])
        real_init(self, args, *rest, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(subprocess.Popen, "__init__", init)
        yield
    if started:
        pytest.fail(f"{request.node.nodeid} started processes without @pytest.mark.subprocess: {started}",
                    pytrace=False)
