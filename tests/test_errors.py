"""One exception tree (archiver/errors.py): every public error is an ``ArchiverError``, the builtin bases
callers relied on still hold, the old homes still import them, and the CLI turns them into exit codes in
one place (``pipeline.summary.ERROR_EXITS``)."""

from __future__ import annotations

import ast
import json
import os
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

import archiver
from archiver import errors
from archiver.cli import cli
from archiver.errors import (
    ArchiveError,
    ArchiverError,
    ConfigError,
    EditError,
    GitError,
    LockError,
    RegistryError,
    StoreError,
    UsageError,
)
from archiver.pipeline.summary import ERROR_EXITS, ExitCode, error_exit


def test_every_public_error_is_an_archiver_error() -> None:
    public = [getattr(archiver, name) for name in archiver.__all__]
    exceptions = [v for v in public if isinstance(v, type) and issubclass(v, BaseException)]
    assert {e.__name__ for e in exceptions} >= set(errors.__all__)
    for exc in exceptions:
        assert issubclass(exc, ArchiverError), exc
    assert all(getattr(archiver, name) is getattr(errors, name) for name in errors.__all__)


def test_the_stages_errors_are_in_the_tree() -> None:
    from archiver.liveness.errors import ConnectFailure, DNSFailure, FetchFailure, TLSFailure, UnsafeAddress
    from archiver.snapshots.wacz import NothingToPack
    from archiver.wayback.errors import AuthRejected, DeadlineReached, Excluded, RateLimited

    for exc in (RateLimited, Excluded, AuthRejected, DeadlineReached):
        assert issubclass(exc, ArchiveError) and issubclass(exc, ArchiverError)
    for exc in (FetchFailure, DNSFailure, UnsafeAddress, ConnectFailure, TLSFailure, NothingToPack):
        assert issubclass(exc, ArchiverError), exc
    assert ArchiveError("x", status=500, transient=True).status == 500


def test_the_builtin_bases_callers_rely_on_still_hold() -> None:
    from archiver.snapshots.wacz import NothingToPack

    for exc, base in ((ConfigError, ValueError), (RegistryError, ValueError), (EditError, ValueError),
                      (UsageError, ValueError), (NothingToPack, ValueError), (LockError, RuntimeError),
                      (StoreError, OSError)):
        assert issubclass(exc, base), (exc, base)
    with pytest.raises(ValueError, match="--shard"):
        from archiver.history.shards import Shard

        Shard.parse("5/2")


def test_each_error_is_still_importable_from_its_old_module() -> None:
    from archiver.audit.registry import RegistryError as old_registry
    from archiver.config import ConfigError as old_config
    from archiver.history.lock import LockError as old_lock
    from archiver.timeline.changes import GitError as old_git
    from archiver.timeline.edit import EditError as old_edit
    from archiver.wayback.errors import ArchiveError as old_archive

    assert (old_config, old_registry, old_edit, old_git, old_lock, old_archive) == (
        ConfigError, RegistryError, EditError, GitError, LockError, ArchiveError)


def test_errors_py_imports_nothing_from_the_package() -> None:
    tree = ast.parse(Path(errors.__file__).read_text("utf-8"))
    imported = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    imported += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert imported == ["__future__"]


def test_the_state_store_raises_a_store_error_naming_the_file(tmp_path: Path) -> None:
    from archiver.history.store import StateStore

    blocker = tmp_path / "snapshots"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(StoreError, match="cannot write") as info:
        StateStore(blocker).write_run({"complete": True})
    assert isinstance(info.value, OSError) and str(blocker) in str(info.value)


def test_the_mapping_is_one_table_ending_with_the_root() -> None:
    assert ERROR_EXITS[-1][0] is ArchiverError
    assert error_exit(ConfigError("setting 'concurrency': must be at least 1")) == (
        ExitCode.FAILED, "archiver: configuration error: setting 'concurrency': must be at least 1")
    assert error_exit(RegistryError("r.yaml: bad")) == (ExitCode.FAILED, "archiver: invalid publisher registry: "
                                                                         "r.yaml: bad")
    assert error_exit(LockError("another archiver run holds it")) == (
        ExitCode.FAILED, "archiver: another archiver run holds it")
    for exc in (GitError("no merge base"), ArchiveError("HTTP 503"), UsageError("--shard x"), StoreError("disk")):
        assert error_exit(exc) == (ExitCode.FAILED, f"archiver: {exc}")


# ------------------------------------------------------------------ the CLI, in process


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty project folder as the working directory, no ARCHIVER_* variables."""
    for name in [k for k in os.environ if k.startswith("ARCHIVER_")]:
        monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "events").mkdir()
    return tmp_path


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def test_a_config_error_is_exit_2_with_one_line_naming_the_setting(project: Path) -> None:
    code, err = invoke("validate", env={"ARCHIVER_CONCURRENCY": "many"})
    assert code == ExitCode.FAILED
    assert err.count("\n") == 1 and err.startswith("archiver: configuration error: ")
    assert "concurrency" in err and "ARCHIVER_CONCURRENCY" in err


def test_a_lock_error_is_exit_2_with_one_line(project: Path) -> None:
    snapshots = project / "snapshots"
    snapshots.mkdir()
    (snapshots / ".archiver.lock").write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname()}))
    code, err = invoke("check", "--quiet")
    assert code == ExitCode.FAILED
    assert err.count("\n") == 1 and err.startswith("archiver: another archiver run") and "holds" in err


def test_an_invalid_registry_is_exit_2_as_before(project: Path) -> None:
    (project / "registry.yaml").write_text("publishers: 3\n")
    code, err = invoke("audit", env={"ARCHIVER_REGISTRY": "registry.yaml"})
    assert code == ExitCode.FAILED and err.startswith("archiver: invalid publisher registry: ")


def test_a_bad_shard_is_exit_2_with_the_message_alone(project: Path) -> None:
    code, err = invoke("run", "--quiet", "--shard", "5/2")
    assert (code, err) == (ExitCode.FAILED, "archiver: --shard 5/2: K must be between 1 and N\n")
