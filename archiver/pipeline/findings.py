"""What a link's stored state says to a maintainer: dead, soft-404, blocked and moved findings."""

from __future__ import annotations

from typing import Any

from ..history.linkstate import LinkState
from ..models import Finding, FindingKind, Link, LinkStatus, Severity


def link_findings(link: Link, state: LinkState | None) -> list[Finding]:
    """``dead_link``, ``soft_404``, ``blocked`` and ``moved`` findings, one per citation."""
    if state is None or not link.checkable:
        return []
    out: list[Finding] = []
    since = f", failing since {state.first_failed[:10]}" if state.first_failed else ""
    confirmed = (f"confirmed after {state.failures} checks{since}" if state.confirmed
                 else f"not yet confirmed ({state.failures} failed check{'s' if state.failures != 1 else ''}{since})")
    for c in link.citations:
        where: dict[str, Any] = {"file": c.file, "line": c.line, "event": c.event, "source_index": c.source_index,
                                 "url": link.url}
        prefix = f"source {c.source_index}: {link.url}"
        archived = link.archive_urls[0] if link.archive_urls else None
        fix = (f"cite the archived copy {archived}" if archived
               else "find the page's new address, or cite an archived copy (web.archive.org)")
        if state.status == LinkStatus.DEAD:
            out.append(Finding(
                kind=FindingKind.DEAD_LINK, severity=Severity.ERROR if state.confirmed else Severity.WARNING,
                message=f"{prefix} is dead: {state.evidence or state.error}; {confirmed}",
                actual=state.http_status if state.http_status is not None else state.error, fix=fix, **where))
        elif state.status == LinkStatus.SOFT_404:
            out.append(Finding(
                kind=FindingKind.SOFT_404, severity=Severity.ERROR if state.confirmed else Severity.WARNING,
                message=f"{prefix} no longer shows the cited page: {state.evidence}; {confirmed}",
                actual=state.final_url or link.url, fix=fix, **where))
        elif state.status == LinkStatus.BLOCKED:
            out.append(Finding(
                kind=FindingKind.BLOCKED, severity=Severity.INFO,
                message=f"{prefix} could not be verified, the site blocks automated checks ({state.evidence}); "
                        "this is not evidence that the page is gone", **where))
        if state.moved_to and state.status == LinkStatus.ALIVE:
            out.append(Finding(
                kind=FindingKind.MOVED, severity=Severity.INFO,
                message=f"{prefix} permanently redirects to {state.moved_to}",
                expected=state.moved_to, actual=link.url, fix=f"replace the url with {state.moved_to}", **where))
        rep = state.replacement
        if rep is not None and rep.active and state.failing:
            out.append(Finding(
                kind=FindingKind.RELOCATED, severity=Severity.WARNING,
                message=f"{prefix} has moved to {rep.url}: {rep.evidence}", expected=rep.url, actual=link.url,
                fix=f"replace url with {rep.url} (archiver annotate --write --relocations)", **where))
    return out
