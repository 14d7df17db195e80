"""Charset detection for snapshot extraction: which codec decodes a body, and why.

Order: a byte-order mark, then the Content-Type charset, then ``<meta charset>``, then
sniffing (charset_normalizer). A declaration that the bytes contradict (a page served as
UTF-8 that is really windows-1252) is not trusted. ISO-8859-1 and US-ASCII labels decode as
windows-1252 and Shift_JIS as its Windows superset cp932, as browsers do (WHATWG Encoding
Standard). :func:`decode` returns the text with the codec and how it was chosen (provenance).
"""

from __future__ import annotations

import codecs
import re

_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?\s*([^;\s\"']+)", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([a-zA-Z0-9_.:-]+)", re.I)
#: labels browsers decode with a superset codec (WHATWG Encoding Standard)
_SUPERSETS = {"latin-1": "cp1252", "iso8859-1": "cp1252", "ascii": "cp1252", "cp1252": "cp1252",
              "shift_jis": "cp932", "cp932": "cp932", "euc_kr": "cp949", "gb2312": "gb18030", "gbk": "gb18030",
              "iso8859-9": "cp1254", "iso8859-11": "cp874", "tis-620": "cp874", "big5": "big5hkscs"}
_SINGLE_BYTE_WESTERN = frozenset({"cp1252", "latin-1", "iso8859-1", "iso8859-15", "ascii"})


def codec_for(label: str | None) -> str | None:
    """The Python codec to decode a declared charset label with, or None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if label in ("x-sjis", "sjis", "shift-jis", "windows-31j", "ms_kanji", "csshiftjis"):
        label = "shift_jis"
    if label in ("x-user-defined", "replacement"):
        return None
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return _SUPERSETS.get(name, name)


def _bom(body: bytes) -> str | None:
    if body.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    return None


def _strict_ok(body: bytes, encoding: str) -> bool:
    """The body decodes without errors (a character cut by the download cap is fine)."""
    try:
        body.decode(encoding)
        return True
    except UnicodeDecodeError as exc:
        return exc.start >= len(body) - 4 and "end of data" in str(exc.reason)
    except LookupError:
        return False


def _sniff(body: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes
    except ImportError:  # pragma: no cover - a dependency of trafilatura and httpx
        return None
    best = from_bytes(body[: 1024 * 1024]).best()
    if best is None:
        return None
    name = codec_for(best.encoding)
    if name is None:
        return None
    if name in _SINGLE_BYTE_WESTERN:
        return "cp1252"  # as browsers decode Latin-1
    try:
        if body.decode(name, "replace") == body.decode("cp1252", "replace"):
            return "cp1252"  # the same text either way: name the web's default
    except LookupError:
        return None
    return name


def _is_ascii(body: bytes) -> bool:
    return body.isascii()


def detect_encoding(body: bytes, content_type: str | None, *, html: bool = True) -> tuple[str, str]:
    """The codec to decode ``body`` with, and how it was chosen (for provenance)."""
    if bom := _bom(body):
        return bom, "byte-order mark"
    declared: list[tuple[str, str]] = []
    if content_type and (m := _HEADER_CHARSET.search(content_type)) and (name := codec_for(m.group(1))):
        declared.append((name, "Content-Type header"))
    if html and (m2 := _META_CHARSET.search(body[:8192])) and (name := codec_for(m2.group(1).decode("ascii"))):
        # a <meta> found by reading the bytes as ASCII cannot mean UTF-16 (HTML standard: read as UTF-8)
        declared.append(("utf-8" if name.startswith("utf-16") else name, "<meta> charset"))
    for name, where in declared:
        if name in ("utf-8", "utf-16", "utf-16-le", "utf-16-be"):
            if _strict_ok(body, name):
                return name, where
            continue  # the declaration lies: try the next one, then sniff
        if name == "cp1252":
            if not _is_ascii(body) and _strict_ok(body, "utf-8"):
                # windows-1252 text is practically never valid UTF-8 with multi-byte characters
                return "utf-8", f"{where} says {name} but the bytes are UTF-8"
            return name, where
        if _strict_ok(body, name):
            return name, where
    if _is_ascii(body) or _strict_ok(body, "utf-8"):
        how = "valid UTF-8" if not declared else f"{declared[0][1]} ({declared[0][0]}) contradicted; valid UTF-8"
        return "utf-8", how
    sniffed = _sniff(body)
    lie = f"{declared[0][1]} ({declared[0][0]}) contradicted; " if declared else ""
    if sniffed:
        return sniffed, f"{lie}sniffed"
    return "cp1252", f"{lie}fallback"


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def decode(body: bytes, content_type: str | None, *, html: bool = True) -> tuple[str, str, str]:
    """``(text, encoding, how)``: the body decoded, undecodable bytes replaced."""
    encoding, how = detect_encoding(body, content_type, html=html)
    text = body.decode(encoding, "replace")
    return _CONTROL.sub("", text), encoding, how
