"""Settings: defaults, then ``archiver.toml`` or ``[tool.archiver]`` in pyproject.toml,
then ``ARCHIVER_*`` environment variables, then command-line flags (last wins).

Every setting is declared once below with its type, default, environment
variable and a one-line description (the field's metadata); the docs'
configuration reference (docs/configuration.md) is generated from these
declarations when the docs are built (docs/hooks/config_reference.py). A bad
value raises :class:`ConfigError` naming the setting and where it came from.
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import options
from .errors import ConfigError as ConfigError  # its home before archiver.errors
from .options import BROWSER_USER_AGENT as BROWSER_USER_AGENT
from .options import DEFAULT_USER_AGENT as DEFAULT_USER_AGENT
from .support.convert import TYPES as _TYPES
from .support.convert import Nullable as _Nullable
from .support.convert import bool_ as _bool
from .support.convert import fraction as _fraction
from .support.convert import names as _names
from .support.convert import networks as _networks
from .support.convert import non_negative_float as _non_negative_float
from .support.convert import now as _now
from .support.convert import optional as _optional
from .support.convert import path as _path
from .support.convert import positive_float as _positive_float
from .support.convert import positive_int as _positive_int
from .support.convert import store_url as _store_url
from .support.convert import str_ as _str


@dataclass(frozen=True)
class Flag:
    """How a setting is offered on the command line: ``--name-with-dashes``, of the setting's own type
    (from its converter: a whole number, a number, a path, an on/off switch) unless ``type`` says
    otherwise (``str``: the setting's converter reads the text), with ``metavar`` in the help."""

    type: type | None = None
    metavar: str | None = None


#: a command-line flag of the setting's own type
FLAG = Flag()

#: the stages a setting can belong to (``stage=`` below), in the order of the night; "run": the pipeline's
#: own (budgets, the clock); "store": the folders of the stored state
STAGES = ("run", "store", "timeline", "history", "checking", "snapshots", "wayback", "archives", "relocate", "audit",
          "report")

def _setting(default: Any, conv: Callable[[Any], Any], doc: str, *, stage: str, flag: Flag | None = None) -> Any:
    """One setting's declaration: default, converter, one-line doc, the stage it belongs to and, when a
    command offers it, its flag. Its environment variable is ``ARCHIVER_<NAME>``."""
    assert stage in STAGES, stage
    meta = {"conv": conv, "doc": doc, "stage": stage, "flag": flag}
    if isinstance(default, (list, dict, tuple)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)




@dataclass(frozen=True)
class Settings:
    # --- where things are
    events: Path = _setting(Path("events"), _path, "Folder of event Markdown files (searched recursively).",
        stage="timeline", flag=FLAG)
    snapshots: Path = _setting(Path("snapshots"), _path, "Folder for link state and text snapshots (committed).",
        stage="store", flag=FLAG)
    report_dir: Path = _setting(Path("reports"), _path, "Folder the reports are written to.", stage="report", flag=FLAG)
    warc_dir: Path | None = _setting(
        Path("warcs"), _optional(_path), "Folder for the raw captures: one gzipped WARC file per run (per shard) "
        "with its CDXJ index, packed by `archiver pack`; not committed. A relative path is taken from the folder "
        "holding `snapshots`. \"\" or \"off\": no WARC records.", stage="store", flag=Flag(type=str))
    max_event_bytes: int = _setting(5 * 1024 * 1024, _positive_int, "Event files larger than this are skipped.",
        stage="timeline")
    parse_processes: int = _setting(
        2, _positive_int, "Processes that parse the event files: 2 forks a helper for timelines of 400+ files "
        "(Linux, 2+ CPUs); 1 parses in the main process only. Same result either way.", stage="timeline")
    # --- network safety and politeness
    allow_networks: tuple[str, ...] = _setting(
        (), _networks,
        "Comma-separated CIDRs that may be fetched although private/loopback (e.g. 127.0.0.0/8). Empty: none.",
        stage="checking", flag=Flag(metavar="CIDRS"))
    concurrency: int = _setting(32, _positive_int, "Requests in flight across all hosts.", stage="checking", flag=FLAG)
    per_host_concurrency: int = _setting(2, _positive_int, "Requests in flight to one host.",
        stage="checking", flag=FLAG)
    per_host_gap: float = _setting(0.25, _non_negative_float, "Seconds between request starts to one host.",
        stage="checking", flag=FLAG)
    max_per_host_gap: float = _setting(
        30.0, _non_negative_float,
        "Longest gap (seconds) a host's 429 answers can grow its per-host gap to, for the rest of the run.",
        stage="checking")
    connect_timeout: float = _setting(10.0, _positive_float, "Seconds to connect (DNS, TCP, TLS).",
        stage="checking", flag=FLAG)
    read_timeout: float = _setting(20.0, _positive_float, "Seconds of silence allowed while reading.",
        stage="checking", flag=FLAG)
    total_timeout: float = _setting(45.0, _positive_float,
                                    "Seconds for a whole request, body included (stops trickling servers).",
        stage="checking", flag=FLAG)
    max_body_bytes: int = _setting(2 * 1024 * 1024, _positive_int,
                                   "Decoded bytes read from a page; the rest is not downloaded.",
        stage="checking", flag=FLAG)
    max_redirects: int = _setting(10, _positive_int, "Redirects followed before giving up.",
        stage="checking", flag=FLAG)
    attempts: int = _setting(3, _positive_int, "Tries for transient failures (timeouts, 429, 5xx).",
        stage="checking", flag=FLAG)
    retry_after_cap: float = _setting(60.0, _non_negative_float, "Longest Retry-After honoured, in seconds.",
        stage="checking", flag=FLAG)
    backoff_base: float = _setting(1.0, _non_negative_float, "First retry wait in seconds (doubles, with jitter).",
        stage="checking", flag=FLAG)
    contact_url: str = _setting("https://github.com/archiver-project/archiver", _str,
                                "Contact URL put in the User-Agent.", stage="checking", flag=FLAG)
    user_agent: str | None = _setting(None, _optional(_str), "Full User-Agent (default names the tool and contact).",
        stage="checking", flag=FLAG)
    browser_user_agent: str | None = _setting(
        BROWSER_USER_AGENT, _optional(_str),
        "User-Agent of the one home-page request per host that tells a bot defence (404 to the checker on every "
        "path, home page included) from a site that is gone. Empty: off (such links are then never dead).",
        stage="checking")
    soft404_probe: bool = _setting(True, _bool,
                                   "Fetch one random, non-existent path per host to recognise soft 404 pages.",
        stage="checking", flag=FLAG)
    soft404_similarity: float = _setting(0.9, _fraction,
                                         "Text similarity to the random-path page above which a page is a soft 404.",
        stage="checking")
    offline_fraction: float = _setting(0.6, _fraction,
                                       "Share of hosts failing to connect (DNS, refused, unreachable) that means "
                                       "the network is offline.", stage="checking")
    degraded_fraction: float = _setting(0.3, _fraction,
                                        "Share of hosts failing to connect that means the network is degraded.",
        stage="checking")
    network_min_hosts: int = _setting(5, _positive_int,
                                      "Fewer hosts than this: the network is offline only if every host fails.",
        stage="checking")
    network_sample_hosts: int = _setting(20, _positive_int,
                                         "Hosts checked first to decide early that the network is offline.",
        stage="checking")
    # --- history and scheduling
    confirm_checks: int = _setting(3, _positive_int, "Failed checks needed before a dead link is confirmed.",
        stage="history")
    confirm_days: float = _setting(3.0, _non_negative_float, "Days the failed checks must span to confirm.",
        stage="history")
    failing_recheck_hours: float = _setting(
        20.0, _non_negative_float, "Failing and inconclusive (error) links are checked again only after this many "
        "hours, so a same-night rerun skips them; 0 checks them on every run.", stage="history")
    recheck_days: float = _setting(7.0, _positive_float, "Alive links are checked again after this many days.",
        stage="history")
    dead_recheck_days: float = _setting(7.0, _positive_float, "Confirmed-dead links are checked again after this.",
        stage="history")
    max_links: int | None = _setting(None, _optional(_positive_int), "Check at most this many links per run.",
        stage="run", flag=FLAG)
    time_budget: float | None = _setting(None, _optional(_positive_float),
                                         "Seconds a run may take before it stops cleanly.", stage="run", flag=FLAG)
    now: dt.datetime | None = _setting(None, _now, "The run's clock (ISO 8601), to replay nightly runs.",
                                       stage="run")
    # --- wayback
    wayback_url: str = _setting("https://web.archive.org", _str, "Wayback Machine base URL.", stage="wayback")
    availability_url: str = _setting("https://archive.org", _str, "Base URL of the availability API.", stage="wayback")
    cdx_per_minute: float = _setting(24.0, _positive_float, "Most CDX/timemap calls a minute.", stage="wayback")
    max_lookups: int | None = _setting(
        500, _optional(_positive_int), "Archive (CDX) lookups per run: 500 take about 21 minutes at 24 CDX calls a "
        "minute, so a first run on thousands of links spreads them over nights; `none` lifts the limit.",
        stage="wayback", flag=Flag(type=str, metavar="N|none"))
    max_saves: int | None = _setting(50, _optional(_positive_int), "Save Page Now requests per run.",
        stage="wayback", flag=FLAG)
    save_max_age_days: float = _setting(365.0, _positive_float,
                                        "Alive links whose newest capture is older than this get a save.",
        stage="wayback")
    save_per_minute: float = _setting(4.0, _positive_float,
                                      "Most Save Page Now requests a minute (the archive allows a few per account).",
        stage="wayback")
    replay_per_minute: float = _setting(60.0, _positive_float,
                                        "Most Wayback replay fetches a minute (rescues, archive_url checks).",
        stage="wayback")
    wayback_pause: float = _setting(60.0, _positive_float,
                                    "Seconds every archive call pauses after a 429 (the archive blocks an IP that "
                                    "keeps calling for a minute).", stage="wayback")
    wayback_recheck_days: float = _setting(30.0, _positive_float,
                                           "Known captures are looked up again after this many days (links "
                                           "without a capture after a quarter of it).", stage="wayback")
    save_poll_seconds: float = _setting(120.0, _positive_float,
                                        "Seconds a run waits for a save job; an unfinished one is reconciled later.",
        stage="wayback")
    save_reconcile_days: float = _setting(3.0, _positive_float,
                                          "Days a save job not yet seen in CDX stays pending before it counts as "
                                          "failed.", stage="wayback")
    # --- other archives (Memento)
    archives: tuple[str, ...] = _setting(
        ("all",), _names, "Archives asked after the Wayback Machine (ids of the archive list, comma-separated): "
        "`all` of the list; empty: none.", stage="archives")
    archives_file: Path | None = _setting(
        None, _optional(_path), "YAML list of archives replacing the shipped one (archiver/data/archives.yaml).",
        stage="archives")
    archive_base_urls: tuple[str, ...] = _setting((), _names,
                                                  "Comma-separated id=URL pairs replacing archives' base URLs.",
        stage="archives")
    archive_per_minute: float | None = _setting(
        None, _optional(_positive_float),
        "Most calls a minute to each archive, replacing each archive's own per_minute (tests, benchmarks); empty: "
        "the list's limits.", stage="archives")
    archive_timeout: float = _setting(20.0, _positive_float,
                                      "Seconds for one TimeMap or memento request to another archive.",
        stage="archives")
    archive_max_failures: int = _setting(3, _positive_int,
                                         "Failures in a row (connection errors, 5xx, timeouts) after which an "
                                         "archive is rested for the rest of the run.", stage="archives")
    # --- moved, not gone (issue 23)
    relocate: bool = _setting(True, _bool, "Look for the new address of dead links in `archiver run` (archived "
                              "redirects first); only verified ones are reported.", stage="relocate")
    relocate_max_requests: int = _setting(
        200, _positive_int, "Requests a night may spend looking for dead links' new addresses (CDX calls, replays, "
        "candidate checks).", stage="relocate")
    relocate_per_host: int = _setting(20, _positive_int,
                                      "Of those, requests to one site (candidate checks) per night.",
                                      stage="relocate")
    relocate_seconds: float = _setting(600.0, _positive_float,
                                       "Seconds a night may spend looking for new addresses.", stage="relocate")
    relocate_title_similarity: float = _setting(
        0.9, _fraction, "Whole-title similarity (case, punctuation and site suffix ignored) a new address's page "
        "needs with the cited title.", stage="relocate")
    relocate_host_pairs: int = _setting(
        20, _positive_int, "Redirected pages of a site asked of the CDX API (one host-wide query) to learn its "
        "rewrite pattern.", stage="relocate")
    # --- text snapshots
    snapshot_pages: bool = _setting(True, _bool, "Extract and store a text snapshot of every live page during check.",
        stage="snapshots")
    extract_workers: int = _setting(2, _positive_int, "Worker processes extracting page text.", stage="snapshots")
    extract_timeout: float = _setting(20.0, _positive_float,
                                      "Seconds one page may take to extract before its worker is stopped.",
        stage="snapshots")
    max_html_bytes: int = _setting(5 * 1024 * 1024, _positive_int, "HTML larger than this is not parsed.",
        stage="snapshots")
    max_html_elements: int = _setting(40_000, _positive_int,
                                      "HTML with more tags than this is not parsed (extraction time grows faster "
                                      "than the tag count).", stage="snapshots")
    max_pdf_pages: int = _setting(200, _positive_int, "Pages of a PDF whose text is extracted.", stage="snapshots")
    max_pdf_bytes: int = _setting(20 * 1024 * 1024, _positive_int, "PDFs larger than this are not parsed.",
        stage="snapshots")
    thin_chars: int = _setting(500, _positive_int,
                               "Extracted text shorter than this (characters) is thin: never stored as the article.",
        stage="snapshots")
    drift_similarity: float = _setting(0.9, _fraction,
                                       "Shingle similarity to the first capture below which a page has drifted.",
        stage="snapshots")
    drift_min_words: int = _setting(20, _positive_int,
                                    "Words changed since the first capture that count as drift at any similarity.",
        stage="snapshots")
    # --- audit
    registry: Path | None = _setting(None, _optional(_path),
                                     "Extra publisher registry (YAML) extending the built-in one.", stage="audit")
    date_tolerance_days: float = _setting(3.0, _non_negative_float, "Cited vs page date gap before date_mismatch.",
        stage="audit")
    # --- evidence store (issue 21): where the raw captures are kept for good
    evidence_store: str | None = _setting(
        None, _optional(_store_url), "Where finished WARC files, their CDXJ indexes and the night's WACZ are kept for "
        "good: a folder, or s3://bucket/prefix (AWS, R2, B2, MinIO, SeaweedFS), gs://bucket/prefix, "
        "az://container/prefix. Credentials only from the standard variables (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL; GOOGLE_*, AZURE_*). Empty: the WARC folder itself.",
        stage="store")
    evidence_keep_local: bool = _setting(True, _bool,
                                         "Keep a WARC file in the WARC folder after its upload is verified.",
                                         stage="store")
    evidence_timeout: float = _setting(60.0, _positive_float,
                                       "Seconds one evidence-store request may take (uploads of a night's WARC).",
                                       stage="store")
    evidence_retries: int = _setting(3, _positive_int,
                                     "Tries of one evidence-store request before the file is left pending.",
                                     stage="store")

    @property
    def ua(self) -> str:
        return options.user_agent(self.user_agent, self.contact_url)

    def clock(self) -> dt.datetime:
        return options.clock(self.now)

    @property
    def warc_folder(self) -> Path | None:
        """Where the WARC files are (``warc_dir`` taken from the folder holding ``snapshots``), None when off."""
        return options.warc_folder(self.warc_dir, self.snapshots)

    # --- each stage's options (archiver/options.py), built from these settings
    @property
    def timeline_options(self) -> options.TimelineOptions:
        return options.build(options.TimelineOptions, self)

    @property
    def history_options(self) -> options.HistoryOptions:
        return options.build(options.HistoryOptions, self)

    @property
    def check_options(self) -> options.CheckOptions:
        return options.build(options.CheckOptions, self)

    @property
    def snapshot_options(self) -> options.SnapshotOptions:
        return options.build(options.SnapshotOptions, self)

    @property
    def wayback_options(self) -> options.WaybackOptions:
        return options.build(options.WaybackOptions, self)

    @property
    def archives_options(self) -> options.ArchivesOptions:
        return options.build(options.ArchivesOptions, self)

    @property
    def relocate_options(self) -> options.RelocateOptions:
        return options.build(options.RelocateOptions, self)

    @property
    def audit_options(self) -> options.AuditOptions:
        return options.build(options.AuditOptions, self)

    @property
    def report_options(self) -> options.ReportOptions:
        return options.build(options.ReportOptions, self)

    @property
    def store_options(self) -> options.StoreOptions:
        return options.build(options.StoreOptions, self)


SETTINGS = {f.name: f for f in fields(Settings)}

#: the configuration reference's sections: the first setting of each, with its title (declaration order)
GROUPS = {
    "events": "Where things are",
    "allow_networks": "Network safety and politeness",
    "confirm_checks": "History and scheduling",
    "wayback_url": "Wayback Machine",
    "archives": "Other archives (Memento)",
    "relocate": "Moved, not gone",
    "snapshot_pages": "Text snapshots",
    "registry": "Citation audit",
    "evidence_store": "Evidence store",
}


def env_name(name: str) -> str:
    return f"ARCHIVER_{name.upper()}"


def stage_of(name: str) -> str:
    """The stage a setting belongs to (one of :data:`STAGES`)."""
    stage: str = SETTINGS[name].metadata["stage"]
    return stage


def flag_of(name: str) -> Flag | None:
    """How a command offers the setting, None when no command does."""
    flag: Flag | None = SETTINGS[name].metadata["flag"]
    return flag


def flag_name(name: str) -> str:
    """The setting's command-line flag: ``per_host_gap`` is ``--per-host-gap``."""
    return "--" + name.replace("_", "-")


def flag_type(name: str) -> type:
    """The type of the setting's flag: the declared one, else its converter's (``str`` for the rest)."""
    flag = flag_of(name)
    if flag is not None and flag.type is not None:
        return flag.type
    conv = SETTINGS[name].metadata["conv"]
    if isinstance(conv, _Nullable):
        conv = conv.conv
    return _TYPES.get(conv, str)


def help_text(name: str) -> str:
    """A setting's help on the command line: its one-line doc, default and environment variable."""
    return f"{SETTINGS[name].metadata['doc']} [default: {_default_text(name)}; {env_name(name)}]"


def _convert(name: str, value: Any, origin: str) -> Any:
    f = SETTINGS.get(name)
    if f is None:
        raise ConfigError(f"unknown setting {name!r} in {origin}")
    try:
        return f.metadata["conv"](value)
    except (ValueError, TypeError) as exc:
        raise ConfigError(f"bad value for setting {name!r} in {origin}: {exc}") from None


def find_config_file(cwd: Path) -> tuple[Path, dict[str, Any]] | None:
    """``archiver.toml`` (whole file) or ``[tool.archiver]`` of ``pyproject.toml`` in ``cwd``."""
    own = cwd / "archiver.toml"
    if own.is_file():
        return own, _read_toml(own).get("archiver", _read_toml(own))
    pyproject = cwd / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("archiver")
        if isinstance(table, dict):
            return pyproject, table
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Build settings from file, environment and ``overrides`` (flags; None values ignored)."""
    env = os.environ if env is None else env
    cwd = cwd or Path.cwd()
    values: dict[str, Any] = {}
    found = (config_file, _read_toml(config_file)) if config_file else find_config_file(cwd)
    if config_file and found:
        data = found[1]
        found = (config_file, data.get("tool", {}).get("archiver", data.get("archiver", data)))
    if found:
        path, table = found
        base = path.parent
        for key, value in table.items():
            name = key.replace("-", "_")
            values[name] = _convert(name, value, f"{path} ([tool.archiver] {key})")
            if isinstance(values[name], Path) and not values[name].is_absolute():
                values[name] = base / values[name]
    for name in SETTINGS:
        var = env_name(name)
        if var in env:
            values[name] = _convert(name, env[var], f"environment variable {var}")
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _convert(name, value, f"option --{name.replace('_', '-')}")
    return replace(Settings(), **values)


def _default_text(name: str) -> str:
    f = SETTINGS[name]
    value = f.default_factory() if callable(f.default_factory) else f.default
    if value is None or value == ():
        return "(none)"
    if isinstance(value, tuple):
        return ",".join(value)
    return str(value)


def settings_table(names: Iterable[str] | None = None) -> str:
    """A Markdown table of the settings (all, or ``names`` in that order), from the declarations above."""
    rows = ["| setting | environment variable | default | flag | stage | meaning |", "|---|---|---|---|---|---|"]
    for name in SETTINGS if names is None else names:
        rows.append(f"| `{name}` | `{env_name(name)}` | `{_default_text(name)}` | {_flag_text(name)} "
                    f"| {stage_of(name)} | {SETTINGS[name].metadata['doc']} |")
    return "\n".join(rows)


def _flag_text(name: str) -> str:
    if flag_of(name) is None:
        return ""
    if flag_type(name) is bool:
        return f"`{flag_name(name)}`, `--no-{flag_name(name)[2:]}`"
    return f"`{flag_name(name)}`"


def settings_groups() -> list[tuple[str, list[str]]]:
    """The settings in declaration order, grouped under the titles of :data:`GROUPS`."""
    groups: list[tuple[str, list[str]]] = []
    for name in SETTINGS:
        if name in GROUPS or not groups:
            groups.append((GROUPS.get(name, ""), []))
        groups[-1][1].append(name)
    return groups


if __name__ == "__main__":  # pragma: no cover - `python -m archiver.config` prints the table
    print(settings_table())
