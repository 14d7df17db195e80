"""What the other archives' knowledge of a link says to a maintainer: findings with the file, line and fix."""

from __future__ import annotations

from ..history.linkstate import LinkState
from ..models import FAILING_STATUSES, Finding, FindingKind, Link, Severity
from .copies import archive_name
from .registry import Archive


def archive_findings(link: Link, state: LinkState | None, archives: dict[str, Archive]) -> list[Finding]:
    """``archive_copy`` (info) for a failing link whose copy comes from another archive (no Wayback copy);
    ``archive_unavailable`` (warning) for a declared archive URL of another archive that does not replay."""
    if state is None or state.archives is None or not link.checkable:
        return []
    rec, out = state.archives, []
    wb_copy = state.wayback is not None and state.wayback.url
    for c in link.citations:
        prefix = f"source {c.source_index}: {link.url}"
        if state.status in FAILING_STATUSES and rec.url and not wb_copy:
            when = str(rec.timestamp or "")
            unverified = "" if rec.verified else " (not yet replayed and checked: it may be an error page)"
            out.append(Finding(kind=FindingKind.ARCHIVE_COPY, severity=Severity.INFO,
                               message=f"{prefix} is {state.status}; {archive_name(rec.archive, archives)} has a "
                                       f"copy from {when[:4]}-{when[4:6]}-{when[6:8]}: {rec.url}{unverified}",
                               file=c.file, line=c.line, event=c.event, source_index=c.source_index,
                               url=link.url, expected=rec.url, fix=f"archive_url: {rec.url}"))
        for url, verdict in sorted(rec.declared.items()) if c is link.citations[0] else ():
            if verdict in ("missing", "error", "mismatch"):
                why = {"missing": "was not found in the archive",
                       "error": "is a capture of an error page or a redirect, not of the cited page",
                       "mismatch": "is a capture of another page"}[verdict]
                out.append(Finding(kind=FindingKind.ARCHIVE_UNAVAILABLE, severity=Severity.WARNING,
                                   message=f"{prefix}: the declared archive_url {url} {why}",
                                   file=c.file, line=c.line, event=c.event, source_index=c.source_index,
                                   url=link.url, expected="a capture that replays the page", actual=url,
                                   fix=f"archive_url: {rec.url}" if rec.url and rec.verified
                                   else "remove archive_url or find another copy"))
    return out
