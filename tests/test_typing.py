"""The package type-checks: ``mypy`` with the project's configuration (``[tool.mypy]`` in pyproject.toml,
``strict = true``) reports no error in ``archiver/``.

This test is what decides (CI runs it with the rest of the suite through ``.ci/run``); running ``mypy``
by hand in the project root gives the same answer, since it reads the same configuration.
"""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mypy import api

PROJECT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT / "archiver"

_ERROR = re.compile(r"^(?P<path>[^:\n]+\.pyi?):\d+(?::\d+)?: error: ", re.M)


def _relative(path: str) -> str:
    p = Path(path)
    p = p if p.is_absolute() else PROJECT / p
    try:
        return p.resolve().relative_to(PROJECT).as_posix()
    except ValueError:
        return path


@contextmanager
def _interpreter_state_kept() -> Iterator[None]:
    """Undo what mypy's in-process run changes for the whole interpreter.

    ``mypy.main`` raises the recursion limit to 2**14 and ``mypy.build`` sets the garbage collector's
    thresholds to (200000, 30, 30) (and disables it while loading), and neither is restored: every
    later test in the session ran with them. A deep recursion that should end in RecursionError then
    succeeded (tests/timeline/test_events.py's deep nesting), and cyclic garbage such as an unclosed
    file was collected, and warned about, tests later than the one that left it.
    """
    limit, thresholds, enabled = sys.getrecursionlimit(), gc.get_threshold(), gc.isenabled()
    try:
        yield
    finally:
        sys.setrecursionlimit(limit)
        gc.set_threshold(*thresholds)
        if enabled:
            gc.enable()
        else:
            gc.disable()


def mypy_errors() -> list[tuple[str, str]]:
    """Every error mypy reports on the package: (file relative to the project, the error line)."""
    with _interpreter_state_kept():
        stdout, stderr, status = api.run([
            "--config-file", str(PROJECT / "pyproject.toml"),
            "--cache-dir", str(PROJECT / ".mypy_cache"),
            "--no-color-output", "--no-error-summary", "--show-absolute-path",
            str(PACKAGE),
        ])
    # 0: clean, 1: errors reported; anything else is mypy itself failing (bad config, crash)
    assert status in (0, 1), f"mypy did not run (exit {status}):\n{stderr}{stdout}"
    errors = [(_relative(m["path"]), line)
              for line in stdout.splitlines() if (m := _ERROR.match(line))]
    assert status == 0 or errors, f"mypy failed without reporting an error:\n{stderr}{stdout}"
    return errors


def test_the_package_type_checks_under_mypy_strict() -> None:
    unexpected = [line for _path, line in mypy_errors()]
    assert not unexpected, (f"mypy --strict reports {len(unexpected)} error(s):\n"
                            + "\n".join(unexpected))


def test_running_mypy_leaves_the_interpreter_as_it_found_it() -> None:
    """Values of our own (not the defaults, which an earlier leak may already have replaced) come back."""
    with _interpreter_state_kept():
        sys.setrecursionlimit(1234)
        gc.set_threshold(701, 11, 12)
        mypy_errors()
        assert (sys.getrecursionlimit(), gc.get_threshold(), gc.isenabled()) == (1234, (701, 11, 12), True)


_IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")


def test_every_type_ignore_names_its_codes_and_reason() -> None:
    """A ``# type: ignore`` in the package silences only the codes it names, and says why on the same line."""
    bare = []
    for path in sorted(PACKAGE.rglob("*.py*")):
        if path.suffix not in (".py", ".pyi"):
            continue
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            if (m := _IGNORE.search(line)) and (not m["codes"] or not m["rest"].strip().startswith("#")):
                bare.append(f"{path.relative_to(PROJECT)}:{number}: {line.strip()}")
    assert bare == []
