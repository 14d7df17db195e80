"""archiver's exceptions: one documented tree, as httpx's ``_exceptions.py`` draws its own.

``except ArchiverError`` catches every error archiver raises on purpose; the CLI maps the tree
to exit codes in one place (:data:`archiver.pipeline.summary.ERROR_EXITS`). Where callers
already relied on a builtin base, the class keeps it too (``except ValueError`` still catches a
:class:`ConfigError`)::

    ArchiverError                 any error archiver raises on purpose
    ├── ConfigError               a setting has a bad value (also a ValueError)
    ├── RegistryError             the publisher registry file is invalid (also a ValueError)
    ├── EditError                 an event file cannot be edited minimally (also a ValueError)
    ├── GitError                  git could not give a pull request's diff
    ├── LockError                 another live run holds the run lock (also a RuntimeError)
    ├── UsageError                a command-line value is malformed, e.g. --shard (also a ValueError)
    ├── StoreError                the state or snapshot store cannot be written (also an OSError)
    ├── ArchiveError              an archive call gave no usable answer (``status``, ``transient``)
    │   ├── RateLimited           HTTP 429                      (archiver.wayback.errors)
    │   ├── Excluded              the site is excluded          (archiver.wayback.errors)
    │   ├── AuthRejected          the keys were refused         (archiver.wayback.errors)
    │   └── DeadlineReached       the run's time budget is over (archiver.wayback.errors)
    ├── FetchFailure              a request without a usable answer (archiver.liveness.errors,
    │                             with its own subtree: DNSFailure, UnsafeAddress, ...)
    └── NothingToPack             no finished WARC file to pack (also a ValueError; snapshots.wacz)

Each class is also importable from the module that raised it before this tree existed
(``archiver.config.ConfigError``, ``archiver.history.lock.LockError``, ...). This module imports
nothing from the package: the stages import from it. Not in the tree, on purpose: the private
control-flow exceptions that never leave their module (``wayback.run.Stop``), and
``history.wayback_record.SaveError``, which is a stored record (Save Page Now's error code), not
an exception.
"""

from __future__ import annotations

__all__ = [
    "ArchiveError",
    "ArchiverError",
    "ConfigError",
    "EditError",
    "GitError",
    "LockError",
    "RegistryError",
    "StoreError",
    "UsageError",
]


class ArchiverError(Exception):
    """The root of every error archiver raises on purpose: ``except ArchiverError`` catches them all."""


class ConfigError(ArchiverError, ValueError):
    """A setting has a bad value; the message names the setting and its source."""


class RegistryError(ArchiverError, ValueError):
    """The registry file is invalid; the message names the file and the entry."""


class EditError(ArchiverError, ValueError):
    """The requested edit cannot be made minimally; the message says why."""


class GitError(ArchiverError):
    """git could not answer: not a repository, the base ref or the merge base missing from the clone."""


class LockError(ArchiverError, RuntimeError):
    """Another live run holds the lock."""


class UsageError(ArchiverError, ValueError):
    """A command-line value is malformed (``--shard K/N``); the message says which and why."""


class StoreError(ArchiverError, OSError):
    """The link state or snapshot store could not be written (an ``OSError`` too: disk full, no permission)."""


class ArchiveError(ArchiverError):
    """An archive call that gave no usable answer (the message never holds credentials)."""

    def __init__(self, message: str, *, status: int | None = None, transient: bool = True) -> None:
        super().__init__(message)
        self.status = status
        self.transient = transient
