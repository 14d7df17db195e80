"""What findings are new since the previous run: ``snapshots/findings.json``.

A finding's fingerprint names what it is about (kind, file, source index) and a short
hash of what the citation says (url, actual), never its line, its message wording or
what the registry or page expected, so editing another part of a file, rewording a
message, or a snapshot that adds the page's own site name does not make old findings
"new". Only warnings and errors are tracked: an ``info`` finding (an outlet missing
from the registry, a date hint) is never announced as new. The file is a sorted list
of fingerprints, one per line, written atomically and only when it changes: an
unchanged night changes no byte of it.

Link-status findings (``dead_link``, ``soft_404``, ``blocked``, ``moved``) are not
tracked here: the link history already reports those changes (``run.changes``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from ..models import Finding, FindingKind, Severity
from ..support import atomic

FINDINGS_FILE = "findings.json"
FORMAT = "archiver.findings/1"
#: reported through the link history (run.changes), not as new findings
LINK_KINDS: frozenset[FindingKind] = frozenset(
    {FindingKind.DEAD_LINK, FindingKind.SOFT_404, FindingKind.BLOCKED, FindingKind.MOVED})


def fingerprint(finding: Finding) -> str:
    """``kind file#index hash``: stable across line moves and message rewording."""
    what = json.dumps([finding.url, finding.actual], sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha1(what.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    index = finding.source_index
    where = f"{finding.file or '-'}#{index if index is not None else '-'}"
    return f"{finding.kind} {where} {digest}"


def tracked(finding: Finding) -> bool:
    return finding.kind not in LINK_KINDS and finding.severity != Severity.INFO


def fingerprints(findings: Iterable[Finding]) -> list[str]:
    return sorted({fingerprint(f) for f in findings if tracked(f)})


def render(prints: list[str]) -> str:
    return json.dumps({"format": FORMAT, "fingerprints": prints}, indent=1, ensure_ascii=False) + "\n"


def read(root: Path) -> list[str] | None:
    """The fingerprints recorded by the previous run (None when there are none, or unreadable)."""
    try:
        data = json.loads((root / FINDINGS_FILE).read_text("utf-8"))
        prints = data["fingerprints"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return [str(p) for p in prints] if isinstance(prints, list) else None


def record(root: Path, findings: Iterable[Finding]) -> list[str] | None:
    """Compare with the previous run's fingerprints, store the current ones, return the new ones.

    None when there was nothing to compare with (the first run sets the baseline).
    """
    current = fingerprints(findings)
    path = root / FINDINGS_FILE
    previous = read(root)
    text = render(current)
    try:
        unchanged = path.read_text("utf-8") == text
    except OSError:
        unchanged = False
    if not unchanged:
        atomic.write_text(path, text)
    if previous is None:
        return None
    old = set(previous)
    return [p for p in current if p not in old]
