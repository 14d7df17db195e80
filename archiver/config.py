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
import ipaddress
import os
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import __version__
from .errors import ConfigError as ConfigError  # its home before archiver.errors


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    n = int(value)
    if n < 1:
        raise ValueError(f"must be at least 1, got {n}")
    return n


def _non_negative_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    x = float(value)
    if x < 0 or x != x:
        raise ValueError(f"must be zero or more, got {value!r}")
    return x


def _positive_float(value: Any) -> float:
    x = _non_negative_float(value)
    if x == 0:
        raise ValueError("must be more than zero")
    return x


def _fraction(value: Any) -> float:
    x = _non_negative_float(value)
    if x > 1:
        raise ValueError(f"must be between 0 and 1, got {value!r}")
    return x


def _optional(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def inner(value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
            return None
        return conv(value)

    return inner


def _networks(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        ipaddress.ip_network(item, strict=False)  # raises ValueError with a clear message
        out.append(item)
    return tuple(out)


def _names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _path(value: Any) -> Path:
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return Path(text)


def _str(value: Any) -> str:
    return str(value)


def _store_url(value: Any) -> str:
    """A folder or an object-store URL; credentials in it are refused (they come from the environment)."""
    from urllib.parse import urlsplit

    text = str(value).strip()
    parts = urlsplit(text)
    if parts.password or parts.username or "secret" in parts.query.lower() or "sig=" in parts.query.lower():
        raise ValueError("put no credentials in the URL: they come from the environment (AWS_ACCESS_KEY_ID, ...)")
    return text


def _now(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


def _setting(default: Any, conv: Callable[[Any], Any], doc: str, env: str | None = None) -> Any:
    meta = {"conv": conv, "doc": doc, "env": env}
    if isinstance(default, (list, dict, tuple)):
        return field(default_factory=lambda: default, metadata=meta)
    return field(default=default, metadata=meta)


BROWSER_USER_AGENT = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
                      "Chrome/124.0.0.0 Safari/537.36")
DEFAULT_USER_AGENT = f"archiver/{__version__} (link checker for evidence timelines; +{{contact}})"


@dataclass(frozen=True)
class Settings:
    # --- where things are
    events: Path = _setting(Path("events"), _path, "Folder of event Markdown files (searched recursively).")
    snapshots: Path = _setting(Path("snapshots"), _path, "Folder for link state and text snapshots (committed).")
    report_dir: Path = _setting(Path("reports"), _path, "Folder the reports are written to.")
    warc_dir: Path | None = _setting(
        Path("warcs"), _optional(_path), "Folder for the raw captures: one gzipped WARC file per run (per shard) "
        "with its CDXJ index, packed by `archiver pack`; not committed. A relative path is taken from the folder "
        "holding `snapshots`. \"\" or \"off\": no WARC records.")
    max_event_bytes: int = _setting(5 * 1024 * 1024, _positive_int, "Event files larger than this are skipped.")
    parse_processes: int = _setting(
        2, _positive_int, "Processes that parse the event files: 2 forks a helper for timelines of 400+ files "
        "(Linux, 2+ CPUs); 1 parses in the main process only. Same result either way.")
    # --- network safety and politeness
    allow_networks: tuple[str, ...] = _setting(
        (), _networks,
        "Comma-separated CIDRs that may be fetched although private/loopback (e.g. 127.0.0.0/8). Empty: none.")
    concurrency: int = _setting(32, _positive_int, "Requests in flight across all hosts.")
    per_host_concurrency: int = _setting(2, _positive_int, "Requests in flight to one host.")
    per_host_gap: float = _setting(0.25, _non_negative_float, "Seconds between request starts to one host.")
    max_per_host_gap: float = _setting(
        30.0, _non_negative_float,
        "Longest gap (seconds) a host's 429 answers can grow its per-host gap to, for the rest of the run.")
    connect_timeout: float = _setting(10.0, _positive_float, "Seconds to connect (DNS, TCP, TLS).")
    read_timeout: float = _setting(20.0, _positive_float, "Seconds of silence allowed while reading.")
    total_timeout: float = _setting(45.0, _positive_float,
                                    "Seconds for a whole request, body included (stops trickling servers).")
    max_body_bytes: int = _setting(2 * 1024 * 1024, _positive_int,
                                   "Decoded bytes read from a page; the rest is not downloaded.")
    max_redirects: int = _setting(10, _positive_int, "Redirects followed before giving up.")
    attempts: int = _setting(3, _positive_int, "Tries for transient failures (timeouts, 429, 5xx).")
    retry_after_cap: float = _setting(60.0, _non_negative_float, "Longest Retry-After honoured, in seconds.")
    backoff_base: float = _setting(1.0, _non_negative_float, "First retry wait in seconds (doubles, with jitter).")
    contact_url: str = _setting("https://github.com/archiver-project/archiver", _str,
                                "Contact URL put in the User-Agent.")
    user_agent: str | None = _setting(None, _optional(_str), "Full User-Agent (default names the tool and contact).")
    browser_user_agent: str | None = _setting(
        BROWSER_USER_AGENT, _optional(_str),
        "User-Agent of the one home-page request per host that tells a bot defence (404 to the checker on every "
        "path, home page included) from a site that is gone. Empty: off (such links are then never dead).")
    soft404_probe: bool = _setting(True, _bool,
                                   "Fetch one random, non-existent path per host to recognise soft 404 pages.")
    soft404_similarity: float = _setting(0.9, _fraction,
                                         "Text similarity to the random-path page above which a page is a soft 404.")
    offline_fraction: float = _setting(0.6, _fraction,
                                       "Share of hosts failing to connect (DNS, refused, unreachable) that means "
                                       "the network is offline.")
    degraded_fraction: float = _setting(0.3, _fraction,
                                        "Share of hosts failing to connect that means the network is degraded.")
    network_min_hosts: int = _setting(5, _positive_int,
                                      "Fewer hosts than this: the network is offline only if every host fails.")
    network_sample_hosts: int = _setting(20, _positive_int,
                                         "Hosts checked first to decide early that the network is offline.")
    # --- history and scheduling
    confirm_checks: int = _setting(3, _positive_int, "Failed checks needed before a dead link is confirmed.")
    confirm_days: float = _setting(3.0, _non_negative_float, "Days the failed checks must span to confirm.")
    failing_recheck_hours: float = _setting(
        20.0, _non_negative_float, "Failing and inconclusive (error) links are checked again only after this many "
        "hours, so a same-night rerun skips them; 0 checks them on every run.")
    recheck_days: float = _setting(7.0, _positive_float, "Alive links are checked again after this many days.")
    dead_recheck_days: float = _setting(7.0, _positive_float, "Confirmed-dead links are checked again after this.")
    max_links: int | None = _setting(None, _optional(_positive_int), "Check at most this many links per run.")
    time_budget: float | None = _setting(None, _optional(_positive_float),
                                         "Seconds a run may take before it stops cleanly.")
    now: dt.datetime | None = _setting(None, _now, "The run's clock (ISO 8601), to replay nightly runs.",
                                       env="ARCHIVER_NOW")
    # --- wayback
    wayback_url: str = _setting("https://web.archive.org", _str, "Wayback Machine base URL.")
    availability_url: str = _setting("https://archive.org", _str, "Base URL of the availability API.")
    cdx_per_minute: float = _setting(24.0, _positive_float, "Most CDX/timemap calls a minute.")
    max_lookups: int | None = _setting(
        500, _optional(_positive_int), "Archive (CDX) lookups per run: 500 take about 21 minutes at 24 CDX calls a "
        "minute, so a first run on thousands of links spreads them over nights; `none` lifts the limit.")
    max_saves: int | None = _setting(50, _optional(_positive_int), "Save Page Now requests per run.")
    save_max_age_days: float = _setting(365.0, _positive_float,
                                        "Alive links whose newest capture is older than this get a save.")
    save_per_minute: float = _setting(4.0, _positive_float,
                                      "Most Save Page Now requests a minute (the archive allows a few per account).")
    replay_per_minute: float = _setting(60.0, _positive_float,
                                        "Most Wayback replay fetches a minute (rescues, archive_url checks).")
    wayback_pause: float = _setting(60.0, _positive_float,
                                    "Seconds every archive call pauses after a 429 (the archive blocks an IP that "
                                    "keeps calling for a minute).")
    wayback_recheck_days: float = _setting(30.0, _positive_float,
                                           "Known captures are looked up again after this many days (links "
                                           "without a capture after a quarter of it).")
    save_poll_seconds: float = _setting(120.0, _positive_float,
                                        "Seconds a run waits for a save job; an unfinished one is reconciled later.")
    save_reconcile_days: float = _setting(3.0, _positive_float,
                                          "Days a save job not yet seen in CDX stays pending before it counts as "
                                          "failed.")
    # --- other archives (Memento)
    archives: tuple[str, ...] = _setting(
        ("all",), _names, "Archives asked after the Wayback Machine (ids of the archive list, comma-separated): "
        "`all` of the list; empty: none.")
    archives_file: Path | None = _setting(
        None, _optional(_path), "YAML list of archives replacing the shipped one (archiver/data/archives.yaml).")
    archive_base_urls: tuple[str, ...] = _setting((), _names,
                                                  "Comma-separated id=URL pairs replacing archives' base URLs.")
    archive_per_minute: float | None = _setting(
        None, _optional(_positive_float),
        "Most calls a minute to each archive, replacing each archive's own per_minute (tests, benchmarks); empty: "
        "the list's limits.")
    archive_timeout: float = _setting(20.0, _positive_float,
                                      "Seconds for one TimeMap or memento request to another archive.")
    archive_max_failures: int = _setting(3, _positive_int,
                                         "Failures in a row (connection errors, 5xx, timeouts) after which an "
                                         "archive is rested for the rest of the run.")
    # --- text snapshots
    snapshot_pages: bool = _setting(True, _bool, "Extract and store a text snapshot of every live page during check.")
    extract_workers: int = _setting(2, _positive_int, "Worker processes extracting page text.")
    extract_timeout: float = _setting(20.0, _positive_float,
                                      "Seconds one page may take to extract before its worker is stopped.")
    max_html_bytes: int = _setting(5 * 1024 * 1024, _positive_int, "HTML larger than this is not parsed.")
    max_html_elements: int = _setting(40_000, _positive_int,
                                      "HTML with more tags than this is not parsed (extraction time grows faster "
                                      "than the tag count).")
    max_pdf_pages: int = _setting(200, _positive_int, "Pages of a PDF whose text is extracted.")
    max_pdf_bytes: int = _setting(20 * 1024 * 1024, _positive_int, "PDFs larger than this are not parsed.")
    thin_chars: int = _setting(500, _positive_int,
                               "Extracted text shorter than this (characters) is thin: never stored as the article.")
    drift_similarity: float = _setting(0.9, _fraction,
                                       "Shingle similarity to the first capture below which a page has drifted.")
    drift_min_words: int = _setting(20, _positive_int,
                                    "Words changed since the first capture that count as drift at any similarity.")
    # --- audit
    registry: Path | None = _setting(None, _optional(_path),
                                     "Extra publisher registry (YAML) extending the built-in one.")
    date_tolerance_days: float = _setting(3.0, _non_negative_float, "Cited vs page date gap before date_mismatch.")
    # --- evidence store (issue 21): where the raw captures are kept for good
    evidence_store: str | None = _setting(
        None, _optional(_store_url), "Where finished WARC files, their CDXJ indexes and the night's WACZ are kept for "
        "good: a folder, or s3://bucket/prefix (AWS, R2, B2, MinIO, SeaweedFS), gs://bucket/prefix, "
        "az://container/prefix. Credentials only from the standard variables (AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL; GOOGLE_*, AZURE_*). Empty: the WARC folder itself.")
    evidence_keep_local: bool = _setting(True, _bool,
                                         "Keep a WARC file in the WARC folder after its upload is verified.")
    evidence_timeout: float = _setting(60.0, _positive_float,
                                       "Seconds one evidence-store request may take (uploads of a night's WARC).")
    evidence_retries: int = _setting(3, _positive_int,
                                     "Tries of one evidence-store request before the file is left pending.")

    @property
    def ua(self) -> str:
        return self.user_agent or DEFAULT_USER_AGENT.format(contact=self.contact_url)

    def clock(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)

    @property
    def warc_folder(self) -> Path | None:
        """Where the WARC files are (``warc_dir`` taken from the folder holding ``snapshots``), None when off."""
        if self.warc_dir is None:
            return None
        return self.warc_dir if self.warc_dir.is_absolute() else self.snapshots.parent / self.warc_dir


SETTINGS = {f.name: f for f in fields(Settings)}

#: the configuration reference's sections: the first setting of each, with its title (declaration order)
GROUPS = {
    "events": "Where things are",
    "allow_networks": "Network safety and politeness",
    "confirm_checks": "History and scheduling",
    "wayback_url": "Wayback Machine",
    "archives": "Other archives (Memento)",
    "snapshot_pages": "Text snapshots",
    "registry": "Citation audit",
    "evidence_store": "Evidence store",
}


def env_name(name: str) -> str:
    return SETTINGS[name].metadata.get("env") or f"ARCHIVER_{name.upper()}"


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
    rows = ["| setting | environment variable | default | meaning |", "|---|---|---|---|"]
    for name in SETTINGS if names is None else names:
        rows.append(f"| `{name}` | `{env_name(name)}` | `{_default_text(name)}` | {SETTINGS[name].metadata['doc']} |")
    return "\n".join(rows)


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
