"""Command-line interface: a thin layer over the library API."""

from __future__ import annotations

import csv
import io
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from . import __version__
from .config import ConfigError, Settings, load_settings
from .events import LoadResult, load_events
from .links import Catalog, build_catalog
from .models import Finding

EXIT_OK, EXIT_FINDINGS, EXIT_FAILED = 0, 1, 2

events_option = click.option("--events", "events", type=click.Path(path_type=Path), default=None,
                             help="Events folder (default: setting 'events', i.e. ./events).")
config_option = click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
                             default=None, help="Settings file (default: ./archiver.toml or ./pyproject.toml).")


def settings_from(config_file: Path | None, **overrides: Any) -> Settings:
    try:
        return load_settings(overrides=overrides, config_file=config_file)
    except ConfigError as exc:
        click.echo(f"archiver: configuration error: {exc}", err=True)
        sys.exit(EXIT_FAILED)


def load_timeline(settings: Settings) -> tuple[LoadResult, Catalog]:
    loaded = load_events(settings.events, max_file_bytes=settings.max_event_bytes)
    catalog = build_catalog(loaded.events)
    return loaded, catalog


def format_finding(f: Finding) -> str:
    where = f.where() or "-"
    return f"{where}: {f.severity}: {f.kind}: {f.message}"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
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
    loaded, catalog = load_timeline(settings)
    findings = loaded.findings + catalog.findings
    errors = sum(1 for f in findings if f.severity == "error")
    summary = {
        "files": loaded.files, "events": len(loaded.events), "citations": catalog.citations,
        "links": len(catalog.links), "checkable_links": len(catalog.checkable),
        "findings": dict(sorted(Counter(f.severity for f in findings).items())),
    }
    if fmt == "json":
        click.echo(json.dumps({"summary": summary, "findings": [f.to_dict() for f in findings]}, indent=1))
    else:
        for f in sorted(findings, key=lambda f: (f.file or "", f.line or 0)):
            click.echo(format_finding(f))
        sev = ", ".join(f"{n} {k}{'s' if n != 1 else ''}" for k, n in summary["findings"].items()) or "no problems"
        click.echo(f"{loaded.files} files, {len(loaded.events)} events, {catalog.citations} citations, "
                   f"{len(catalog.links)} distinct links: {sev}")
    sys.exit(EXIT_FINDINGS if errors else EXIT_OK)


@cli.command()
@events_option
@config_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "csv"]), default="text", show_default=True)
def links(events: Path | None, config_file: Path | None, fmt: str) -> None:
    """Print the link catalog: distinct links with their citations."""
    settings = settings_from(config_file, events=events)
    _, catalog = load_timeline(settings)
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


def main() -> None:
    cli(prog_name="archiver")


if __name__ == "__main__":
    main()
