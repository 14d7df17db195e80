"""Atomic file writes: a killed process leaves either the old file or the new one."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterable
from pathlib import Path

_TEMP_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789_"


def open_temp(target: Path) -> tuple[int, str]:
    """A new, empty temp file beside ``target`` (its folder created if needed): ``(fd, path)``.

    Like ``tempfile.mkstemp`` (exclusive create, the same ``.<name>.XXXXXXXX.tmp`` names), but
    created with mode 0666 less the umask, so the renamed file gets the permissions of any other
    file the user creates (mkstemp's 0600 would survive the rename: readable by nobody else).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
    for _ in range(100):
        name = "".join(secrets.choice(_TEMP_CHARS) for _ in range(8))
        tmp = os.path.join(target.parent, f".{target.name}.{name}.tmp")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temp file name beside {target}")


def _temp_beside(target: Path, data: bytes, *, fsync: bool) -> str:
    """A temp file holding ``data`` in ``target``'s folder (created if needed); returns its path."""
    fd, tmp = open_temp(target)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return tmp


def write_bytes(path: str | os.PathLike[str], data: bytes, *, fsync: bool = True) -> None:
    """Write ``data`` to ``path`` via a temp file in the same folder, fsync, then rename.

    The rename is what makes a killed process leave either the old file or the new
    one; ``fsync=False`` skips the flush to disk (about 1 ms a file) for files written
    by the thousand in a run, where only a power cut, not a kill, could lose the newest.
    """
    target = Path(path)
    tmp = _temp_beside(target, data, fsync=fsync)
    try:
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: str | os.PathLike[str], text: str, *, fsync: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), fsync=fsync)


def create_bytes(path: str | os.PathLike[str], data: bytes) -> bool:
    """Write ``data`` to ``path`` only if no file is there: complete or absent, never replaced.

    The temp file is hard-linked into place, which fails when ``path`` exists, so of two
    writers racing for the same new file exactly one wins (False for the other). Where
    hard links are not supported, it renames the temp file into place if the path is
    still absent (a tiny race remains there).
    """
    target = Path(path)
    tmp = _temp_beside(target, data, fsync=True)
    try:
        try:
            os.link(tmp, target)
        except FileExistsError:
            return False
        except OSError:  # no hard links on this file system
            if target.exists():
                return False
            os.replace(tmp, target)
        return True
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


#: the names :func:`open_temp` gives (the prefix, 8 random characters, the suffix)
_TEMP_NAME = re.compile(r"^\.(?P<target>.+)\.[a-z0-9_]{8}\.tmp$")


def remove_leftovers(folder: str | os.PathLike[str], *, recursive: bool = True,
                     targets: Iterable[str] | None = None) -> list[str]:
    """Delete the temp files that writers killed mid-write left in ``folder``; their paths.

    ``targets``: only the temp files of these file names (``report.json`` ->
    ``.report.json.XXXXXXXX.tmp``), for a folder that may hold other people's files.
    Only call this while no writer can be at work there (under the run lock): a live
    writer's temp file looks the same. A leftover never holds anything a finished write
    did not also put in place, so nothing is lost.
    """
    wanted = None if targets is None else set(targets)
    removed: list[str] = []
    if recursive:
        walk = list(os.walk(folder))
    else:
        walk = [(os.fspath(folder), [], os.listdir(folder))] if os.path.isdir(folder) else []
    for dirpath, _dirs, files in walk:
        for name in files:
            found = _TEMP_NAME.match(name)
            if found and (wanted is None or found["target"] in wanted):
                path = os.path.join(dirpath, name)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                    removed.append(path)
    return removed
