"""Which citations a pull request adds or changes: the diff ``BASE...HEAD`` of the events folder.

Merge-base semantics, as GitHub shows a pull request: the events added, modified or renamed
between the merge base of ``BASE`` and ``HEAD``, and in them the sources that are new or
edited (compared with the same file, followed through a rename, at the merge base). Deleted
events add nothing. The head versions are the loaded events (the working tree, which is ``HEAD``
in a CI checkout); the base versions are read with ``git show``. ``git`` runs as a subprocess.

The clone needs the merge base: ``actions/checkout`` with ``fetch-depth: 0`` (or the base branch
fetched deep enough); a missing ref or merge base is a :class:`GitError` that says what to fetch.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import GitError as GitError  # its home before archiver.errors
from ..models import Event, Finding, Source
from .catalog import canonical_url
from .load import _FileContext, parse_event_text

GIT_TIMEOUT = 60


@dataclass(frozen=True, slots=True)
class ChangedCitation:
    """One source of a changed event: ``added`` (its URL is new to the file) or ``changed`` (edited)."""

    event: str
    #: the file relative to the repository root (what GitHub annotations name), posix style
    file: str
    source_index: int
    #: the line of its ``url:`` in the head version of the file
    line: int | None
    url: str | None
    kind: str


@dataclass(slots=True)
class Changes:
    """The events a diff touches and the citations it adds or changes."""

    base: str
    merge_base: str
    #: changed event files (repository-relative) with their status: added, modified, renamed
    files: dict[str, str] = field(default_factory=dict)
    deleted: list[str] = field(default_factory=list)
    citations: list[ChangedCitation] = field(default_factory=list)


def git(cwd: Path, *args: str) -> str:
    """``git args`` in ``cwd``; its output, or :class:`GitError` with git's own message."""
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=GIT_TIMEOUT,
                              check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise GitError(f"git {args[0]} failed: {exc}") from None
    if done.returncode != 0:
        raise GitError((done.stderr.strip() or f"git {args[0]} exited with {done.returncode}").splitlines()[-1])
    return done.stdout


def merge_base(top: Path, base: str) -> str:
    """The merge base of ``base`` and HEAD, or a :class:`GitError` naming what to fetch."""
    try:
        git(top, "rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except GitError:
        raise GitError(f"the base ref {base!r} is not in this clone: fetch it first (git fetch origin <branch>), "
                       "or check out with actions/checkout's fetch-depth: 0") from None
    try:
        return git(top, "merge-base", base, "HEAD").strip()
    except GitError:
        raise GitError(f"{base} and HEAD have no merge base in this clone (a shallow clone?): fetch the history "
                       "(actions/checkout with fetch-depth: 0, or git fetch --unshallow)") from None


def diff_files(top: Path, base_commit: str, folder: str) -> tuple[dict[str, tuple[str, str | None]], list[str]]:
    """``{head path: (status, base path)}`` of the ``.md`` files added, modified or renamed under ``folder``
    between ``base_commit`` and HEAD, and the deleted ones."""
    raw = git(top, "diff", "-z", "--name-status", "-M", "--no-color", base_commit, "HEAD", "--", folder or ".")
    words = raw.split("\0")
    changed: dict[str, tuple[str, str | None]] = {}
    deleted: list[str] = []
    i = 0
    while i < len(words) and words[i]:
        code = words[i][0]
        if code in "RC":
            old, new = words[i + 1], words[i + 2]
            i += 3
        else:
            old = new = words[i + 1]
            i += 2
        if not new.endswith(".md"):
            continue
        if code == "D":
            deleted.append(new)
        elif code in "AC":
            changed[new] = ("added", None)
        elif code == "R":
            changed[new] = ("renamed", old)
        else:  # M, T
            changed[new] = ("modified", old)
    return changed, deleted


def signature(source: Source) -> tuple[Any, ...]:
    """What a citation says: equal signatures are the same citation (its line may have moved)."""
    return (source.url, source.title, source.publisher, source.publisher_key, source.date, source.tier,
            source.archive_url, repr(sorted(source.extra.items(), key=lambda kv: str(kv[0]))))


def url_line(lines: list[str], source: Source, next_line: int | None) -> int | None:
    """The line of the source's ``url:`` key (its first line when the key is not found)."""
    if source.line is None:
        return None
    end = min(next_line or len(lines) + 1, len(lines) + 1)
    for number in range(source.line, end):
        text = lines[number - 1].strip().removeprefix("- ").strip()
        if text.startswith("url:"):
            return number
    return source.line


def base_event(top: Path, base_commit: str, path: str) -> Event | None:
    """The event as it was at the merge base (None when it cannot be read or parsed)."""
    try:
        text = git(top, "show", f"{base_commit}:{path}")
    except GitError:
        return None
    findings: list[Finding] = []
    return parse_event_text(text.replace("\r\n", "\n"), path, _FileContext(path, findings), Path(path).stem)


def changed_citations(events_dir: Path, base: str, events: list[Event]) -> Changes:
    """The citations that ``base...HEAD`` adds or changes in the loaded ``events`` (of ``events_dir``)."""
    folder = events_dir.resolve()
    if not folder.is_dir():
        raise GitError(f"events folder {events_dir} does not exist")
    top = Path(git(folder, "rev-parse", "--show-toplevel").strip()).resolve()
    commit = merge_base(top, base)
    changed, deleted = diff_files(top, commit, folder.relative_to(top).as_posix())
    result = Changes(base=base, merge_base=commit, files={p: s for p, (s, _) in changed.items()}, deleted=deleted)
    for event in events:
        rel = Path(event.path).resolve().relative_to(top).as_posix() if event.path else event.file
        if rel not in changed:
            continue
        old_path = changed[rel][1]
        old = base_event(top, commit, old_path) if old_path else None
        before = {signature(s) for s in old.sources} if old else set()
        old_urls = {canonical_url(s.url) for s in old.sources if s.url} if old else set()
        lines = Path(event.path).read_text("utf-8", errors="replace").splitlines() if event.path else []
        starts = [s.line for s in event.sources]
        for n, source in enumerate(event.sources):
            if signature(source) in before:
                continue
            nxt = next((x for x in starts[n + 1:] if x is not None), None)
            kind = "changed" if source.url and canonical_url(source.url) in old_urls else "added"
            result.citations.append(ChangedCitation(event=event.id, file=rel, source_index=source.index,
                                                    line=url_line(lines, source, nxt), url=source.url, kind=kind))
    result.citations.sort(key=lambda c: (c.file, c.line or 0, c.source_index))
    return result
