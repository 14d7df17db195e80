"""``archiver pack``: the stored WARC files as one WACZ 1.1.1 package, which ReplayWeb.page opens.

The zip is written here (the ``wacz`` package would pull in ``frictionless`` and a dozen more
dependencies for the same few files):

* ``archive/<run>.warc.gz``: the runs' WARC files, stored uncompressed in the zip (they are
  gzipped record by record already, and readers seek into them by offset);
* ``indexes/index.cdx``: the CDXJ index of every response record (the runs' own ``.cdxj`` files,
  keyed again with the canonical SURT, merged and sorted; a WARC without one is indexed on the fly);
* ``pages/pages.jsonl``: a header line, then one page per captured URL (``url``, ``ts``; redirects are
  not pages);
* ``datapackage.json``: the resources with their ``sha256:`` hashes and sizes, and
  ``datapackage-digest.json``: the hash of ``datapackage.json``. A resource's ``name`` is its file
  name in lower case (the Data Package schema allows no capitals; py-wacz's ``wacz validate``
  rejects the package otherwise), its ``path`` the file as stored, ``archive/<WARC file name>``.

Written to a temp file and renamed: a killed pack leaves no half package under its name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import os
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import ArchiverError
from ..support import atomic
from ..support.surt import surt
from .warc import finish_unfinished, index_warc, warc_files

WACZ_VERSION = "1.1.1"


@dataclass(frozen=True, slots=True)
class Packed:
    path: Path
    warcs: int
    pages: int
    bytes: int


class NothingToPack(ArchiverError, ValueError):
    """No finished WARC file matches."""


def select_warcs(folder: Path, runs: Iterable[str] = ()) -> list[Path]:
    """The finished WARC files of ``folder`` (killed runs' files finished first); with ``runs``, those whose
    name contains one of them (a run stamp such as ``20250101T020000Z``, a shard tail, or a file name)."""
    finish_unfinished(folder)
    wanted = [r for r in runs if r]
    return [p for p in warc_files(folder) if not wanted or any(r in p.name for r in wanted)]


def resource_name(file_name: str) -> str:
    """A file's resource name in ``datapackage.json``: lower case, as the Frictionless Data Package schema
    requires (``^([-a-z0-9._/])+$``); the file keeps its own name in the zip (``archive/<name>``), the one
    the snapshots' ``warc_file`` and the index's ``filename`` give."""
    return file_name.lower()


def _index_lines(warc: Path) -> list[str]:
    """The CDXJ lines of ``warc``: its own index, each line keyed again with the canonical SURT (runs before
    it was the key wrote other keys, which replay tools miss), or the file indexed on the fly."""
    own = warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj")
    if not own.is_file():
        return index_warc(warc)
    lines = []
    for line in own.read_text("utf-8").splitlines():
        if line.strip():
            _key, ts, fields = line.split(" ", 2)
            lines.append(f"{surt(json.loads(fields)['url'])} {ts} {fields}")
    return lines


def _iso(ts14: str) -> str:
    return dt.datetime.strptime(ts14, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def pack(warcs: list[Path], out: Path, *, title: str = "archiver captures", now: dt.datetime | None = None) -> Packed:
    """Write the WACZ of ``warcs`` to ``out``."""
    if not warcs:
        raise NothingToPack("no WARC files to pack")
    now = now or dt.datetime.now(dt.UTC)
    names = [resource_name(w.name) for w in warcs]
    if len(set(names)) != len(names):
        raise ValueError("two WARC files have the same name (but for case)")
    lines: list[str] = []
    for warc in warcs:
        lines.extend(_index_lines(warc))
    lines.sort()
    pages: dict[str, dict[str, str]] = {}
    for line in lines:
        _key, ts, fields = line.split(" ", 2)
        entry = json.loads(fields)
        url = entry["url"]
        if str(entry.get("status", "")).startswith("3"):  # a redirect hop: the page is where it leads
            continue
        if url not in pages or ts > pages[url]["ts14"]:  # the newest capture of each page
            pages[url] = {"ts14": ts, "url": url}
    page_lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "All Pages"})]
    for n, (url, page) in enumerate(sorted(pages.items()), 1):
        page_lines.append(json.dumps({"id": f"p{n}", "url": url, "ts": _iso(page["ts14"])}))
    texts = {"indexes/index.cdx": "".join(line + "\n" for line in lines).encode("utf-8"),
             "pages/pages.jsonl": "".join(line + "\n" for line in page_lines).encode("utf-8")}
    resources = [{"name": resource_name(w.name), "path": f"archive/{w.name}", "hash": f"sha256:{_sha256_file(w)}",
                  "bytes": w.stat().st_size} for w in warcs]
    resources += [{"name": Path(path).name, "path": path, "hash": f"sha256:{hashlib.sha256(data).hexdigest()}",
                   "bytes": len(data)} for path, data in texts.items()]
    stamp = now.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    package = json.dumps({"profile": "data-package", "wacz_version": WACZ_VERSION, "title": title,
                          "created": stamp, "modified": stamp, "software": f"archiver {__version__}",
                          "resources": resources}, indent=2).encode("utf-8")
    digest = json.dumps({"path": "datapackage.json",
                         "hash": f"sha256:{hashlib.sha256(package).hexdigest()}"}, indent=2).encode("utf-8")
    fd, tmp = atomic.open_temp(out)
    try:
        with os.fdopen(fd, "wb") as fh, zipfile.ZipFile(fh, "w") as zf:
            for warc in warcs:
                zf.write(warc, f"archive/{warc.name}", compress_type=zipfile.ZIP_STORED)
            for path, data in texts.items():
                zf.writestr(path, data, compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("datapackage.json", package, compress_type=zipfile.ZIP_DEFLATED)
            zf.writestr("datapackage-digest.json", digest, compress_type=zipfile.ZIP_DEFLATED)
        os.replace(tmp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return Packed(path=out, warcs=len(warcs), pages=len(pages), bytes=out.stat().st_size)
