"""A night's raw captures as other web-archive tools read them: py-wacz's ``wacz validate`` accepts the
package of ``archiver pack``, pywb finds every capture through our CDXJ keys, and a cited URL that
redirects replays as its chain (the 3xx records, then the page).

The night: four pages on a loopback host, cited with the URL shapes whose keys used to differ from
pywb's (a trailing ``/``, a ``//``, a ``%3d``, query arguments out of order), and two cited URLs that
redirect (``/old`` 301 to the article; ``/chain`` 302, then 301, to the plain page).

The pywb test runs pywb (2.10) from its own virtual environment, not the suite's (pywb installs
brotlipy, whose ``brotli`` module would replace the one httpx decodes with): ``.ci/run`` makes it at
``~/.cache/archiver/pywb`` (``ARCHIVER_PYWB`` overrides the folder); without it that test is skipped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from warcio.archiveiterator import ArchiveIterator

from archiver.models import RawExchange
from archiver.snapshots.wacz import pack
from archiver.snapshots.warc import WarcRun
from archiver.support.surt import surt
from tests.snapshots.test_snapshot_cli import FAST, invoke, write_event
from tests.snapshots.test_warc import _capture
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import page

ARTICLE = page("riverton-gazette")
ECHO = page("echo-des-alpes-cp1252")
HARBOR = page("harbor-herald-table")
CONTINENTAL = page("continental-press")

#: path -> (status, body or Location, content type)
ROUTES: dict[str, tuple[int, bytes | str, str]] = {
    "/News/Article/": (200, ARTICLE.body, ARTICLE.content_type),
    "/plain?b=2&a=1": (200, ECHO.body, ECHO.content_type),
    "/two//slashes/page": (200, HARBOR.body, HARBOR.content_type),
    "/search?q=a%3db": (200, CONTINENTAL.body, CONTINENTAL.content_type),
    "/old": (301, "/News/Article/", ""),
    "/chain": (302, "/chain2", ""),
    "/chain2": (301, "/plain?b=2&a=1", ""),
}
CITED = ["/News/Article/", "/plain?b=2&a=1", "/two//slashes/page", "/search?q=a%3db", "/old", "/chain"]


async def _serve(req: Request, conn: Conn) -> None:
    status, body, content_type = ROUTES.get(req.path, (404, b"<html><title>Not found</title></html>", "text/html"))
    if isinstance(body, str):  # a redirect, with a small body as servers send
        await conn.send(status, f"<html>Moved to <a href='{body}'>here</a></html>", headers={"Location": body})
    else:
        await conn.send(status, body, content_type=content_type)


@dataclass(frozen=True)
class Night:
    root: Path
    host: FarmHost

    @property
    def warcs(self) -> list[Path]:
        return sorted((self.root / "warcs").glob("*.warc.gz"))

    def url(self, path: str) -> str:
        return self.host.url(path)


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Night]:
    farm = Farm().start()
    try:
        host = farm.add("replay", _serve)
        root = tmp_path_factory.mktemp("night")
        (root / "events").mkdir()
        write_event(root / "events", "2024-03-12--replay", [host.url(p) for p in CITED])
        code, _, err = invoke(["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out",
                               "--quiet", *FAST], root, env={"ARCHIVER_NOW": "2024-03-13T02:00:00Z"})
        assert code == 0, err
        code, _, err = invoke(["pack", "--snapshots", "snaps", "--out", "night.wacz"], root)
        assert code == 0, err
        yield Night(root, host)
    finally:
        farm.stop()


def _validate(wacz: Path) -> subprocess.CompletedProcess[str]:
    """py-wacz's own command line, ``wacz validate -f <file>`` (its console script's code: ``python -m wacz``
    exits 0 whatever the verdict)."""
    script = "import sys; from wacz.main import main; sys.exit(main())"
    return subprocess.run([sys.executable, "-c", script, "validate", "-f", str(wacz)], capture_output=True,
                          text=True, timeout=120, cwd=wacz.parent)


def _rewrite(wacz: Path, out: Path, edit: dict[str, bytes]) -> None:
    with zipfile.ZipFile(wacz) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info, edit.get(info.filename, src.read(info.filename)))


@pytest.mark.subprocess
def test_wacz_validate_accepts_the_packed_night(night: Night, tmp_path: Path) -> None:
    wacz = night.root / "night.wacz"
    done = _validate(wacz)
    assert done.returncode == 0 and "Validation succeeded" in done.stdout, done.stdout + done.stderr
    with zipfile.ZipFile(wacz) as zf:
        package = json.loads(zf.read("datapackage.json"))
    (warc,) = night.warcs
    # the file keeps its name in the zip (the one snapshots give); its resource name is lower case
    assert {"name": warc.name.lower(), "path": f"archive/{warc.name}"}.items() <= package["resources"][0].items()
    assert warc.name != warc.name.lower()

    # the validator is a real check: the resource named as the file (capitals), digest recomputed, fails
    package["resources"][0]["name"] = warc.name
    data = json.dumps(package).encode()
    digest = json.dumps({"path": "datapackage.json", "hash": f"sha256:{hashlib.sha256(data).hexdigest()}"})
    _rewrite(wacz, tmp_path / "upper.wacz", {"datapackage.json": data, "datapackage-digest.json": digest.encode()})
    done = _validate(tmp_path / "upper.wacz")
    assert done.returncode == 1 and "Frictionless has detected that this is an invalid package" in done.stdout


def _responses(warc: Path) -> list[tuple[str, int, str | None]]:
    out = []
    with open(warc, "rb") as fh:
        for record in ArchiveIterator(fh):
            if record.rec_type == "response":
                http = record.http_headers
                out.append((record.rec_headers.get_header("WARC-Target-URI"), int(http.get_statuscode()),
                            http.get_header("Location")))
    return out


def test_redirect_hops_are_their_own_records_before_the_page(night: Night) -> None:
    (warc,) = night.warcs
    responses = _responses(warc)
    old = responses.index((night.url("/old"), 301, "/News/Article/"))
    assert responses[old + 1] == (night.url("/News/Article/"), 200, None)
    chain = responses.index((night.url("/chain"), 302, "/chain2"))
    assert responses[chain + 1: chain + 3] == [(night.url("/chain2"), 301, "/plain?b=2&a=1"),
                                               (night.url("/plain?b=2&a=1"), 200, None)]
    with open(warc, "rb") as fh:  # each hop's request is recorded too, concurrent to its response
        requests = [r.rec_headers.get_header("WARC-Target-URI") for r in ArchiveIterator(fh) if r.rec_type == "request"]
    assert requests.count(night.url("/old")) == 1 and requests.count(night.url("/chain2")) == 1

    index = {}
    for line in warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj").read_text().splitlines():
        key, _ts, fields = line.split(" ", 2)
        entry = json.loads(fields)
        index[entry["url"]] = (key, entry["status"])
        with open(warc, "rb") as fh:  # the entry points at its record
            fh.seek(int(entry["offset"]))
            record = next(iter(ArchiveIterator(fh)))
            assert record.rec_headers.get_header("WARC-Target-URI") == entry["url"]
    assert index[night.url("/old")] == (surt(night.url("/old")), "301")
    assert index[night.url("/chain")] == (surt(night.url("/chain")), "302")
    assert index[night.url("/chain2")] == (surt(night.url("/chain2")), "301")
    assert index[night.url("/News/Article/")][1] == "200"

    with zipfile.ZipFile(night.root / "night.wacz") as zf:  # redirects are not pages of the package
        pages = [json.loads(line)["url"] for line in zf.read("pages/pages.jsonl").decode().splitlines()[1:]]
    assert sorted(pages) == sorted(night.url(p) for p in CITED[:4])


# --------------------------------------------------------------------------- pywb


def _pywb_python() -> Path | None:
    folder = Path(os.environ.get("ARCHIVER_PYWB") or Path.home() / ".cache" / "archiver" / "pywb")
    python = folder / "bin" / "python"
    return python if python.is_file() else None


#: run by pywb's interpreter: pywb's own CDXJ index source and exact-URL lookup, as its replay does
PYWB_LOOKUP = r"""
import json, sys
from pywb.warcserver.index.indexsource import FileIndexSource
from pywb.warcserver.index.query import CDXQuery
source = FileIndexSource(sys.argv[1])
found = {}
for url in json.loads(sys.argv[2]):
    query = CDXQuery({"url": url, "matchType": "exact"})
    found[url] = [(cdx["status"], cdx["filename"], cdx["offset"]) for cdx in source.load_index(query.params)]
print(json.dumps(found))
"""


@pytest.mark.subprocess
def test_pywb_finds_every_capture_through_our_index(night: Night) -> None:
    python = _pywb_python()
    if python is None:
        pytest.skip("pywb is not installed: .ci/run makes ~/.cache/archiver/pywb (python3 -m venv, pip install "
                    "pywb==2.10.0); ARCHIVER_PYWB names another folder")
    (warc,) = night.warcs
    cdxj = warc.with_name(warc.name.removesuffix(".warc.gz") + ".cdxj")
    entries = [json.loads(line.split(" ", 2)[2]) for line in cdxj.read_text().splitlines()]
    # every capture, looked up by the URL as written in its record (pywb computes the key itself)
    urls = [e["url"] for e in entries]
    done = subprocess.run([str(python), "-c", PYWB_LOOKUP, str(cdxj), json.dumps(urls)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    # the 4 cited pages, the 2 pages reached by redirects (captured again for their cited URL), 3 redirect hops
    assert len(urls) == 9 and sorted(e["status"] for e in entries) == ["200"] * 6 + ["301", "301", "302"]
    for entry in entries:
        assert [entry["status"], entry["filename"], entry["offset"]] in found[entry["url"]], entry["url"]


def test_pack_keys_an_older_run_s_index_again(tmp_path: Path) -> None:
    """A run from before the canonical key wrote its .cdxj with other keys: the package's index has pywb's."""
    run = WarcRun(tmp_path, dt.datetime(2024, 3, 13, 2, tzinfo=dt.UTC))
    urls = ["https://www.example.com/Story/", "https://example.com//a//b?z=1&q=a%3db"]
    for url in urls:
        run.write(_capture("live", url, RawExchange(url=url, headers=(("Content-Type", "text/html"),)), b"<p>x</p>"))
    path = run.close()
    assert path is not None
    old_keys = {"https://www.example.com/Story/": "com,example)/story/",
                "https://example.com//a//b?z=1&q=a%3db": "com,example)//a//b?q=a%3db&z=1"}
    lines = [line.split(" ", 2) for line in run.index_path.read_text("utf-8").splitlines()]
    run.index_path.write_text("".join(f"{old_keys[json.loads(f)['url']]} {ts} {f}\n" for _k, ts, f in lines))
    pack([path], tmp_path / "old.wacz")
    with zipfile.ZipFile(tmp_path / "old.wacz") as zf:
        index = [line.split(" ", 2) for line in zf.read("indexes/index.cdx").decode().splitlines()]
    assert sorted((key, json.loads(f)["url"]) for key, _ts, f in index) == sorted(
        (surt(url), url) for url in urls)
    assert {surt(url) for url in urls} == {"com,example)/story", "com,example)/a/b?q=a=b&z=1"}
