"""The WACZ of ``archiver pack`` opened in ReplayWeb.page, in a real browser (headless Chromium over DevTools).

Three pages with distinctive text are captured from a loopback farm by ``archiver check`` and packed,
with a fourth cited URL that answers 301 to the first page (its hop is a WARC record of its own).
A second loopback host serves the WACZ, ReplayWeb.page's ``ui.js`` and ``sw.js`` (the npm package
``replaywebpage``, the build replayweb.page runs) and a page embedding ``<replay-web-page>``; its
service worker registers (127.0.0.0/8 is a secure context) and replays each capture in an iframe.
The test waits, with a deadline, until each page's distinctive text is rendered in the replay frame, and
until the redirecting URL's replay has followed its recorded 301 to the first page's text.

Nothing may leave loopback: Chromium sends every non-loopback request to a recording proxy on
loopback (which answers 502) and resolves no host name; the test asserts the proxy saw nothing
during the replay, then that it does see a probe request (so the guard is live).

Skipped where Chromium is not installed, or where the ReplayWeb.page tarball is absent: set
``ARCHIVER_REPLAYWEBPAGE`` to the ``replaywebpage-<version>.tgz`` from ``npm pack replaywebpage@2.5.3``
(or to its extracted ``package/`` folder); the default is
``~/.cache/archiver/replaywebpage/replaywebpage-2.5.3.tgz``, where ``.ci/run`` puts it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.snapshots.test_snapshot_cli import FAST, invoke, write_event
from tests.support.cdp import Browser, Page, find_chromium
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import articles

RWP_VERSION = "2.5.3"
DEFAULT_TARBALL = Path.home() / ".cache" / "archiver" / "replaywebpage" / f"replaywebpage-{RWP_VERSION}.tgz"


def replaywebpage_dir() -> tuple[Path | None, str]:
    """The extracted ``package/`` folder of ReplayWeb.page (ui.js, sw.js), or None and why not."""
    given = os.environ.get("ARCHIVER_REPLAYWEBPAGE")
    source = Path(given).expanduser() if given else DEFAULT_TARBALL
    if source.is_dir():
        folder = source / "package" if (source / "package").is_dir() else source
        if (folder / "ui.js").is_file() and (folder / "sw.js").is_file():
            return folder, ""
        return None, f"{source} has no ui.js and sw.js of ReplayWeb.page"
    if not source.is_file():
        return None, (f"ReplayWeb.page is not available: no {source} (`npm pack replaywebpage@{RWP_VERSION}` puts it "
                      "there; or set ARCHIVER_REPLAYWEBPAGE to the tarball)")
    cache = source.with_name(source.name.removesuffix(".tgz"))  # extracted once, next to the tarball
    if not (cache / "package" / "sw.js").is_file():
        try:
            staging = Path(tempfile.mkdtemp(prefix=".extract-", dir=source.parent))
            with tarfile.open(source) as tar:
                tar.extractall(staging, filter="data")
            if cache.exists():
                shutil.rmtree(cache)
            staging.rename(cache)
        except (OSError, tarfile.TarError) as e:
            return None, f"cannot extract {source}: {e}"
    folder = cache / "package"
    if not ((folder / "ui.js").is_file() and (folder / "sw.js").is_file()):
        return None, f"{source} holds no package/ui.js and package/sw.js"
    return folder, ""


RWP, WHY_NOT = replaywebpage_dir() if find_chromium() is not None else (None, "chromium is not installed")
pytestmark = [pytest.mark.browser, pytest.mark.subprocess, pytest.mark.skipif(RWP is None, reason=WHY_NOT)]


@dataclass(frozen=True)
class Captured:
    path: str
    body: bytes
    content_type: str
    marker: str  # a sentence found nowhere else


def _with_marker(body: bytes, encoding: str, marker: str) -> bytes:
    text = body.decode(encoding)
    i = text.lower().rindex("</p>") + len("</p>")  # after the article's last paragraph
    return (text[:i] + f"\n<p>{html.escape(marker)}</p>" + text[i:]).encode(encoding, "xmlcharrefreplace")


PICKED = {p.name: p for p in articles()}
PAGES = [Captured(f"/{year}/{name}", _with_marker(p.body, p.encoding, marker), p.content_type, marker)
         for year, name, marker in (
             ("2024/03", "riverton-gazette", "Replay check: the Riverton ferry ledger lists 4,812 crossings."),
             ("2024/02", "ledger-review", "Replay check: the Ledger counted 73 sealed warrants in Dunmore."),
             ("2023/11", "echo-des-alpes-cp1252",
              "Contrôle de relecture : la commune d'Évolène a reçu 19 plaintes."))
         for p in (PICKED[name],)]


#: a cited URL that moved: 301 to the first page
REDIRECT = "/go/riverton"


@dataclass
class Site:
    news: FarmHost
    replay: FarmHost
    egress: FarmHost
    files: dict[str, tuple[bytes, str]]


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    m = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
    if not m or (not m.group(1) and not m.group(2)):
        return None
    if not m.group(1):  # the last N bytes
        return max(0, size - int(m.group(2))), size - 1
    start = int(m.group(1))
    end = min(int(m.group(2)), size - 1) if m.group(2) else size - 1
    return (start, end) if start <= end else None


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    files: dict[str, tuple[bytes, str]] = {}
    by_path = {c.path: c for c in PAGES}

    async def news(req: Request, conn: Conn) -> None:
        page = by_path.get(req.path)
        if req.path == REDIRECT:
            await conn.send(301, b"<html>Moved</html>", headers={"Location": PAGES[0].path})
        elif page is None:
            await conn.send(404, b"<html><head><title>Not found</title></head><body>Not found</body></html>")
        else:
            await conn.send(200, page.body, content_type=page.content_type)

    async def replay(req: Request, conn: Conn) -> None:  # static files, with byte ranges as ReplayWeb.page asks
        found = files.get(req.path.split("?", 1)[0])
        if found is None:
            await conn.send(404, b"not here", content_type="text/plain")
            return
        data, content_type = found
        head = {"Content-Type": content_type, "Accept-Ranges": "bytes", "Cache-Control": "no-store"}
        status, part = 200, data
        if "range" in req.headers:
            span = _byte_range(req.headers["range"], len(data))
            if span is None:
                await conn.send_head(416, {"Content-Range": f"bytes */{len(data)}", "Content-Length": "0"})
                return
            status, part = 206, data[span[0]:span[1] + 1]
            head["Content-Range"] = f"bytes {span[0]}-{span[1]}/{len(data)}"
        head["Content-Length"] = str(len(part))
        await conn.send_head(status, head)
        if req.method != "HEAD":
            await conn.write(part)

    async def egress(req: Request, conn: Conn) -> None:  # the proxy every non-loopback request goes to
        await conn.send(502, b"no traffic leaves loopback in tests", content_type="text/plain")

    farm = Farm().start()
    try:
        yield Site(farm.add("news", news), farm.add("replay", replay), farm.add("egress", egress), files)
    finally:
        farm.stop()


# Chromium's own services (component updater clock, account and autofill endpoints) still call home despite
# cdp.FLAGS; the proxy refuses them (502) like everything else, but they are not the replay's doing.
BROWSER_SERVICES = re.compile(r"(?:^|\.)(?:google\.com|googleapis\.com|gstatic\.com)$")


def _page_egress(proxy: FarmHost) -> list[str]:
    """The requests that reached the proxy, but for Chromium's own services."""
    out = []
    for r in proxy.hits():
        target = r.path if r.method == "CONNECT" else urlsplit(r.path).netloc
        if not BROWSER_SERVICES.search(target.rsplit(":", 1)[0]):
            out.append(f"{r.method} {r.path}")
    return out


def _frame_urls(tree: dict[str, object]) -> Iterator[tuple[str, str]]:
    frame = tree["frame"]
    assert isinstance(frame, dict)
    yield frame["id"], frame["url"]
    for child in tree.get("childFrames", []):  # type: ignore[attr-defined]
        yield from _frame_urls(child)


def _replayed_text(page: Page, url: str, deadline: float) -> str:
    """The rendered text of the frame replaying ``url`` (polled until it shows text, or the deadline)."""
    last = ""
    while time.monotonic() < deadline:
        tree = page.send("Page.getFrameTree")["frameTree"]
        for frame_id, frame_url in _frame_urls(tree):
            if "mp_/" in frame_url and frame_url.endswith(url):
                try:
                    world = page.send("Page.createIsolatedWorld", frameId=frame_id, worldName="archiver-test")
                    result = page.send("Runtime.evaluate", contextId=world["executionContextId"], returnByValue=True,
                                       expression="document.body ? document.body.innerText : ''")
                except RuntimeError:  # the frame navigated away meanwhile
                    continue
                last = str(result.get("result", {}).get("value") or "")
                if last.strip():
                    return last
        page.drain(0.25)  # wait for the browser's next events, not a fixed sleep
    return last


def test_replaywebpage_replays_the_packed_wacz(site: Site, tmp_path: Path) -> None:
    assert RWP is not None
    events = tmp_path / "events"
    events.mkdir()
    urls = [site.news.url(c.path) for c in PAGES]
    write_event(events, "2024-03-12--replay", [*urls, site.news.url(REDIRECT)])
    code, _, err = invoke(["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet",
                           *FAST], tmp_path, env={"ARCHIVER_NOW": "2024-03-13T02:00:00Z"})
    assert code == 0, err
    code, out, err = invoke(["pack", "--snapshots", "snaps", "--out", "night.wacz"], tmp_path)
    assert code == 0, err
    assert "3 pages from 1 WARC file(s)" in out

    def embed(url: str) -> tuple[bytes, str]:
        """A page embedding ReplayWeb.page on ``url`` of the WACZ (one page per capture: a fresh load each)."""
        page = ("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>archiver replay</title>"
                "<script src=\"/ui.js\"></script></head><body style=\"margin:0;height:100vh\">"
                f"<replay-web-page id=\"rwp\" source=\"/night.wacz\" url=\"{html.escape(url)}\" "
                "replayBase=\"/replay/\" style=\"height:100vh\"></replay-web-page></body></html>")
        return page.encode("utf-8"), "text/html; charset=utf-8"

    site.files.update({
        "/": embed(""),
        **{f"/view/{i}": embed(url) for i, url in enumerate(urls)},
        "/view/redirect": embed(site.news.url(REDIRECT)),
        "/ui.js": ((RWP / "ui.js").read_bytes(), "application/javascript"),
        "/replay/sw.js": ((RWP / "sw.js").read_bytes(), "application/javascript"),  # scope /replay/
        "/night.wacz": ((tmp_path / "night.wacz").read_bytes(), "application/wacz+zip"),
    })

    checked = len(site.news.hits())  # the check's own requests (pages and its soft-404 probe)
    proxy = f"{site.egress.ip}:{site.egress.port}"
    # every request to a non-loopback address goes to the recording proxy; no host name resolves
    flags = [f"--proxy-server=http://{proxy}",
             "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.*"]
    with Browser(extra_flags=flags) as browser:
        page = browser.page()
        page.navigate(site.replay.url("/"))
        assert page.evaluate("window.isSecureContext") is True
        for i, (captured, url) in enumerate(zip(PAGES, urls, strict=True)):
            # the component's url attribute picks the capture: each one on a page of its own (switching the
            # attribute in place raced the previous replay's load on a busy machine)
            page.navigate(site.replay.url(f"/view/{i}"))
            text = _replayed_text(page, url, time.monotonic() + 30)
            if captured.marker not in text:
                # a first load can race the service worker's activation (the replay frame's request then
                # reaches our server instead of the worker and stays blank): a reader would reload
                page.navigate(site.replay.url(f"/view/{i}"))
                text = _replayed_text(page, url, time.monotonic() + 60)
            assert captured.marker in text, (url, text[:500], page.console_errors())
        # the moved URL replays as its chain: the recorded 301, then the first page (the frame ends up on it)
        page.navigate(site.replay.url("/view/redirect"))
        text = _replayed_text(page, urls[0], time.monotonic() + 30)
        if PAGES[0].marker not in text:
            page.navigate(site.replay.url("/view/redirect"))
            text = _replayed_text(page, urls[0], time.monotonic() + 60)
        assert PAGES[0].marker in text, (text[:500], page.console_errors())
        assert page.evaluate("navigator.serviceWorker.getRegistration('/replay/').then(r => !!(r && r.active))")
        assert site.replay.hits("/night.wacz")  # the archive came from our server, read by the browser
        assert len(site.news.hits()) == checked  # the replay never fetched the live pages

        assert _page_egress(site.egress) == []  # nothing the replay did tried to leave loopback
        page.evaluate("fetch('http://probe.example/x', {mode: 'no-cors'}).catch(() => null)")
        deadline = time.monotonic() + 10
        while not _page_egress(site.egress) and time.monotonic() < deadline:
            page.drain(0.1)
        assert any("probe.example" in r.path for r in site.egress.hits()), "the egress guard would miss a leak"
