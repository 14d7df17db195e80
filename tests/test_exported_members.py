"""The public API: ``archiver.__all__`` is exactly what the package offers, and importing it is cheap
(as httpx's tests/test_exported_members.py, with lazy names)."""

from __future__ import annotations

import subprocess
import sys

import pytest

import archiver


def test_all_imports_are_exported() -> None:
    public = [name for name in dir(archiver) if not name.startswith("_") or name == "__version__"]
    # submodules imported by other tests are attributes of the package, not part of its API
    public = [name for name in public if not _is_module(name)]
    assert sorted(archiver.__all__) == sorted(public)
    assert len(set(archiver.__all__)) == len(archiver.__all__)


def _is_module(name: str) -> bool:
    return type(getattr(archiver, name)).__name__ == "module"


def test_all_is_the_lazy_table() -> None:
    assert set(archiver.__all__) == {"__version__", *archiver._LAZY}


def test_every_member_resolves_to_archivers_own_code() -> None:
    for name in archiver.__all__:
        value = getattr(archiver, name)
        assert value is not None, name
        if isinstance(value, type) or callable(value):
            assert value.__module__.startswith("archiver."), (name, value.__module__)


def test_the_lazy_names_are_the_real_objects() -> None:
    from archiver.pipeline.commands import run_pipeline
    from archiver.pipeline.summary import ExitCode
    from archiver.report.build import SCHEMA_ID

    assert archiver.run_pipeline is run_pipeline
    assert archiver.ExitCode is ExitCode and archiver.ExitCode.FAILED == 2
    assert archiver.REPORT_SCHEMA_ID == SCHEMA_ID == "archiver.report/1"


def test_the_errors_are_exported_from_their_tree() -> None:
    from archiver import errors

    assert {"ArchiverError", "ConfigError", "LockError", "ArchiveError"} <= set(archiver.__all__)
    for name in errors.__all__:
        assert name in archiver.__all__, name
        assert getattr(archiver, name) is getattr(errors, name)
        assert issubclass(getattr(archiver, name), archiver.ArchiverError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    try:
        archiver.no_such_name  # noqa: B018
    except AttributeError as exc:
        assert "no_such_name" in str(exc)
    else:
        raise AssertionError("archiver.no_such_name resolved")


_IMPORT_COST = """
import sys
import archiver, archiver.timeline, archiver.pipeline
settings = archiver.Settings
heavy = sorted(m for m in ("httpx", "trafilatura", "lxml", "click") if m in sys.modules)
print("HEAVY", heavy)
"""


@pytest.mark.subprocess
def test_importing_archiver_does_not_import_the_http_stack_or_the_extractors() -> None:
    done = subprocess.run([sys.executable, "-c", _IMPORT_COST], capture_output=True, text=True, timeout=60,
                          check=True)
    assert "HEAVY []" in done.stdout, done.stdout + done.stderr


def test_the_type_stub_declares_the_same_api() -> None:
    """archiver/__init__.pyi (what type checkers read) names every member of __all__, from the module
    the lazy table loads it from."""
    import ast
    from pathlib import Path

    stub = ast.parse((Path(archiver.__file__).with_suffix(".pyi")).read_text("utf-8"))
    declared: dict[str, str] = {}
    stub_all: list[str] = []
    for node in stub.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                declared[alias.asname or alias.name] = f"{node.module}:{alias.name}"
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            stub_all = list(ast.literal_eval(node.value))
    assert sorted(stub_all) == sorted(archiver.__all__)
    lazy = {name: f"{module}:{attribute}" for name, (module, attribute) in archiver._LAZY.items()}
    assert declared == lazy
