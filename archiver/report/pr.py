"""What ``archiver pr`` shows the author of a pull request: workflow annotations on the changed lines,
the job summary (a Markdown table per new or changed citation), plain text lines, JUnit XML.

GitHub shows at most 10 error and 10 warning annotations of a step (and 10 notices); more are
dropped, so the annotations are ordered by severity, cut at those limits, and the summary says how
many more there were. Workflow-command escaping follows GitHub's toolkit (``toCommandValue``,
``escapeData``, ``escapeProperty``): ``%``, CR and LF in messages, also ``:`` and ``,`` in properties.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from ..models import Finding, Severity

#: what GitHub shows of one step's annotations, per level
ANNOTATION_LIMIT = 10
_LEVEL_ORDER = {"error": 0, "warning": 1, "notice": 2}
#: characters XML 1.0 cannot carry at all (escaping does not help): replaced
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(slots=True)
class PrItem:
    """One new or changed citation of the pull request and what the check found."""

    #: the file relative to the repository root, and the line of the citation's ``url:``
    file: str
    line: int | None
    event: str
    source_index: int
    url: str | None
    #: ``added`` (its URL is new to the event) or ``changed`` (the citation was edited)
    kind: str
    #: the verdict (alive, dead, ...), or "not checked"
    status: str
    evidence: str
    #: "error" fails the pull request (a definitive dead link); "warning" does not; None: nothing to say
    level: str | None = None
    #: the archived copy: a capture URL, or None
    archived: str | None = None
    #: how the archived copy is known, or why there is none ("declared", "found", "saved now", ...)
    archive_note: str = ""
    #: a capture made now by Save Page Now (the author can add it as ``archive_url``)
    saved: str | None = None
    findings: list[Finding] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class PrEvent:
    """An event the pull request adds, judged by its sources (issue 22): ``lost`` (nothing readable, a source
    dead or soft-404 with no archived copy found) fails the pull request; ``unknown`` (nothing readable, nothing
    known lost: blocked, errors, not checked) warns."""

    file: str
    #: the event's first source line
    line: int | None
    event: str
    health: str
    #: "error" (lost) or "warning" (unknown)
    level: str
    #: its sources by state: live, copy, lost, unknown
    sources: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Annotation:
    level: str
    file: str
    line: int | None
    title: str
    message: str


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def workflow_command(a: Annotation) -> str:
    """``::error file=...,line=...,title=...::message`` with GitHub's escaping."""
    props = [f"file={escape_property(a.file)}"]
    if a.line:
        props.append(f"line={a.line}")
    props.append(f"title={escape_property(a.title)}")
    return f"::{a.level} {','.join(props)}::{escape_data(a.message)}"


def link_title(item: PrItem) -> str:
    if item.level == "error":
        return "dead link"
    return f"link {item.status.replace('_', ' ')}" if item.status != "not checked" else "link not checked"


def link_message(item: PrItem) -> str:
    if item.level == "error":
        return (f"{item.url} is dead: {item.evidence}. A new citation's link must work: fix the URL, "
                "or cite an archived copy (archive_url) of the page")
    return f"{item.url}: {item.status}: {item.evidence} (a warning: it does not fail the pull request)"


def event_message(event: PrEvent) -> str:
    n = event.sources
    counts = ", ".join(f"{n.get(k, 0)} {k}" for k in ("live", "copy", "lost", "unknown"))
    if event.level == "error":
        return (f"the new event {event.event} has no readable source ({counts}): a reader cannot verify it. Cite a "
                "working source, or an archived copy (archive_url) of the page")
    return (f"the new event {event.event} has no source that could be read now ({counts}): the sites refused or "
            "did not answer (a warning: it does not fail the pull request)")


def pr_annotations(items: list[PrItem], events: list[PrEvent] | None = None) -> list[Annotation]:
    """Every annotation, most severe first, in file and line order within a level."""
    out: list[Annotation] = [Annotation(e.level, e.file, e.line, f"event {e.health}", event_message(e))
                             for e in events or ()]
    for item in items:
        if item.level:
            out.append(Annotation(item.level, item.file, item.line, link_title(item), link_message(item)))
        for f in item.findings:
            if f.severity in (Severity.ERROR, Severity.WARNING):
                message = f.message + (f" (fix: {f.fix})" if f.fix else "")
                out.append(Annotation("warning", item.file, item.line, f"citation audit: {f.kind}", message))
    out.sort(key=lambda a: (_LEVEL_ORDER[a.level], a.file, a.line or 0))
    return out


def shown(all_annotations: list[Annotation]) -> tuple[list[Annotation], int]:
    """The annotations GitHub will show (at most :data:`ANNOTATION_LIMIT` per level) and how many are left out."""
    kept: list[Annotation] = []
    per_level: dict[str, int] = {}
    for a in all_annotations:
        per_level[a.level] = per_level.get(a.level, 0) + 1
        if per_level[a.level] <= ANNOTATION_LIMIT:
            kept.append(a)
    return kept, len(all_annotations) - len(kept)


def text_lines(items: list[PrItem], events: list[PrEvent] | None = None) -> list[str]:
    """``file:line: level: title: message`` for each annotation (``--format text``)."""
    return [f"{a.file}:{a.line or 0}: {a.level}: {a.title}: {a.message}" for a in pr_annotations(items, events)]


def _cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")


def _archive_cell(item: PrItem) -> str:
    if item.saved:
        return f"saved now: {item.saved} (add `archive_url: {item.saved}`)"
    if item.archived:
        return f"{item.archive_note}: {item.archived}" if item.archive_note else item.archived
    return item.archive_note or "-"


def summary_markdown(items: list[PrItem], *, base: str, events: int, notes: list[str], left_out: int) -> str:
    """The job summary: the verdict in one line, then one table row per new or changed citation."""
    errors = sum(1 for i in items if i.level == "error")
    warnings = sum(1 for i in items if i.level == "warning")
    lines = [f"## archiver pr: {len(items)} new or changed citation{'s' if len(items) != 1 else ''} "
             f"in {events} event{'s' if events != 1 else ''} (against {base})", ""]
    if errors:
        lines.append(f"**{errors} dead link{'s' if errors != 1 else ''}: the check fails.** {warnings} warning(s).")
    else:
        lines.append(f"No dead link. {warnings} warning(s)." if items else "No citation was added or changed.")
    lines.extend(f"- {note}" for note in notes)
    if left_out:
        lines.append(f"- {left_out} more annotation(s) are not shown inline (GitHub shows "
                     f"{ANNOTATION_LIMIT} errors and {ANNOTATION_LIMIT} warnings per step): see the table.")
    if items:
        lines += ["", "| | citation | status | evidence | archived copy | audit findings |",
                  "|---|---|---|---|---|---|"]
        for item in items:
            mark = {"error": "❌", "warning": "⚠️"}.get(item.level or "", "✅")
            where = f"`{item.file}:{item.line or 0}`<br>{item.url or '(no url)'}"
            audit = "; ".join(f"{f.kind}: {f.message}" for f in item.findings) or "-"
            lines.append("| " + " | ".join(_cell(c) for c in (mark, where, item.status, item.evidence or "-",
                                                                _archive_cell(item), audit)) + " |")
    return "\n".join(lines) + "\n"


def _xml_text(text: str) -> str:
    return _XML_INVALID.sub("\ufffd", text)


def junit_xml(items: list[PrItem], *, base: str) -> str:
    """JUnit XML: one testcase per new or changed citation, a failure for each definitive dead link."""
    failures = sum(1 for i in items if i.level == "error")
    suite = ET.Element("testsuite", name=f"archiver pr against {_xml_text(base)}", tests=str(len(items)),
                       failures=str(failures), errors="0", skipped="0")
    for item in items:
        case = ET.SubElement(suite, "testcase", classname=_xml_text(item.file),
                             name=_xml_text(f"{item.event} source {item.source_index}: {item.url or '(no url)'}"),
                             file=_xml_text(item.file), line=str(item.line or 0))
        if item.level == "error":
            failure = ET.SubElement(case, "failure", message=_xml_text(link_message(item)), type="dead")
            failure.text = _xml_text(item.evidence)
        details = [f"status: {item.status}", f"evidence: {item.evidence}", f"archived copy: {_archive_cell(item)}"]
        details += [f"audit: {f.kind}: {f.message}" for f in item.findings]
        out = ET.SubElement(case, "system-out")
        out.text = _xml_text("\n".join(details))
    root = ET.Element("testsuites", tests=str(len(items)), failures=str(failures))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
