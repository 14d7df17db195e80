"""One rule for "the same title", shared by the sitemap matching and the verification of a candidate page.

Titles are normalised (NFKD without accents, case folded, punctuation and spacing as single spaces) and match
when difflib's ratio is at least :data:`TITLE_SIMILARITY` and they differ by at most :data:`TITLE_MAX_EDIT`
characters: a typo or a changed quote mark, not a word like "Update:", so "Follow-up: <title>" or "<title>, one
year on" is another article. Never a substring test.
"""

from __future__ import annotations

import re
import unicodedata
from difflib import SequenceMatcher

#: the whole-title similarity (difflib's ratio on normalised titles) of a title match
TITLE_SIMILARITY = 0.9
#: characters a matching title may differ by (added and removed together): a typo, not a word like "Update:"
TITLE_MAX_EDIT = 4
#: normalised titles shorter than this never match by title ("Home", "News")
MIN_TITLE = 12

_NOT_WORD = re.compile(r"[\W_]+")


def normal_title(title: str | None) -> str:
    """A title compared: NFKD without accents, case folded, punctuation and spacing as single spaces."""
    if not title:
        return ""
    text = "".join(c for c in unicodedata.normalize("NFKD", title) if not unicodedata.combining(c))
    return _NOT_WORD.sub(" ", text.casefold()).strip()


def title_edit(a: str, b: str) -> tuple[float, int]:
    """difflib's ratio of ``a`` and ``b`` and the characters of both outside their matching blocks."""
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    same = sum(block.size for block in matcher.get_matching_blocks())
    return matcher.ratio(), len(a) + len(b) - 2 * same


def title_matches(cited: str, listed: str) -> bool:
    """Whether two normalised titles are the same title (see the module)."""
    if len(cited) < MIN_TITLE or len(listed) < MIN_TITLE:
        return False
    if cited == listed:
        return True
    ratio, edit = title_edit(cited, listed)
    return ratio >= TITLE_SIMILARITY and edit <= TITLE_MAX_EDIT
