"""report.md: the maintainers' report, sized for a GitHub issue body and the Actions job summary.

The first screen says what changed since the previous run (newly confirmed dead,
newly failing, recovered, moved, new citation findings), then the totals; a quiet
night is one line. Then dead and soft-404 links grouped by event (file:line, cited
URL, verdict and evidence, failing since, the archived copy to cite instead),
blocked and inconclusive links by domain, citation findings by kind with fixes.

The whole text stays under GitHub's issue-body limit (65,536 characters, measured in
UTF-16 code units as GitHub counts): sections are filled in priority order and
whatever does not fit is left out, with a footer saying what and where the full
report is. Event data is escaped so no title or URL can break the layout, ping
people, or inject HTML.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from ..models import (
    FAILING_STATUSES,
    LINK_STATUSES,
    STATUS_LABELS,
    STATUS_ORDER,
    UNCHECKED_STATUSES,
    Finding,
    LinkStatus,
)
from ..reportmodel import LinkEntry, Report, RunChange
from .evidence import STATE_LABELS, EventEvidence, counts_line, gets_text, losing_events
from .view import (
    CHANGE_LABELS,
    Cited,
    EventGroup,
    EventView,
    ReportView,
    archived_copy,
    day,
    minute,
    plural,
    safe_href,
    verdict,
)

#: GitHub's limit for an issue or comment body
GITHUB_LIMIT = 65_536
#: items listed per change kind on the first screen, per finding kind, and domains
CHANGES_SHOWN = 10
FINDINGS_SHOWN = 20
DOMAINS_SHOWN = 25
#: lost and newly weakened events written in full, still weakened events listed (the rest: "… and N more")
EVENTS_SHOWN = 100
LINK_TEXT_MAX = 90

_SPECIAL = re.compile(r"([\\`*_\[\]<>#|~&$])")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f\u2028\u2029]+")
_MENTION = re.compile(r"@(?=\w)")
_HREF_UNSAFE = re.compile(r"[\s<>()\[\]|\"'`\\^{}]")


def text_length(text: str) -> int:
    """Length as GitHub counts it (UTF-16 code units: an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


def md(text: Any) -> str:
    """Inline text, escaped: one line, no Markdown or HTML meaning, no @mentions."""
    flat = _SPACE.sub(" ", str(text if text is not None else "")).strip()
    return _MENTION.sub("@\u200b", _SPECIAL.sub(r"\\\1", flat))


def code(text: Any) -> str:
    """An inline code span that holds ``text`` whatever backticks it contains."""
    flat = _SPACE.sub(" ", str(text if text is not None else "")).strip()
    run = max((len(m) for m in re.findall(r"`+", flat)), default=0)
    fence = "`" * (run + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") or not flat else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def href(url: str) -> str:
    """A link destination: characters that would end or break it are percent-encoded."""
    return _HREF_UNSAFE.sub(lambda m: quote(m.group(0), safe=""), url)


def shorten(text: str, limit: int = LINK_TEXT_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def link(label: Any, url: Any) -> str:
    """``[label](url)`` for an http(s) URL; anything else is shown as text."""
    target = safe_href(url)
    if target is None:
        return f"{md(shorten(str(label)))} ({code(shorten(str(url)))}, not a web link)"
    return f"[{md(shorten(str(label)))}]({href(target)})"


def url_link(url: Any) -> str:
    return link(url, url)


# --------------------------------------------------------------------------- pieces


def totals_line(view: ReportView) -> str:
    counts = view.status_counts
    parts = []
    for status in LINK_STATUSES:
        n = counts.get(status, 0)
        if not n and status in UNCHECKED_STATUSES:
            continue
        label = f"{n:,} {STATUS_LABELS[status]}"
        if status in FAILING_STATUSES:
            confirmed = view.confirmed_with(status)
            label += f" ({confirmed:,} confirmed)"
        parts.append(label)
    return f"{plural(len(view.links), 'link')} ({plural(view.citations, 'citation')}): " + ", ".join(parts)


def run_line(view: ReportView) -> str:
    run = view.run
    started, finished = minute(run.started_at), minute(run.finished_at)
    span = f"{started}–{finished[11:]} UTC" if started and finished[:10] == started[:10] else (
        f"{started} – {finished} UTC" if finished else f"{started} UTC")
    state = "complete" if run.complete else "incomplete"
    budgets = run.budgets_hit
    if budgets:
        state += f" (stopped at the {' and '.join(map(str, budgets))} budget)"
    checked = f"checked {run.checked:,} of {run.due:,} due links"
    shard = f"; shard {run.shard}" if run.shard else ""
    return f"Run {span}, {state}, network {run.network}; {checked}{shard}."


def headline(view: ReportView) -> str:
    """The one line that says what kind of night it was."""
    if view.run.network == "offline":
        return ("**Network offline:** this run could not reach the web, so no link was judged; "
                "the states below are from earlier runs.")
    if view.quiet:
        counts = view.status_counts
        rest = ", ".join(f"{counts[s]:,} {STATUS_LABELS[s]}" for s in STATUS_ORDER
                         if s != LinkStatus.ALIVE and counts.get(s))
        extra = "" if view.findings_compared else " (first run: findings recorded as the baseline)"
        return (f"Quiet night: no link changed status and no new findings{extra}; {plural(len(view.links), 'link')}, "
                f"{counts[LinkStatus.ALIVE]:,} alive" + (f", {rest}" if rest else "") + ".")
    parts = [f"{len(items):,} {CHANGE_LABELS[kind].lower()}" for kind, items in view.changes.items()]
    if view.new_findings:
        parts.append(plural(len(view.new_findings), "new finding"))
    return "**Since the previous run:** " + ", ".join(parts) + "."


def change_item(view: ReportView, kind: str, change: RunChange, entry: LinkEntry | None) -> str:
    url = change.url
    if entry is None:
        return f"- {url_link(url)}: {md(change.status)}"
    cited = view.first_cited(entry)
    where = f"{code(cited.where)} " if cited else ""
    title = link(cited.title, url) if cited else url_link(url)
    more = len(entry.citations) - 1
    also = f" (and {plural(more, 'other citation')})" if more > 0 else ""
    if kind == "recovered":
        tail = f"alive again (was {md(STATUS_LABELS.get(str(change.previous), change.previous))})"
    elif kind == "moved":
        tail = f"moved to {url_link(entry.moved_to)}" if entry.moved_to else "moved"
    else:
        tail = f"**{md(entry.status.label)}**: {md(verdict(entry))}"
    return f"- {where}{title}{also}: {tail}"


def archived_text(entry: LinkEntry) -> str:
    copy = archived_copy(entry)
    if copy.kind == "copy":
        return f"{'Wayback' if copy.archive == 'Wayback Machine' else md(copy.archive)} copy: {url_link(copy.url)}"
    if copy.kind == "declared":
        return f"Archived copy (cited): {url_link(copy.url)}"
    return f"No archived copy known: [search the Wayback Machine]({href(copy.url)})"


def failing_item(cited: Cited) -> str:
    entry = cited.link
    status = entry.status.label
    state = "confirmed" if entry.confirmed else "not yet confirmed"
    evidence = md(verdict(entry))
    final = entry.final_url
    if final and final != entry.url:
        evidence += f", ends at {url_link(final)}"
    since = f"; failing since {day(entry.first_failed_at)}" if entry.first_failed_at else ""
    checks = entry.failures
    count = f" ({plural(checks, 'failed check')})" if checks else ""
    source = f" source {cited.citation.source_index}"
    return (f"- {code(cited.where)}{source}: {link(cited.title, entry.url)}: **{status}**, {state}: "
            f"{evidence}{since}{count}. {archived_text(entry)}")


def event_block(group: EventGroup) -> str:
    date = f" ({md(group.date)})" if group.date else ""
    lines = [f"#### {md(group.title)}{date}", "", *(failing_item(c) for c in group.items)]
    return "\n".join(lines)


def finding_item(f: Finding) -> str:
    file, line = f.file, f.line
    where = code(f"{file}:{line}" if file and line else file) + " " if file else ""
    fix = f" Fix: {code(f.fix)}" if f.fix else ""
    return f"- {where}{md(f.message)}{fix}"


def evidence_block(ev: EventEvidence) -> str:
    """A lost or weakened event: its health, each citation's state and what a reader gets, the fixes."""
    e = ev.event
    label = "Lost" if e.health == "lost" else ("Newly weakened" if ev.newly else "Weakened")
    was = f" (was {md(e.previous_health)})" if e.previous_health and e.previous_health != e.health else ""
    date = f" ({md(e.date)})" if e.date else ""
    lines = [f"#### {label}: {md(ev.title)}{date}", "", f"{code(e.file)}: **{md(e.health)}**{was}; "
             f"{e.sources.live} live, {e.sources.copy} archived, {e.sources.lost} lost, {e.sources.unknown} unknown."]
    for c in ev.cited:
        gets, fix_text = c.gets, c.fix
        got = gets_text(gets)
        if gets.kind == "archived copy":
            got += f" ({url_link(gets.where)})"
        elif gets.kind == "stored text":
            got += f" ({code(gets.where)})"
        fix = f" Fix: {code(fix_text)}" if fix_text else ""
        lines.append(f"- {code(c.where)} source {c.citation.source_index}: {url_link(c.link.url)}: "
                     f"**{md(STATE_LABELS[c.state])}**; a reader gets {got}.{fix}")
    return "\n".join(lines)


def evidence_sections(view: ReportView) -> list[Section]:
    """"Events losing their evidence", first in the report: lost, newly weakened, then still weakened (one line
    each); one line when no event lost or weakened its evidence; nothing for a report without events."""
    losing = losing_events(view.report, EVENTS_SHOWN)  # more never fit the issue body: not even written
    if losing is None:
        return []
    if losing.empty:
        return [Section(f"**Events losing their evidence:** none ({md(counts_line(losing))}).", [], 0, "event", "")]
    n_lost, n_newly, n_still = losing.totals
    shown = [*losing.lost, *losing.newly_weakened][:EVENTS_SHOWN]
    out = [Section(f"### Events losing their evidence ({n_lost:,} lost, {n_newly:,} newly weakened)",
                   [evidence_block(ev) for ev in shown], 0, "event", "lost and newly weakened events", minimum=10,
                   capped=n_lost + n_newly - len(shown), where_more="report.html and report.json",
                   intro=f"Events by health: {md(counts_line(losing))}. Lost: no source is readable; weakened: some "
                         "source is lost or unknown. Each citation with what a reader gets and the fix.")]
    if n_still:
        lines = [f"- {md(ev.title)} ({code(ev.event.file)}): " + "; ".join(
            f"{code(c.where)} {md(STATE_LABELS[c.state])}" for c in ev.cited if not c.state.readable)
            for ev in losing.still_weakened]
        out.append(Section(f"**Still weakened ({n_still:,})**", lines, 8, "event", "still weakened events",
                           minimum=5, capped=n_still - len(lines), where_more="report.html and report.json"))
    return out


# --------------------------------------------------------------------------- budgeted assembly


@dataclass(slots=True)
class Section:
    """A heading, then items that may be cut from the end to fit the size limit."""

    heading: str
    items: list[str]
    #: lower is kept first when the report is too long
    priority: int
    #: what one item is ("event", "domain", ...), for "… and N more"
    noun: str
    #: where the footer says items were cut ("events with confirmed dead links")
    name: str
    #: items kept before any lower-priority section gets more than its own minimum
    minimum: int = 10
    #: items already left out by a cap (beyond what ``items`` holds)
    capped: int = 0
    where_more: str = "report.json"
    intro: str = ""
    #: a table's header rows, written right above the items (a blank line between would end the table)
    head: str = ""
    kept: int = field(default=0)

    @property
    def total(self) -> int:
        return len(self.items) + self.capped

    def render(self) -> str:
        parts = [self.heading]
        if self.intro:
            parts.append(self.intro)
        shown = self.items[: self.kept]
        if shown:
            body = "\n\n".join(shown) if shown[0].startswith("####") else "\n".join(shown)
            parts.append(f"{self.head}\n{body}" if self.head else body)
        left = self.total - self.kept
        if left:
            parts.append(f"_… and {plural(left, self.noun)} more in {self.where_more}._")
        return "\n\n".join(parts)


def relocation_sections(view: ReportView) -> list[Section]:
    """Relocations: dead links whose article was found, verified, at a new address (ready-to-apply fixes)."""
    moved = [e for e in view.links if e.replacement is not None]
    if not moved:
        return []
    items = [f"- {url_link(e.url)} → {url_link(e.replacement.url)}: {md(e.replacement.evidence)}"
             for e in moved if e.replacement is not None]
    return [Section(f"### Relocations ({plural(len(items), 'link')})", items, 4, "link", "relocated links",
                    minimum=10, intro="Dead links whose article lives at a new address, verified (title, and a "
                                      "date, text, canonical link or archived redirect). Apply with "
                                      "`archiver annotate --write --relocations`.")]


def sections(view: ReportView) -> tuple[list[Section], list[Section]]:
    """(first-screen change sections, the sections after the totals), in display order."""
    changes: list[Section] = evidence_sections(view)
    for kind, items in view.changes.items():
        shown = [change_item(view, kind, c, e) for c, e in items[:CHANGES_SHOWN]]
        label = CHANGE_LABELS[kind].lower()
        changes.append(Section(f"**{CHANGE_LABELS[kind]} ({len(items):,})**", shown, 1 if kind != "moved" else 2,
                               "link", f"{label} links", minimum=CHANGES_SHOWN, capped=len(items) - len(shown),
                               where_more="the sections below and report.json"))
    if view.new_findings:
        found = view.new_findings
        shown = [finding_item(f) for f in found[:CHANGES_SHOWN]]
        changes.append(Section(f"**New findings ({len(found):,})**", shown, 3, "finding", "new findings",
                               minimum=CHANGES_SHOWN, capped=len(found) - len(shown),
                               where_more="the findings below and report.json"))

    rest: list[Section] = relocation_sections(view)
    confirmed = view.failing_groups(confirmed=True)
    if confirmed:
        n = sum(len(g.items) for g in confirmed)
        rest.append(Section(f"### Dead and soft-404 links to fix ({plural(n, 'citation')} in "
                            f"{plural(len(confirmed), 'event')})", [event_block(g) for g in confirmed], 4,
                            "event", "events with confirmed dead links", minimum=25,
                            intro="Confirmed: failed on several checks over several days. "
                                  "Cite the archived copy instead, or the page's new address."))
    domains = view.inconclusive_domains()
    if domains:
        n = sum(d.total for d in domains)
        rows = [f"| {md(d.domain)} | {d.counts[LinkStatus.BLOCKED]:,} | {d.counts[LinkStatus.ERROR]:,} | "
                f"{md(shorten(verdict(d.examples[0]), 80))} |" for d in domains[:DOMAINS_SHOWN]]
        rest.append(Section(f"### Blocked and inconclusive ({plural(n, 'link')} on {plural(len(domains), 'domain')})",
                            rows, 5, "domain", "domains of blocked and inconclusive links", minimum=10,
                            capped=len(domains) - len(rows),
                            intro="Not evidence that a page is gone: the site refused automated checks (blocked) "
                                  "or did not answer conclusively (error).",
                            head="| domain | blocked | error | e.g. |\n|---|---:|---:|---|"))
    unconfirmed = view.failing_groups(confirmed=False)
    if unconfirmed:
        n = sum(len(g.items) for g in unconfirmed)
        rest.append(Section(f"### Failing, not yet confirmed ({plural(n, 'citation')} in "
                            f"{plural(len(unconfirmed), 'event')})", [event_block(g) for g in unconfirmed], 6,
                            "event", "events with links not yet confirmed dead", minimum=10,
                            intro="One failure is not death: these are rechecked every run and confirmed "
                                  "only after repeated failures over several days."))
    groups = view.finding_groups()
    if groups:
        rest.append(Section(f"### Citation findings ({plural(sum(len(g.findings) for g in groups), 'finding')})",
                            [], 7, "finding", "", intro="Advisory: citations whose publisher, tier, title, date "
                                                        "or archive URL look wrong, with the line to paste."))
        for g in groups:
            shown = [finding_item(f) for f in g.findings[:FINDINGS_SHOWN]]
            rest.append(Section(f"#### {code(g.kind)} ({len(g.findings):,}, {md(g.severity)})", shown, 7,
                                "finding", f"{g.kind} findings", minimum=5, capped=len(g.findings) - len(shown)))
    return changes, rest


def run_details(view: ReportView) -> str:
    run = view.run
    lines = [f"- {md(note)}" for note in run.notes]
    stages = run.stage_seconds
    if stages:
        lines.append("- stage seconds: " + ", ".join(f"{md(k)} {float(v):.1f}" for k, v in stages.items()))
    return "\n".join(lines)


def full_report_location(report_dir: str) -> str:
    where = f"`report.html` (sortable table, events, charts) and `report.json` in {code(report_dir)}"
    server, repo, run_id = (os.environ.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run_id and (url := safe_href(f"{server}/{repo}/actions/runs/{run_id}")):
        where += f", uploaded as this run's artifact ({href(url)})"
    return where


def _allocate(ordered: list[Section], budget: int) -> None:
    """Keep items within ``budget``: first every section's minimum, then the rest, both by priority.

    Within a pass, a section stops at its first item that does not fit and lower
    sections get nothing more, so what is kept is always a prefix by priority.
    """
    for s in ordered:
        s.kept = 0
    for limit in (lambda s: min(s.minimum, len(s.items)), lambda s: len(s.items)):
        for s in ordered:
            stop = False
            while s.kept < limit(s):
                cost = text_length(s.items[s.kept]) + 2
                if cost > budget:
                    stop = True
                    break
                s.kept += 1
                budget -= cost
            if stop:
                break


def render_markdown(view: ReportView, *, report_dir: str = "reports", limit: int = GITHUB_LIMIT) -> str:
    """report.md, at most ``limit`` characters (UTF-16 code units) long."""
    day_ = day(view.run.started_at) or day(view.report.generated_at)
    head = f"## Link report {day_}\n\n{headline(view)}"
    changes, rest = sections(view)
    totals = f"**Totals:** {md(totals_line(view))}. {md(run_line(view))}"
    details = run_details(view)
    where = full_report_location(report_dir)
    ordered = sorted((*changes, *rest), key=lambda s: s.priority)

    def assemble() -> str:
        parts = [head]
        parts.extend(s.render() for s in changes)
        parts.append(totals)
        parts.extend(s.render() for s in rest)
        if details:
            parts.append("### Run notes\n\n" + details)
        footer = f"---\nFull report: {where}."
        cut = [s for s in ordered if s.kept < len(s.items)]
        if cut:
            footer += (" Left out to fit GitHub's 65,536-character limit: "
                       + "; ".join(f"{len(s.items) - s.kept:,} of {len(s.items):,} {s.name}" for s in cut) + ".")
        parts.append(footer)
        return "\n\n".join(parts) + "\n"

    for s in ordered:
        s.kept = len(s.items)
    text = assemble()
    if text_length(text) <= limit:
        return text
    # Too long: what is left after the fixed parts (with nothing kept), less room for the footer's list.
    for s in ordered:
        s.kept = 0
    reserve = 200 + sum(len(s.name) + 30 for s in ordered)
    _allocate(ordered, limit - text_length(assemble()) - reserve)
    text = assemble()
    while text_length(text) > limit:  # the estimate was short: drop the lowest-priority kept items
        victim = next((s for s in reversed(ordered) if s.kept), None)
        if victim is None:
            return _hard_cut(text, limit)
        victim.kept -= 1
        text = assemble()
    return text


def _hard_cut(text: str, limit: int) -> str:
    """Last resort (a pathological head, e.g. a huge run note): cut the text itself."""
    note = "\n\n_… cut to fit GitHub's limit; the full report is in report.json._\n"
    keep = limit - text_length(note)
    out = text[:keep]
    while text_length(out) > keep:
        out = out[: len(out) - (text_length(out) - keep)]
    return out + note


def markdown_report(report: Report, events: Mapping[str, EventView] | None = None, *,
                    report_dir: str = "reports", limit: int = GITHUB_LIMIT) -> str:
    return render_markdown(ReportView(report, events), report_dir=report_dir, limit=limit)
