"""The run lock: ``snapshots/.archiver.lock`` keeps two runs off the same state.

The file holds the holder's pid and host name. A lock left by a process that no longer
exists on this machine is stale: it is taken over, and the temp files the killed run was
writing are removed so they are never committed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

from ..errors import LockError as LockError  # its home before archiver.errors
from ..support import atomic

LOCK_FILE = ".archiver.lock"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def run_lock(root: Path, *, err: TextIO | None = None,
             also_clean: Iterable[tuple[Path, Iterable[str]]] = ()) -> Iterator[Path]:
    """Hold ``<root>/.archiver.lock`` for the duration of a run.

    A lock left by a process that no longer exists on this machine is stale: it is
    taken over with a message, and the temp files that process was writing when it
    was killed are removed from ``root`` (all of it) and, for each ``(folder, names)``
    of ``also_clean`` (the report folder and its files), those of ``names`` at the
    folder's top level, so they are never committed. A live holder raises :class:`LockError`.
    """
    err = err or sys.stderr
    root.mkdir(parents=True, exist_ok=True)
    path = root / LOCK_FILE
    my_host = socket.gethostname()
    me = {"pid": os.getpid(), "host": my_host}
    stale = False
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = json.loads(path.read_text("utf-8"))
                pid, host = int(holder["pid"]), str(holder.get("host", ""))
            except (OSError, ValueError, KeyError, TypeError):
                pid, host = -1, my_host
            if host == my_host and (pid <= 0 or not _pid_alive(pid)):
                print(f"archiver: taking over a stale lock {path} (process {pid} is gone)", file=err)
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(path)
                stale = True
                continue
            raise LockError(f"another archiver run (process {pid} on {host or 'this machine'}) holds {path}; "
                            "wait for it to finish, or delete the file if that process is gone") from None
        with os.fdopen(fd, "w") as fh:
            json.dump(me, fh)
        break
    else:  # pragma: no cover - two stale take-overs raced
        raise LockError(f"could not take the lock {path}")
    if stale:
        removed = atomic.remove_leftovers(root)
        for folder, names in also_clean:
            removed += atomic.remove_leftovers(folder, recursive=False, targets=names)
        if removed:
            print(f"archiver: removed {len(removed)} unfinished temp file(s) the killed run left behind", file=err)
    try:
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
