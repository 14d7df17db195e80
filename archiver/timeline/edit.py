"""Minimal-diff edits of an event's frontmatter: set fields of one source.

Maintainers review every change ``archiver`` makes to their timeline, so an
edit touches only the lines it must: a new key is one inserted line (indented
like the item's other keys, with the file's line ending), a value set on an
existing empty key (``outlet:``) changes that line only, and nothing else is
re-serialised — key order, quoting, comments, blank lines, CRLF line endings
and a UTF-8 byte-order mark are kept byte for byte.

The YAML is *composed* (not loaded) to learn where each source item and each of
its keys and values start and end; the text is then edited line by line.

Sources that cannot take a field without rewriting them are refused with an
:class:`EditError` saying why: a bare URL (``- https://...``) and a flow mapping
(``- {url: ..., title: ...}``). Converting them would change lines the maintainer
did not ask to change; the message tells them how to convert it by hand.

:func:`apply_fills` writes a plan of such edits (``audit --write``, ``wayback --annotate``)
into the files, atomically, and says what changed and what was skipped.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

try:
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - libyaml missing
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]  # pure-Python stand-in for CSafeLoader

from ..errors import EditError as EditError  # its home before archiver.errors
from ..support import atomic
from .load import PUBLISHER_KEYS

#: Keys that hold the same field: setting ``publisher`` when ``outlet:`` is present
#: counts as present (and fills an empty ``outlet:`` in place).
DEFAULT_KEY_ALIASES: Mapping[str, Sequence[str]] = {"publisher": PUBLISHER_KEYS}

_NULL_TAG = "tag:yaml.org,2002:null"
_BOM = "\ufeff"


def _frontmatter_bounds(lines: list[str]) -> tuple[int, int]:
    """Indexes of the opening and closing ``---`` lines."""
    if not lines or lines[0].rstrip() != "---":
        raise EditError("no YAML frontmatter (the file does not start with a '---' line)")
    for i in range(1, len(lines)):
        if lines[i].rstrip() in ("---", "..."):
            return 0, i
    raise EditError("the frontmatter is not closed by a '---' line")


def _is_empty(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and (node.tag == _NULL_TAG or node.value.strip() == "")


def _plain_ok(value: str) -> bool:
    """True when ``value`` can be written unquoted and reads back as the same string."""
    if not value or value != value.strip() or "\n" in value:
        return False
    try:
        parsed: object = yaml.load(f"k: {value}\n", Loader=_Loader)
    except yaml.YAMLError:
        return False
    return parsed == {"k": value}


def render_scalar(value: str | int, style: str | None = None) -> str:
    """``value`` as a YAML scalar: ints plain; strings in ``style`` (``'``/``"``), else plain when safe."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise TypeError(f"only strings and integers can be written, got {type(value).__name__}")
    text = str(value)
    if isinstance(value, int) and not style:
        return text
    if style == '"':
        return json.dumps(text, ensure_ascii=False)
    if style == "'" or not _plain_ok(text):
        return "'" + text.replace("'", "''") + "'"
    return text


def _newline(line: str) -> str:
    if line.endswith("\r\n"):
        return "\r\n"
    if line.endswith("\n"):
        return "\n"
    return ""


def _item_style(item: yaml.MappingNode) -> str | None:
    """The quote style the item already uses for its string values (double, single or none)."""
    styles = [v.style for _, v in item.value if isinstance(v, yaml.ScalarNode) and v.tag.endswith(":str")]
    for quote in ('"', "'"):
        if quote in styles:
            return quote
    return None


def _last_content_line(item: yaml.MappingNode, fm_lines: list[str]) -> int:
    """Index (in ``fm_lines``) of the item's last line holding part of a key or value."""
    start = item.start_mark.line
    last = start
    for key, value in item.value:
        for node in (key, value):
            end = node.end_mark
            line = end.line - 1 if end.column == 0 and end.line > node.start_mark.line else end.line
            last = max(last, line)
    while last > start and not fm_lines[last].strip():
        last -= 1
    return last


def _sources_node(root: yaml.Node | None) -> yaml.SequenceNode:
    if not isinstance(root, yaml.MappingNode):
        raise EditError("the frontmatter is not a mapping of fields")
    for key, value in root.value:
        if isinstance(key, yaml.ScalarNode) and key.value == "sources":
            if not isinstance(value, yaml.SequenceNode):
                raise EditError("'sources' is not a list")
            if value.flow_style:
                raise EditError("'sources' is written as a flow list ([...]); write it as a block list to edit it")
            return value
    raise EditError("the frontmatter has no 'sources' list")


def set_source_fields(
    text: str,
    source_index: int,
    fields: Mapping[str, str | int],
    *,
    only_if_missing: bool = True,
    key_aliases: Mapping[str, Sequence[str]] = DEFAULT_KEY_ALIASES,
) -> str:
    """Return ``text`` with ``fields`` set on source ``source_index`` of the frontmatter.

    A field whose key (or an alias key, e.g. ``outlet`` for ``publisher``) already
    holds a value is left alone when ``only_if_missing`` (the default), otherwise
    its value is replaced in place (keeping a trailing comment and its quoting).
    A key present with an empty value gets the value on that line. A missing key
    is one new line after the item's last line. Returns ``text`` unchanged when
    there is nothing to do. Raises :class:`EditError` when the edit cannot be made.
    """
    bom = _BOM if text.startswith(_BOM) else ""
    body = text[len(bom):]
    lines = body.splitlines(keepends=True)
    open_i, close_i = _frontmatter_bounds(lines)
    fm_lines = lines[open_i + 1:close_i]
    item = _source_item(fm_lines, source_index)
    replacements, inserts = _plan_edits(item, source_index, fields, only_if_missing, key_aliases)
    if not replacements and not inserts:
        return text
    out_fm = _replaced(fm_lines, replacements)
    if inserts:
        _insert(out_fm, _insert_after(item, fm_lines, replacements), item, inserts, lines[close_i])
    return bom + "".join(lines[:open_i + 1] + out_fm + lines[close_i:])


#: planned in-place edits: fm line -> (end line, start col, end col, text)
_Replacements = dict[int, tuple[int, int, int, str]]


def _source_item(fm_lines: list[str], source_index: int) -> yaml.MappingNode:
    """The block mapping of source ``source_index`` in the frontmatter's lines (EditError when not editable)."""
    try:
        root = yaml.compose("".join(fm_lines), Loader=_Loader)
    except yaml.YAMLError as exc:
        raise EditError(f"invalid YAML frontmatter: {getattr(exc, 'problem', None) or exc}") from None
    sources = _sources_node(root)
    if not 0 <= source_index < len(sources.value):
        raise EditError(f"there is no source {source_index} (the list has {len(sources.value)})")
    item = sources.value[source_index]
    if isinstance(item, yaml.ScalarNode):
        raise EditError(f"source {source_index} is a bare URL; write it as '- url: ...' to add fields")
    if not isinstance(item, yaml.MappingNode):
        raise EditError(f"source {source_index} is not a mapping")
    if item.flow_style:
        raise EditError(f"source {source_index} is a flow mapping ({{...}}); write it in block style to add fields")
    if not item.value:
        raise EditError(f"source {source_index} is an empty mapping")
    return item


def _plan_edits(item: yaml.MappingNode, source_index: int, fields: Mapping[str, str | int], only_if_missing: bool,
                key_aliases: Mapping[str, Sequence[str]]) -> tuple[_Replacements, list[str]]:
    """The in-place value replacements and the new ``key: value`` lines that set ``fields`` on ``item``."""
    replacements: _Replacements = {}
    inserts: list[str] = []
    quote = _item_style(item)
    for name, value in fields.items():
        names = tuple(key_aliases.get(name, ())) or (name,)
        if name not in names:
            names = (name, *names)
        existing = [(k, v) for k, v in item.value if isinstance(k, yaml.ScalarNode) and k.value in names]
        present = [(k, v) for k, v in existing if not _is_empty(v)]
        if present and only_if_missing:
            continue
        target = present[0] if present else (existing[0] if existing else None)
        if target is None:
            inserts.append(f"{name}: {render_scalar(value, quote if isinstance(value, str) else None)}")
            continue
        _, node = target
        if not isinstance(node, yaml.ScalarNode) or node.style in ("|", ">"):
            raise EditError(f"source {source_index}: '{target[0].value}' is not a one-line value")
        style = node.style if node.style in ("'", '"') else (quote if isinstance(value, str) else None)
        replacements[node.start_mark.line] = (node.end_mark.line, node.start_mark.column, node.end_mark.column,
                                              render_scalar(value, style))
    return replacements, inserts


def _replaced(fm_lines: list[str], replacements: _Replacements) -> list[str]:
    """The frontmatter's lines with the in-place replacements made, bottom-up so line numbers stay valid."""
    out_fm = list(fm_lines)
    for start_line, (end_line, start_col, end_col, rendered) in sorted(replacements.items(), reverse=True):
        head = out_fm[start_line][:start_col]
        tail = out_fm[end_line][end_col:]
        if start_line == end_line and start_col == end_col and not head.endswith(" "):
            rendered = " " + rendered  # 'outlet:' with no value
        out_fm[start_line:end_line + 1] = [head + rendered + tail]
    return out_fm


def _insert_after(item: yaml.MappingNode, fm_lines: list[str], replacements: _Replacements) -> int:
    """The index, in the replaced lines, of the item's last line: new keys go after it."""
    # replacements never change the number of lines before the item's end except multi-line
    # values, which _plan_edits refuses for block scalars; recompute the end on the original lines
    last = _last_content_line(item, fm_lines)
    shift = sum((end - start) for start, (end, *_rest) in replacements.items() if start <= last)
    return last - shift


def _insert(out_fm: list[str], last: int, item: yaml.MappingNode, inserts: list[str], closing: str) -> None:
    """Add the ``inserts`` lines after line ``last``, at the item's indent (``closing``: the ``---`` line)."""
    newline = _newline(out_fm[last]) or _newline(closing) or "\n"
    if not _newline(out_fm[last]):
        out_fm[last] += newline
    indent = " " * item.value[0][0].start_mark.column
    out_fm[last + 1:last + 1] = [indent + line + newline for line in inserts]


def changed_lines(old: str, new: str) -> int:
    """Lines added or changed between two texts (what ``--write`` reports)."""
    matcher = difflib.SequenceMatcher(a=old.splitlines(), b=new.splitlines(), autojunk=False)
    return sum(max(i2 - i1, j2 - j1) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal")


# --------------------------------------------------------------------------- writing planned fills


@dataclass(slots=True)
class FileEdit:
    """What ``--write`` did to one file."""

    file: str
    path: str
    lines_changed: int = 0
    fields: int = 0
    skipped: list[str] = field(default_factory=list)


#: per event file (absolute path): ``(source index, {field: value})`` to fill where missing
Fills = dict[str, list[tuple[int, dict[str, str | int]]]]


def apply_fills(plan: Fills, display: Mapping[str, str] | None = None, *,
                only_if_missing: bool = True) -> list[FileEdit]:
    """Write the planned fields into the files (atomically); report what changed and what was skipped.
    ``only_if_missing=False`` replaces values already there (a relocation's new ``url``)."""
    edits: list[FileEdit] = []
    for path, items in plan.items():
        edit = FileEdit(file=(display or {}).get(path, path), path=path)
        edits.append(edit)
        try:
            data = Path(path).read_bytes()
            text = data.decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            edit.skipped.append(f"cannot read the file as UTF-8: {exc}")
            continue
        new = text
        for index, fields in items:
            try:
                updated = set_source_fields(new, index, fields, only_if_missing=only_if_missing)
            except EditError as exc:
                edit.skipped.append(str(exc))
                continue
            if updated != new:
                edit.fields += len(fields)
                new = updated
        if new != text:
            edit.lines_changed = changed_lines(text, new)
            atomic.write_bytes(path, new.encode("utf-8"))
    return edits
