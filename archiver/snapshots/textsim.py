"""Word 4-gram shingles: how much of one text another one keeps.

Used for content drift (a later capture against the first) and by the extraction
benchmark (extracted text against the known article). Text is compared as
lower-case words, without Markdown markup and punctuation; a CJK character counts
as one word (those scripts do not separate words with spaces).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

N = 4
#: blocks (paragraphs) shorter than this many words are left out of drift comparisons: bylines,
#: timestamps, share and ad labels, related-link headlines and footer lines that an extractor keeps
#: on one capture and drops on the next. Tables, lists and correction notes always count.
MIN_BLOCK_WORDS = 15
_NOTE = re.compile(r"^[\s*_>#-]*(?:correction|clarification|update|editor[’']?s note|retraction)s?[*_]*\s*[:—–]"
                   r"(?:\W*\w+){6}", re.I)
_TOKEN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff66-\uff9f]|[^\W_]+")


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def significant(text: str, min_words: int = MIN_BLOCK_WORDS) -> str:
    """The blocks of ``text`` that carry content: at least ``min_words`` words, or a table, a list,
    or a correction/update note."""
    keep = []
    for block in re.split(r"\n\s*\n", text):
        block = block.strip()
        if not block:
            continue
        if (len(tokens(block)) >= min_words or _NOTE.match(block) or block.startswith("|")
                or re.match(r"^\s*(?:[-*+]|\d+[.)])\s", block)):
            keep.append(block)
    return "\n\n".join(keep)


def shingle_list(words: list[str], n: int = N) -> list[tuple[str, ...]]:
    if not words:
        return []
    if len(words) < n:
        return [tuple(words)]
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def precision_recall(reference: str, candidate: str, n: int = N) -> tuple[float, float, float]:
    """Shingle precision, recall and F1 of ``candidate`` against ``reference`` (multisets, as in
    scrapinghub/article-extraction-benchmark)."""
    ref, cand = Counter(shingle_list(tokens(reference), n)), Counter(shingle_list(tokens(candidate), n))
    if not ref and not cand:
        return 1.0, 1.0, 1.0
    shared = sum((ref & cand).values())
    precision = shared / sum(cand.values()) if cand else 0.0
    recall = shared / sum(ref.values()) if ref else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


@dataclass(frozen=True, slots=True)
class Comparison:
    """How a new text compares with an old one."""

    #: Jaccard similarity of the two texts' shingle sets (1.0 = same words in the same order)
    similarity: float
    #: words of either text that no shared shingle covers: about the number of words added,
    #: removed or replaced (changing one word counts 2: the old one and the new one)
    changed_words: int
    old_words: int
    new_words: int
    #: correction, clarification, update or editor's notes in the new text but not in the old
    notes_added: int = 0

    def meaningful(self, min_similarity: float, min_changed_words: int) -> bool:
        """A real edit: the texts are less similar than ``min_similarity``, at least
        ``min_changed_words`` words changed (a sentence rewritten in a long article), or a
        correction or update note was added."""
        return (self.similarity < min_similarity or self.changed_words >= min_changed_words
                or self.notes_added > 0)


def _uncovered(words: list[str], shared: set[tuple[str, ...]], n: int) -> int:
    if not words:
        return 0
    if len(words) < n:
        return 0 if tuple(words) in shared else len(words)
    covered = [False] * len(words)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) in shared:
            for j in range(i, i + n):
                covered[j] = True
    return covered.count(False)


def _notes(text: str) -> set[tuple[str, ...]]:
    return {tuple(tokens(block)) for block in re.split(r"\n\s*\n", text) if _NOTE.match(block.strip())}


def compare(old: str, new: str, n: int = N) -> Comparison:
    """Compare the :func:`significant` blocks of two texts."""
    a, b = tokens(significant(old)), tokens(significant(new))
    notes_added = len(_notes(new) - _notes(old))
    sa, sb = set(shingle_list(a, n)), set(shingle_list(b, n))
    union = sa | sb
    shared = sa & sb
    similarity = len(shared) / len(union) if union else 1.0
    changed = _uncovered(a, shared, n) + _uncovered(b, shared, n)
    return Comparison(similarity=similarity, changed_words=changed, old_words=len(a), new_words=len(b),
                      notes_added=notes_added)
