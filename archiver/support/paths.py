"""Paths as shown to people: relative to the working directory when inside it."""

from __future__ import annotations

from pathlib import Path


def display_path(path: Path, cwd: Path | None = None) -> str:
    """``path`` relative to the working directory when inside it (posix), else absolute."""
    cwd = (cwd or Path.cwd()).resolve()
    full = path.resolve()
    try:
        return full.relative_to(cwd).as_posix()
    except ValueError:
        return full.as_posix()
