"""Command-line interface: a thin layer over the library API.

The flags that set a setting are generated from the settings table (:func:`setting_options`); the
work is in :mod:`archiver.pipeline`.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from . import __version__
from .config import Settings, flag_name, flag_of, flag_type, help_text, load_settings
from .errors import ArchiverError
from .models import Finding
from .pipeline.summary import ExitCode, FailOn, error_exit
from .support import asyncrun
from .timeline.load import load_timeline

F = TypeVar("F", bound=Callable[..., Any])


def setting_option(name: str) -> Callable[[F], F]:
    """The flag of setting ``name``, all from the settings table (archiver/config.py): its name
    (``--per-host-gap``), type, metavar and help (the setting's doc and environment variable). Its
    default is None: a flag not given leaves the setting to the file, the environment or its default."""
    flag = flag_of(name)
    if flag is None:
        raise ValueError(f"setting {name!r} is not offered on the command line (give it flag= in archiver/config.py)")
    decl, kind = flag_name(name), flag_type(name)
    if kind is bool:
        return click.option(f"{decl}/--no-{decl[2:]}", name, default=None, help=help_text(name))
    return click.option(decl, name, type=click.Path(path_type=Path) if kind is Path else kind, default=None,
                        metavar=flag.metavar, help=help_text(name))


def setting_options(*names: str) -> Callable[[F], F]:
    """The flags of the settings ``names``, listed in that order in ``--help``."""

    def decorate(func: F) -> F:
        for name in reversed(names):
            func = setting_option(name)(func)
        return func

    return decorate


events_option = setting_option("events")
config_option = click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                             default=None, help="Settings file (default: ./archiver.toml or ./pyproject.toml).")


def settings_from(config_file: Path | None, **overrides: Any) -> Settings:
    """The settings of a command (a bad value raises ``ConfigError``: exit 2, see :class:`ArchiverGroup`)."""
    return load_settings(overrides=overrides, config_file=config_file)


class ArchiverGroup(click.Group):
    """The command group: the one place an :class:`~archiver.errors.ArchiverError` that stops a command
    becomes one line on standard error and its exit code (``pipeline.summary.ERROR_EXITS``)."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ArchiverError as exc:
            code, line = error_exit(exc)
            click.echo(line, err=True)
            sys.exit(code)


def format_finding(f: Finding) -> str:
    where = f.where() or "-"
    return f"{where}: {f.severity}: {f.kind}: {f.message}"


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
def cli() -> None:
    """Source archiving and link verification for evidence timelines."""


@cli.command()
@events_option
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
def validate(events: Path | None, config_file: Path | None, fmt: str) -> None:
    """Load every event and report problems in the timeline. Exit 1 on any error."""
    settings = settings_from(config_file, events=events)
    loaded, catalog = load_timeline(settings.timeline_options)
    findings = loaded.findings + catalog.findings
    errors = sum(1 for f in findings if f.severity == "error")
    by_severity = dict(sorted(Counter(f.severity for f in findings).items()))
    summary = {
        "files": loaded.files, "events": len(loaded.events), "citations": catalog.citations,
        "links": len(catalog.links), "checkable_links": len(catalog.checkable), "findings": by_severity,
    }
    if fmt == "json":
        click.echo(json.dumps({"summary": summary, "findings": [f.to_dict() for f in findings]}, indent=1))
    else:
        for f in sorted(findings, key=lambda f: (f.file or "", f.line or 0)):
            click.echo(format_finding(f))
        sev = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in by_severity.items()) or "no problems"
        click.echo(f"{loaded.files} files, {len(loaded.events)} events, {catalog.citations} citations, "
                   f"{len(catalog.links)} distinct links: {sev}")
    sys.exit(ExitCode.FINDINGS if errors else ExitCode.OK)


@cli.command()
@events_option
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
def links(events: Path | None, config_file: Path | None, fmt: str) -> None:
    """Print the link catalog: distinct links with their citations."""
    settings = settings_from(config_file, events=events)
    _, catalog = load_timeline(settings.timeline_options)
    if fmt == "json":
        click.echo(json.dumps([{
            "url": link.url, "normalized_url": link.normalized_url, "domain": link.domain,
            "invalid": link.invalid_reason, "archive_urls": link.archive_urls,
            "citations": [c.to_dict() for c in link.citations]} for link in catalog.links], indent=1))
    elif fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(["url", "normalized_url", "domain", "citations", "events", "invalid"])
        for link in catalog.links:
            writer.writerow([link.url, link.normalized_url, link.domain, len(link.citations),
                             " ".join(sorted({c.event for c in link.citations})), link.invalid_reason or ""])
        click.echo(buf.getvalue(), nl=False)
    else:
        for link in catalog.links:
            mark = "  (invalid)" if link.invalid_reason else ""
            click.echo(f"{link.url}\t{len(link.citations)} citation(s){mark}")
        click.echo(f"{len(catalog.links)} distinct links from {catalog.citations} citations", err=True)


#: the settings of the commands that fetch (check, run, pr, snapshot)
NETWORK_SETTINGS = ("snapshots", "report_dir", "allow_networks", "concurrency", "per_host_concurrency", "per_host_gap",
                    "connect_timeout", "read_timeout", "total_timeout", "max_body_bytes", "max_redirects", "attempts",
                    "backoff_base", "retry_after_cap", "user_agent", "contact_url", "soft404_probe", "max_links",
                    "time_budget")
_network_options = setting_options(*NETWORK_SETTINGS)


@cli.command()
@events_option
@config_option
@_network_options
@click.option("--shard", default=None, metavar="K/N",
              help="Check only shard K of N (links split by registrable domain); merge with 'archiver merge'.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def check(events: Path | None, config_file: Path | None, quiet: bool, shard: str | None, **overrides: Any) -> None:
    """Check the links that are due and write report.json. Exit 0 when the run completed,
    2 with one clear line when it could not (network offline, bad configuration, another run holds the lock)."""
    from .history.shards import Shard
    from .pipeline.commands import run_check

    settings = settings_from(config_file, events=events, **overrides)
    part = Shard.parse(shard) if shard else None
    sys.exit(run_check(settings, progress=not quiet, shard=part))


@cli.command("pr")
@click.option("--base", required=True, metavar="REF",
              help="The pull request's base (e.g. origin/main): the citations the diff BASE...HEAD adds or changes "
                   "are checked. The clone needs the merge base (actions/checkout with fetch-depth: 0).")
@events_option
@config_option
@_network_options
@setting_options("max_lookups", "max_saves")
@click.option("--format", "fmt", type=click.Choice(["github", "text", "junit"]), default="github",
              show_default=True, help="github: workflow annotations; text: file:line lines; junit: JUnit XML.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the --format output to this file instead of standard output.")
@click.option("--summary", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Append the Markdown job summary to this file (in a workflow: \"$GITHUB_STEP_SUMMARY\").")
def pr_command(base: str, config_file: Path | None, fmt: str, output: Path | None, summary: Path | None,
               **overrides: Any) -> None:
    """Check the citations a pull request adds or changes (the diff BASE...HEAD of the events folder):
    their links with the nightly rules, the citation audit, archived copies, and with IA_ACCESS_KEY and
    IA_SECRET_KEY a Save Page Now capture of each new live link. Exit 0 when no new link is dead, 1 when
    one is dead with definitive evidence, 2 with one clear line when it could not check (base ref or merge
    base missing from the clone, network offline, bad configuration)."""
    from .pipeline.pr import PrOutputs, run_pr

    overrides.pop("report_dir", None)
    settings = settings_from(config_file, **overrides)
    sys.exit(run_pr(settings, base, outputs=PrOutputs(fmt, output, summary)))


@cli.command()
@click.argument("shards", nargs=-1, required=True, type=click.Path(path_type=Path, file_okay=False, exists=True))
@events_option
@config_option
@setting_options("snapshots", "report_dir")
def merge(shards: tuple[Path, ...], events: Path | None, config_file: Path | None, snapshots: Path | None,
          report_dir: Path | None) -> None:
    """Merge the snapshots folders of shard runs (SHARDS...) into one, then write the reports."""
    from .pipeline.commands import merge_shards, regenerate_report

    settings = settings_from(config_file, events=events, snapshots=snapshots, report_dir=report_dir)
    counts = merge_shards(settings, list(shards))
    click.echo(f"merged {len(shards)} shard(s) into {settings.snapshots}: " + ", ".join(
        f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))
    sys.exit(regenerate_report(settings, record_findings=True))


@cli.command()
@events_option
@config_option
@setting_options("snapshots", "report_dir")
def report(events: Path | None, config_file: Path | None, snapshots: Path | None, report_dir: Path | None) -> None:
    """Write report.json, report.md and report.html again from the stored link state, without the network."""
    from .pipeline.commands import regenerate_report

    settings = settings_from(config_file, events=events, snapshots=snapshots, report_dir=report_dir)
    sys.exit(regenerate_report(settings))


@cli.command()
@events_option
@config_option
@setting_option("snapshots")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=Path("site"), show_default=True,
              help="Folder to write the static site into.")
def site(events: Path | None, config_file: Path | None, snapshots: Path | None, out: Path) -> None:
    """Build a static reading room for GitHub Pages from the stored state: an index of events, one page
    per event (sources, status, Wayback copy), one per archived text snapshot with its provenance."""
    from .pipeline.commands import build_reading_room

    settings = settings_from(config_file, events=events, snapshots=snapshots)
    result = build_reading_room(settings, out)
    click.echo(f"site: {result.pages} pages in {result.out} ({result.written} written, "
               f"{result.pages - result.written} unchanged, {result.removed} removed); open {result.out}/index.html")
    sys.exit(ExitCode.OK)


@cli.command("wayback")
@events_option
@config_option
@setting_options("snapshots", "report_dir", "max_lookups", "max_saves")
def wayback_command(config_file: Path | None, **overrides: Any) -> None:
    """Find, rescue and save Wayback Machine copies of the cited links, on the stored link state
    (the Wayback stage of the nightly run, alone), then write the reports again. Saving needs
    IA_ACCESS_KEY and IA_SECRET_KEY in the environment. Exit 0 when it ran, 2 when it could not."""
    from .pipeline.commands import run_wayback

    sys.exit(run_wayback(settings_from(config_file, **overrides)))


@cli.command("snapshot")
@click.argument("url")
@events_option
@config_option
@_network_options
def snapshot_command(url: str, events: Path | None, config_file: Path | None, **overrides: Any) -> None:
    """Capture URL now: fetch it through the checker (same safety rules and allowed networks) and
    store its text snapshot. Exit 0 when a good capture of the page is stored (now or before),
    1 when it could not be captured (dead, blocked, thin, not text), 2 on bad usage."""

    from .snapshots.stage import snapshot_url
    from .timeline.catalog import canonical_url, url_problem

    for unused in ("report_dir", "max_links", "time_budget"):
        overrides.pop(unused, None)
    settings = settings_from(config_file, events=events, **overrides)
    if problem := url_problem(url):
        click.echo(f"archiver: {problem}", err=True)
        sys.exit(ExitCode.FAILED)
    cited_by: list[str] = []
    archive_urls: list[str] = []
    if settings.events.is_dir():
        link = load_timeline(settings.timeline_options)[1].by_url().get(canonical_url(url))
        if link is not None:
            cited_by = [c.event for c in link.citations]
            archive_urls = list(link.archive_urls)
    one = asyncrun.run(snapshot_url(url, settings.snapshot_options, settings.check_options, cited_by=cited_by,
                                    archive_urls=archive_urls))
    result = one.result
    click.echo(f"{url}: {result.status} ({result.evidence or result.error or result.http_status})")
    if one.outcome is None:
        click.echo(f"archiver: not captured: the page is {result.status}; only a live page is snapshotted", err=True)
        sys.exit(ExitCode.FINDINGS)
    outcome = one.outcome
    click.echo(f"snapshot: {outcome.action.replace('_', ' ')}: {outcome.reason}")
    if outcome.written is not None:
        click.echo(f"wrote {outcome.written.path}")
    elif outcome.first is not None:
        click.echo(f"stored: {outcome.first.path}")
    if not outcome.stored:
        click.echo(f"archiver: not captured: {outcome.reason.removeprefix('not stored: ')}", err=True)
    sys.exit(ExitCode.OK if outcome.stored else ExitCode.FINDINGS)


@cli.command("show")
@click.argument("url")
@config_option
@setting_option("snapshots")
@click.option("--version", "which", default="first", show_default=True, metavar="first|latest|all|FILE",
              help="Which stored version: the first capture, the newest, all of them, or a file name.")
@click.option("--raw", is_flag=True, help="The raw HTTP response of its WARC record (local file or evidence store).")
def show_command(url: str, config_file: Path | None, snapshots: Path | None, which: str, raw: bool) -> None:
    """Print the stored text snapshot of URL with its provenance header (--raw: the raw HTTP response
    it was made from). Exit 1 when there is none."""
    from .snapshots.store import SnapshotStore
    from .timeline.catalog import canonical_url

    settings = settings_from(config_file, snapshots=snapshots)
    store = SnapshotStore(settings.snapshots)
    normalized = canonical_url(url)
    versions = store.versions(normalized)
    if not versions:
        click.echo(f"archiver: no snapshot of {url} in {settings.snapshots} "
                   f"(it would be in {store.folder(normalized)})", err=True)
        sys.exit(ExitCode.FINDINGS)
    if which == "first":
        chosen = versions[:1]
    elif which == "latest":
        chosen = versions[-1:]
    elif which == "all":
        chosen = versions
    else:
        chosen = [v for v in versions if v.path.name == which]
        if not chosen:
            click.echo(f"archiver: no version {which!r}; stored: {', '.join(v.path.name for v in versions)}",
                       err=True)
            sys.exit(ExitCode.FINDINGS)
    if raw:
        from .pipeline.evidence import show_raw

        sys.exit(show_raw(settings, [info.path for info in chosen]))
    for i, info in enumerate(chosen):
        if i:
            click.echo("")
        click.echo(f"# {info.path}")
        click.echo(info.path.read_text("utf-8"), nl=False)
    later = [v.path.name for v in versions if v not in chosen]
    if later:
        click.echo(f"archiver: {len(later)} other version(s): {', '.join(later)} (--version latest|all|FILE)",
                   err=True)
    sys.exit(ExitCode.OK)


@cli.command("push")
@config_option
@click.option("--wacz", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A packed night (archiver pack) to push too, under wacz/<name>; repeatable.")
def push_command(config_file: Path | None, wacz: tuple[Path, ...]) -> None:
    """Push the finished WARC files with their CDXJ indexes (and --wacz files) to the evidence store
    (ARCHIVER_EVIDENCE_STORE), with those left pending; keys are never overwritten, uploads are read
    back. Exit 0 when nothing is left pending, 2 when something is."""
    from .pipeline.evidence import run_push

    sys.exit(run_push(settings_from(config_file), list(wacz)))


@cli.command("audit")
@events_option
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--write", is_flag=True,
              help="Fill missing publisher and tier from the registry, editing only those lines.")
def audit_command(events: Path | None, config_file: Path | None, fmt: str, write: bool) -> None:
    """Audit citations: publisher and tier against the publisher registry, missing fields,
    archive URLs. Findings are advisory: exit 0 (2 when the registry file is invalid)."""
    from .pipeline.commands import audit_timeline, fill_from_registry

    settings = settings_from(config_file, events=events)
    if write:
        echo_edits(fill_from_registry(settings))
        sys.exit(ExitCode.OK)
    result = audit_timeline(settings)
    findings, counts = result.findings, result.counts
    if fmt == "json":
        summary = {"events": result.events, "citations": result.citations, "registry": result.registry,
                   "findings": counts}
        click.echo(json.dumps({"summary": summary, "findings": [f.to_dict() for f in findings]}, indent=1))
    else:
        for f in findings:
            click.echo(format_finding(f) + (f" (fix: {f.fix})" if f.fix else ""))
        for kind, n in counts.items():
            click.echo(f"{kind}: {n}")
        click.echo(f"{result.events} events, {result.citations} citations audited: "
                   f"{len(findings)} finding{'s' if len(findings) != 1 else ''}")
    sys.exit(ExitCode.OK)


def echo_edits(edits: list[Any]) -> None:
    """What a ``--write`` changed: one line per file, then totals."""
    changed = [e for e in edits if e.lines_changed]
    for edit in edits:
        if edit.lines_changed:
            click.echo(f"{edit.file}: {edit.lines_changed} line{'s' if edit.lines_changed != 1 else ''} "
                       f"changed ({edit.fields} field{'s' if edit.fields != 1 else ''} filled)")
        for reason in edit.skipped:
            click.echo(f"{edit.file}: skipped: {reason}")
    skipped = sum(len(e.skipped) for e in edits)
    click.echo(f"{len(changed)} file{'s' if len(changed) != 1 else ''} changed, "
               f"{sum(e.lines_changed for e in edits)} lines; {skipped} source{'s' if skipped != 1 else ''} skipped")


@cli.command("run")
@events_option
@config_option
@_network_options
@setting_options("max_saves", "max_lookups")
@click.option("--fail-on", type=click.Choice([m.value for m in FailOn]), default=FailOn.NEVER.value, show_default=True,
              help="Exit 1 when a link was newly confirmed dead this run (new-dead), any cited link is "
                   "confirmed dead (dead), or an event became lost this run (event-lost).")
@click.option("--shard", default=None, metavar="K/N", help="Run only shard K of N; merge with 'archiver merge'.")
@click.option("--quiet", is_flag=True, help="No progress lines.")
def run_command(events: Path | None, config_file: Path | None, fail_on: str, shard: str | None, quiet: bool,
                **overrides: Any) -> None:
    """The whole nightly pipeline: check what is due, text snapshots, Wayback lookups, rescues and
    saves, citation audit, reports. Exit 0 when it ran (also when it stopped at a budget), 1 when
    --fail-on triggers, 2 with one clear line when it could not run."""
    from .history.shards import Shard
    from .pipeline.commands import run_pipeline

    settings = settings_from(config_file, events=events, **overrides)
    part = Shard.parse(shard) if shard else None
    sys.exit(run_pipeline(settings, fail_on=fail_on, progress=not quiet, shard=part))


@cli.command()
@events_option
@config_option
@setting_option("snapshots")
@click.option("--write", is_flag=True, help="Edit the event files (otherwise only list what would change).")
@click.option("--relocations", is_flag=True, help="Instead: cite the verified new address of dead links (url), "
              "keeping the old one as original_url.")
def annotate(events: Path | None, config_file: Path | None, snapshots: Path | None, write: bool,
             relocations: bool) -> None:
    """Add archive_url and archive_date (the Wayback copy chosen for each link) to citations that lack one,
    editing only those lines; with --relocations, cite dead links' verified new address instead."""
    from .pipeline.commands import annotate_citations

    settings = settings_from(config_file, events=events, snapshots=snapshots)
    result = annotate_citations(settings, write=write, relocations=relocations)
    key, what = ("url", "a new url") if relocations else ("archive_url", "an archive_url")
    if result.edits is None:
        for path, items in sorted(result.plan.items()):
            for index, fields in items:
                click.echo(f"{result.display.get(path, path)}: source {index}: {key}: {fields[key]}")
        click.echo(f"{sum(len(v) for v in result.plan.values())} citation(s) in {len(result.plan)} file(s) would get "
                   f"{what}; run with --write to edit them")
        sys.exit(ExitCode.OK)
    echo_edits(result.edits)
    sys.exit(ExitCode.OK)


@cli.command("pack")
@config_option
@setting_options("snapshots", "warc_dir")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path("archiver.wacz"),
              show_default=True, help="The WACZ file to write.")
@click.option("--runs", multiple=True, metavar="STAMP",
              help="Only the WARC files whose name contains STAMP (a run time such as 20250101T020000Z, "
                   "a shard such as shard-2-of-4); repeatable. Default: every finished WARC file.")
@click.option("--from-store", is_flag=True, help="Pack the runs kept in the evidence store (evidence_store).")
@click.option("--since", metavar="STAMP", help="With --from-store: runs from this one (2025-01-31, 20250131T02).")
@click.option("--until", metavar="STAMP", help="With --from-store: runs up to this one (inclusive).")
def pack_command(config_file: Path | None, snapshots: Path | None, warc_dir: str | None, out: Path,
                 runs: tuple[str, ...], **store_range: Any) -> None:
    """Package the stored raw captures (WARC files) as one WACZ that ReplayWeb.page opens.
    Exit 0 when written, 2 when there is nothing to pack."""
    from .snapshots.wacz import pack, select_warcs

    settings = settings_from(config_file, snapshots=snapshots, warc_dir=warc_dir)
    if store_range.pop("from_store"):
        from .pipeline.evidence import pack_from_store

        sys.exit(pack_from_store(settings, out, runs, **store_range))
    folder = settings.warc_folder
    if folder is None:
        click.echo("archiver: warc_dir is off: no WARC files to pack", err=True)
        sys.exit(ExitCode.FAILED)
    warcs = select_warcs(folder, runs)
    if not warcs:
        which = f" matching {', '.join(runs)}" if runs else ""
        click.echo(f"archiver: no finished WARC files{which} in {folder}", err=True)
        sys.exit(ExitCode.FAILED)
    done = pack(warcs, out, now=settings.clock())
    click.echo(f"{done.path}: {done.pages} pages from {done.warcs} WARC file(s), {done.bytes} bytes")
    sys.exit(ExitCode.OK)


def main() -> None:
    cli(prog_name="archiver")


if __name__ == "__main__":
    main()
