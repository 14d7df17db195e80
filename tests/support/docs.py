"""The docs site's files, for the tests that read them (docs/, mkdocs.yml, the hooks)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

PROJECT = Path(__file__).resolve().parents[2]
DOCS = PROJECT / "docs"


def page(name: str) -> str:
    """docs/NAME.md's text."""
    return (DOCS / f"{name}.md").read_text("utf-8")


@cache
def config_reference() -> ModuleType:
    """The mkdocs hook that generates the configuration reference (docs/hooks/config_reference.py),
    imported from its file as mkdocs does: it needs no mkdocs to run."""
    path = DOCS / "hooks" / "config_reference.py"
    spec = importlib.util.spec_from_file_location("docs_hooks_config_reference", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
