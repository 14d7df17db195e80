"""Load a timeline: every ``*.md`` event under a folder, with its sources.

Parsing uses python-frontmatter's YAML handler (split and load) with a *safe* YAML loader that also records the
line where each source starts, so reports can point maintainers at the line to
edit. Loading never raises on bad input: every problem becomes a
:class:`~archiver.models.Finding` naming the file (and line where known) and the
rest of the timeline still loads.

Just over 500 lines (the YAML line loader, per-file parsing and the forked parallel parse); the
planned split into parse.py and parallel.py is not done yet.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import pickle
import re
import select
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import yaml
from frontmatter.default_handlers import YAMLHandler

from ..models import Event, Finding, FindingKind, Severity, Source
from .catalog import Catalog, build_catalog

if TYPE_CHECKING:
    from ..options import TimelineOptions

try:  # the C parser is ~10x faster; behaviour is the same safe subset
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]  # pure-Python stand-in for CSafeLoader

DEFAULT_MAX_FILE_BYTES = 5 * 1024 * 1024
PUBLISHER_KEYS = ("publisher", "outlet", "publication")
_LINE_KEY = "__line__"
_ITEM_LINES_KEY = "__item_lines__"


_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _NeedsFullConstructor(Exception):
    """A document uses a YAML feature the fast path leaves to PyYAML's constructor (merge keys)."""


class _LineLoader(_BaseLoader):
    """Safe loader that remembers where mappings and sequence items start (0-based).

    ``construct_document`` builds plain maps, sequences and strings straight from the
    composed nodes: PyYAML's generic constructor spends a third of the parse time in
    per-node bookkeeping this data never needs. Every other scalar (ints, dates, bools,
    nulls) and every other tag goes through PyYAML's own safe constructor, so the result
    is the same; a document with merge keys (``<<``), or nested deeper than Python's
    recursion limit allows, is built entirely by PyYAML.
    """

    def construct_document(self, node: yaml.Node) -> Any:
        try:
            return self._build(node, {})
        except (_NeedsFullConstructor, RecursionError):  # PyYAML's constructor is not recursive
            return super().construct_document(node)

    def _build(self, node: yaml.Node, memo: dict[yaml.Node, Any]) -> Any:
        cls = node.__class__
        if cls is yaml.ScalarNode:
            return node.value if node.tag == _STR_TAG else self.construct_object(node, deep=True)
        built = memo.get(node)  # an alias: the same object, as PyYAML gives (and no endless recursion)
        if built is not None:
            return built
        if cls is yaml.MappingNode and node.tag == _MAP_TAG:
            mapping: dict[Any, Any] = {}
            memo[node] = mapping
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    raise _NeedsFullConstructor
                key = self._build(key_node, memo)
                try:
                    mapping[key] = self._build(value_node, memo)
                except TypeError as exc:  # a list or map as a key
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping", node.start_mark, "found unhashable key",
                        key_node.start_mark) from exc
                if key == "sources" and value_node.__class__ is yaml.SequenceNode:
                    mapping[_ITEM_LINES_KEY] = {"sources": [item.start_mark.line for item in value_node.value]}
            mapping[_LINE_KEY] = node.start_mark.line
            return mapping
        if cls is yaml.SequenceNode and node.tag == _SEQ_TAG:
            items: list[Any] = []
            memo[node] = items
            for child in node.value:
                items.append(self._build(child, memo))
            return items
        return self.construct_object(node, deep=True)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        if node.tag != _MAP_TAG:  # a !!set is built from a mapping too: no line keys in it
            return mapping
        mapping[_LINE_KEY] = node.start_mark.line
        for key_node, value_node in node.value:
            if key_node.value == "sources" and isinstance(value_node, yaml.SequenceNode):
                mapping[_ITEM_LINES_KEY] = {"sources": [item.start_mark.line for item in value_node.value]}
        return mapping


class _LineYAMLHandler(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        return yaml.load(fm, Loader=_LineLoader)


_HANDLER = _LineYAMLHandler()


@dataclass(slots=True)
class LoadResult:
    events: list[Event] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    files: int = 0
    #: processes that parsed the files (2 when a forked child parsed half of them)
    processes: int = 1

    @property
    def citations(self) -> int:
        return sum(len(e.sources) for e in self.events)


def _strip_private(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip_private(v) for k, v in value.items() if k not in (_LINE_KEY, _ITEM_LINES_KEY)}
    if isinstance(value, list):
        return [_strip_private(v) for v in value]
    return value


_TIER_RE = re.compile(r"^\s*(?:tier)?[\s_-]*(-?\d+)\s*$", re.IGNORECASE)


def parse_tier(value: Any) -> tuple[int | None, str | None]:
    """Return ``(tier, problem)``; accepts 1, "1", "tier-1", "Tier 1"."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return None, f"tier {value!r} is not a number"
    if isinstance(value, int):
        n = value
    elif isinstance(value, float) and value.is_integer():
        n = int(value)
    elif isinstance(value, str) and (m := _TIER_RE.match(value)):
        n = int(m.group(1))
    else:
        return None, f"tier {value!r} is not one of 1, 2, 3"
    if not 1 <= n <= 3:
        return None, f"tier {n} is outside 1-3"
    return n, None


def normalise_date(value: Any) -> str | None:
    """A YAML date, datetime, year or string, as an ISO-ish string (or None)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int):
        return f"{value:04d}"
    return str(value).strip() or None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


class _FileContext:
    """Collects findings for one file."""

    def __init__(self, rel: str, findings: list[Finding]) -> None:
        self.rel = rel
        self.findings = findings
        self.event: str | None = None

    def add(self, kind: FindingKind, severity: Severity, message: str, line: int | None = None, **kw: Any) -> None:
        self.findings.append(
            Finding(kind=kind, severity=severity, message=message, file=self.rel, line=line, event=self.event, **kw)
        )


def _line_of_offset(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _decode(data: bytes, ctx: _FileContext) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        ctx.add(FindingKind.ENCODING, Severity.WARNING,
                "file starts with a UTF-8 byte-order mark (BOM); loaded without it", line=1)
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = _line_of_offset(data, exc.start)
        ctx.add(FindingKind.ENCODING, Severity.ERROR,
                f"file is not valid UTF-8 (byte 0x{data[exc.start]:02x} at line {line}); "
                "read as Windows-1252, re-save it as UTF-8", line=line)
        text = data.decode("cp1252", errors="replace")
    if "\r\n" in text:
        ctx.add(FindingKind.LINE_ENDINGS, Severity.INFO, "file uses CRLF (Windows) line endings; loaded normally",
                line=1)
        text = text.replace("\r\n", "\n")
    return text


def _yaml_error_line(exc: yaml.YAMLError) -> int | None:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is None:
        return None
    return int(mark.line) + 1  # +1: 0-based; the frontmatter starts on line 1 with '---'


def _parse_source(raw: Any, index: int, line: int | None, ctx: _FileContext) -> Source | None:
    if isinstance(raw, str):
        url = raw.strip()
        if not url:
            ctx.add(FindingKind.MISSING_URL, Severity.ERROR, f"source {index} is an empty string", line=line,
                    source_index=index)
        return Source(index=index, line=line, url=url or None)
    if not isinstance(raw, dict):
        ctx.add(FindingKind.INVALID_SOURCE, Severity.ERROR,
                f"source {index} is a {type(raw).__name__}, expected a mapping with a url", line=line,
                source_index=index)
        return None
    if _LINE_KEY in raw:
        line = int(raw[_LINE_KEY]) + 1
    data = _strip_private(raw)
    publisher, publisher_key = None, None
    for key in PUBLISHER_KEYS:
        if _text(data.get(key)):
            publisher, publisher_key = _text(data.get(key)), key
            break
    tier, problem = parse_tier(data.get("tier"))
    if problem:
        raw_tier = data.get("tier")
        ctx.add(FindingKind.INVALID_TIER, Severity.ERROR, f"source {index}: {problem}", line=line, source_index=index,
                actual=raw_tier if isinstance(raw_tier, (int, str)) else str(raw_tier), expected="1, 2 or 3")
    date = normalise_date(data.get("date"))
    if date is None and data.get("year") is not None:
        date = normalise_date(data.get("year"))
    raw_url = data.get("url")
    if raw_url is not None and not isinstance(raw_url, str):
        raw_url = str(raw_url)
    known = {"url", "title", "date", "year", "tier", "archive_url", *PUBLISHER_KEYS}
    if "url" not in data:
        ctx.add(FindingKind.MISSING_URL, Severity.ERROR, f"source {index} has no url", line=line, source_index=index)
    elif not (isinstance(raw_url, str) and raw_url.strip()):
        ctx.add(FindingKind.MISSING_URL, Severity.ERROR, f"source {index} has an empty url ({data.get('url')!r})",
                line=line, source_index=index)
    return Source(
        index=index,
        line=line,
        url=raw_url.strip() if isinstance(raw_url, str) and raw_url.strip() else None,
        title=_text(data.get("title")),
        publisher=publisher,
        publisher_key=publisher_key,
        date=date,
        tier=tier,
        archive_url=_text(data.get("archive_url")),
        extra={k: v for k, v in data.items() if k not in known},
    )


def parse_event_text(text: str, rel: str, ctx: _FileContext, stem: str) -> Event | None:
    """Parse one event file's text; findings go to ``ctx``."""
    if not text.strip():
        ctx.add(FindingKind.EMPTY_FILE, Severity.ERROR, "file is empty", line=1)
        return None
    if not _HANDLER.detect(text):
        is_readme = stem.lower() in ("readme", "index", "_index")
        ctx.add(FindingKind.MISSING_FRONTMATTER, Severity.WARNING if is_readme else Severity.ERROR,
                "no YAML frontmatter (the file must start with a '---' line)"
                + ("; not an event file" if is_readme else ""), line=1)
        return None
    try:
        fm, _body = _HANDLER.split(text)
        meta = _HANDLER.load(fm)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        ctx.add(FindingKind.PARSE_ERROR, Severity.ERROR, f"invalid YAML frontmatter: {problem}",
                line=_yaml_error_line(exc))
        return None
    except ValueError:  # no closing boundary
        ctx.add(FindingKind.PARSE_ERROR, Severity.ERROR, "frontmatter is not closed by a '---' line", line=1)
        return None
    if meta is None:
        meta = {}
    if not isinstance(meta, dict):
        ctx.add(FindingKind.PARSE_ERROR, Severity.ERROR, "frontmatter is not a mapping of fields", line=2)
        return None
    event_id = _text(meta.get("id")) or stem
    ctx.event = event_id
    item_lines: dict[str, list[int]] = meta.get(_ITEM_LINES_KEY, {})
    raw_sources = meta.get("sources")
    sources: list[Source] = []
    if raw_sources is None:
        ctx.add(FindingKind.NO_SOURCES, Severity.WARNING, "event has no sources", line=1)
    elif not isinstance(raw_sources, list):
        ctx.add(FindingKind.INVALID_SOURCES, Severity.ERROR,
                f"'sources' is a {type(raw_sources).__name__}, expected a list", line=1)
    else:
        lines = item_lines.get("sources", [])
        for index, raw in enumerate(raw_sources):
            line = lines[index] + 1 if index < len(lines) else None
            source = _parse_source(raw, index, line, ctx)
            if source is not None:
                sources.append(source)
    return Event(
        id=event_id,
        file=rel,
        date=normalise_date(meta.get("date")),
        title=_text(meta.get("title")),
        sources=sources,
    )


def iter_event_files(root: Path) -> list[Path]:
    """All ``*.md`` files under ``root`` (recursively), in a stable order."""
    if root.is_file():
        return [root]
    files: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        files.extend(Path(dirpath) / f for f in filenames if f.endswith(".md"))
    return sorted(files)


def _shown_path(path: Path, root: Path) -> str:
    """Path shown in findings: relative to the events folder's parent (``events/x.md``)."""
    base = root.parent
    try:
        return path.relative_to(base).as_posix()
    except ValueError:
        return path.as_posix()


def load_events(root: str | os.PathLike[str], max_file_bytes: int = DEFAULT_MAX_FILE_BYTES, *,
                processes: int = 2) -> LoadResult:
    """Load every event under ``root``. Never raises for bad files.

    ``processes``: with 2 (the default) a large timeline is parsed in two processes where
    that is safe (see :func:`_parse_files`); 1 parses in this process only. The result is
    the same either way.
    """
    root_path = Path(root)
    result = LoadResult()
    if not root_path.exists():
        result.findings.append(Finding(kind=FindingKind.MISSING_EVENTS, severity=Severity.ERROR,
                                       message=f"events folder {root_path} does not exist",
                                       file=str(root_path)))
        return result
    seen_ids: dict[str, str] = {}
    files = iter_event_files(root_path)
    parsed, result.processes = _parse_files(files, root_path, max_file_bytes, processes)
    for path, (event, findings) in zip(files, parsed, strict=True):
        result.files += 1
        result.findings.extend(findings)
        if event is None:
            continue
        rel = event.file
        event.path = str(path)
        if event.id in seen_ids:
            result.findings.append(Finding(
                kind=FindingKind.DUPLICATE_ID, severity=Severity.ERROR, file=rel, line=1, event=event.id,
                message=f"event id {event.id!r} is also used by {seen_ids[event.id]}; ids must be unique"))
        else:
            seen_ids[event.id] = rel
        result.events.append(event)
    return result


_Parsed = tuple[Event | None, list[Finding]]

#: below this many files a second process costs more than it saves
PARALLEL_MIN_FILES = 400
#: how long the parent waits for the second process before parsing its share itself
CHILD_TIMEOUT = 120.0


def _parse_one(path: Path, root: Path, max_file_bytes: int) -> _Parsed:
    rel = _shown_path(path, root)
    findings: list[Finding] = []
    return _load_file(path, rel, _FileContext(rel, findings), max_file_bytes), findings


def _parse_serial(paths: list[Path], root: Path, max_file_bytes: int) -> list[_Parsed]:
    return [_parse_one(path, root, max_file_bytes) for path in paths]


def _can_fork(files: int, processes: int) -> bool:
    if processes < 2 or files < PARALLEL_MIN_FILES or not sys.platform.startswith("linux"):
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    # a fork copies only the calling thread: with others alive (a test's servers, a
    # progress bar) a lock one of them holds could stay held in the child forever
    return cpus >= 2 and threading.active_count() == 1


def _parse_files(paths: list[Path], root: Path, max_file_bytes: int, processes: int
                 ) -> tuple[list[_Parsed], int]:
    """Parse ``paths`` in order; on Linux with two free CPUs, half of them in a forked child.

    YAML parsing is CPU-bound (0.5 s of the corpus's 2,783 files) and holds the GIL, so a
    thread would not help. A fork shares the loaded code and costs a few milliseconds;
    the child parses the second half and sends its events back pickled (0.05 s both
    ends), which makes loading the corpus about 0.2 s faster. ``multiprocessing`` was
    measured first: its pool start-up and task plumbing ate the gain. If the child
    fails, or is not done within :data:`CHILD_TIMEOUT`, this process parses its share:
    the result never depends on the child.
    """
    if not _can_fork(len(paths), processes):
        return _parse_serial(paths, root, max_file_bytes), 1
    mid = (len(paths) + 1) // 2
    mine, theirs = paths[:mid], paths[mid:]
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return _parse_serial(paths, root, max_file_bytes), 1
    if pid == 0:  # the child: parse, send, and leave without running any cleanup of the parent's
        code = 1
        try:
            os.close(read_fd)
            payload = memoryview(pickle.dumps(_parse_serial(theirs, root, max_file_bytes),
                                              protocol=pickle.HIGHEST_PROTOCOL))
            while payload:
                payload = payload[os.write(write_fd, payload):]
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    try:
        first = _parse_serial(mine, root, max_file_bytes)
        second = _receive(read_fd, pid, len(theirs))
    finally:
        os.close(read_fd)
    if second is None:
        return first + _parse_serial(theirs, root, max_file_bytes), 1
    return first + second, 2


def _receive(read_fd: int, pid: int, expected: int) -> list[_Parsed] | None:
    """The child's parsed files, or None when it failed or took too long (it is then killed)."""
    chunks: list[bytes] = []
    deadline = time.monotonic() + CHILD_TIMEOUT
    done = False
    while not done:
        ready, _, _ = select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        chunk = os.read(read_fd, 1 << 20)
        chunks.append(chunk)
        done = not chunk
    if not done:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    if not done or not os.WIFEXITED(status) or os.WEXITSTATUS(status) != 0:
        return None
    try:
        parsed = pickle.loads(b"".join(chunks))  # our own fork's output, not outside data
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError):
        return None
    return parsed if isinstance(parsed, list) and len(parsed) == expected else None


def _load_file(path: Path, rel: str, ctx: _FileContext, max_file_bytes: int) -> Event | None:
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_file_bytes:
                ctx.add(FindingKind.FILE_TOO_LARGE, Severity.ERROR,
                        f"file is {size:,} bytes, over the {max_file_bytes:,}-byte limit for an event; skipped")
                return None
            data = handle.read()
    except OSError as exc:
        ctx.add(FindingKind.READ_ERROR, Severity.ERROR, f"cannot read file: {exc.strerror or exc}")
        return None
    text = _decode(data, ctx)
    try:
        return parse_event_text(text, rel, ctx, path.stem)
    except RecursionError:  # a value nested hundreds of levels deep: no event file needs that
        ctx.add(FindingKind.PARSE_ERROR, Severity.ERROR, "frontmatter is nested too deeply to read", line=1)
        return None


class Timeline(NamedTuple):
    """The loaded events and their link catalog (unpacks as ``loaded, catalog``)."""

    loaded: LoadResult
    catalog: Catalog


def load_timeline(options: TimelineOptions) -> Timeline:
    """Load the events folder as ``options`` says (size cap, parser processes) and build the catalog."""
    loaded = load_events(options.events, max_file_bytes=options.max_event_bytes,
                         processes=options.parse_processes)
    return Timeline(loaded, build_catalog(loaded.events))
