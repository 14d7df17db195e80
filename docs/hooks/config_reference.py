"""mkdocs hook: the configuration reference, generated from the settings' own declaration.

``archiver/config.py`` declares every setting once (type, default, environment variable, flag, stage and
a one-line description in the field's metadata). This hook puts the reference built from
those declarations where ``docs/configuration.md`` says ``<!-- settings-reference -->``, so
the page can never disagree with the code and no description is written twice.
``tests/test_docs.py`` checks that every setting is in the generated page.
"""

from __future__ import annotations

from typing import Any

from archiver.config import settings_groups, settings_table

MARKER = "<!-- settings-reference -->"
PAGE = "configuration.md"


def reference_markdown() -> str:
    """The reference: one table per group of settings, in declaration order."""
    parts = []
    for title, names in settings_groups():
        if title:
            parts.append(f"### {title}\n")
        parts.append(settings_table(names) + "\n")
    return "\n".join(parts)


def render(markdown: str) -> str:
    """``markdown`` with the marker replaced by the reference."""
    if MARKER not in markdown:
        raise ValueError(f"{PAGE} has no {MARKER} marker for the generated configuration reference")
    return markdown.replace(MARKER, reference_markdown())


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if page.file.src_uri == PAGE:
        return render(markdown)
    return markdown
