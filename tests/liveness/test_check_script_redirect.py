"""Issue 19: a deep link that answers a page whose only content is a script sending the browser to the home
page is a soft 404, also when the page shows no text at all (no title, an empty body, a ``<noscript>`` only),
in the ways the real web writes it. And what must stay alive: a JavaScript app shell, a frame-buster or a
router's conditional redirect, a script to another deep page, the home page itself, a page with real text.

Through the checker against loopback pages: one site serves each variant under ``/v/<name>/story``."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.farm import Conn, FarmHost, Request
from tests.support.farm_sites import build_sites, check_one, page, prose

APP_SHELL = (Path(__file__).resolve().parent.parent / "fixtures" / "pages" / "js-app-shell.html").read_text("utf-8")

#: variant name -> (page, the script the evidence quotes); ``{origin}`` is the serving host's origin
FORWARDS: dict[str, tuple[str, str]] = {
    "window-location": ('<html><head><script>window.location = "/";</script></head><body></body></html>',
                        'window.location = "/"'),
    "location-href-single-quotes": ("<html><head><script>window.location.href='/'</script></head><body></body></html>",
                                    "window.location.href='/'"),
    "location-replace-single-quotes": ("<!doctype html><html><head><script>location.replace('/');</script></head>"
                                       "<body></body></html>", "location.replace('/')"),
    "location-assign": ('<html><head><script>location.assign("/");</script></head><body></body></html>',
                        'location.assign("/")'),
    "document-location-absolute": ('<html><head><script>document.location="{origin}/";</script></head>'
                                   "<body></body></html>", 'document.location="{origin}/"'),
    "top-location": ('<html><head><script type="text/javascript">top.location = "/";</script></head>'
                     "<body></body></html>", 'top.location = "/"'),
    "body-onload": ("<html><head></head><body onload=\"window.location.href='/'\"></body></html>",
                    "window.location.href='/'"),
    "body-onload-escaped": ('<html><body onload="location.replace(&quot;/&quot;)"></body></html>',
                            'location.replace("/")'),
    "title-and-empty-body": ('<html><head><title>Riverton Post</title><script>location.replace("/");</script>'
                             "</head><body></body></html>", 'location.replace("/")'),
    "noscript-only": ('<html><head><script>window.location.replace("/");</script></head>'
                      "<body><noscript>Please enable JavaScript to continue.</noscript></body></html>",
                      'window.location.replace("/")'),
    "script-in-head-only": ('<html><head><meta charset="utf-8"><script>location.href = "/";</script></head></html>',
                            'location.href = "/"'),
    "bare-script": ('<script>window.location="/"</script>', 'window.location="/"'),
    "after-timeout-with-comment": ("<html><head><script>\n// send readers to the front page\n"
                                   "setTimeout(function () { window.location.href = \"/\"; }, 0);\n</script></head>"
                                   "<body></body></html>", 'window.location.href = "/"'),
}

#: pages that must stay alive
STAYS: dict[str, str] = {
    "app-shell": APP_SHELL,
    "app-shell-with-router-guard": APP_SHELL.replace(
        "<script src=", "<script>if (!window.fetch) { window.location.href = '/'; }</script><script src=", 1),
    "frame-buster": ('<html><head><script>if (top !== self) top.location = "/";</script></head>'
                     "<body></body></html>"),
    "to-another-deep-page": ('<html><head><script>location.replace("/2020/05/council-story");</script></head>'
                             "<body></body></html>"),
    "real-text": page("Council approves budget | Riverton Post", prose("script-real-text", 80),
                      head_extra='<script>window.location.href = "/";</script>'),
}


async def _forward_site(req: Request, conn: Conn) -> None:
    parts = req.path.split("?", 1)[0].strip("/").split("/")
    origin = f"http://{req.headers.get('host', '')}"
    if parts == [""]:
        await conn.send(200, page("Riverton Post: front page", prose("forward-home", 300)))
    elif len(parts) == 3 and parts[0] == "v" and parts[1] in FORWARDS:
        await conn.send(200, FORWARDS[parts[1]][0].replace("{origin}", origin))
    elif len(parts) == 3 and parts[0] == "v" and parts[1] in STAYS:
        await conn.send(200, STAYS[parts[1]])
    else:
        await conn.send(404, page("404 Not Found", "Nothing here"))


async def _script_home(req: Request, conn: Conn) -> None:
    """A site whose home page forwards to itself by script (a reload), and whose other paths are 404."""
    if req.path == "/":
        await conn.send(200, '<html><head><script>location.replace("/");</script></head><body></body></html>')
    else:
        await conn.send(404, page("404 Not Found", "Nothing here"))


_SITES: dict[str, FarmHost] = {}


@pytest.fixture(scope="module")
def site() -> dict[str, FarmHost]:
    if not _SITES:
        farm = build_sites().farm
        _SITES["forward"] = farm.add("forward", _forward_site)
        _SITES["script_home"] = farm.add("script_home", _script_home)
    return _SITES


@pytest.mark.parametrize("name", sorted(FORWARDS))
async def test_script_redirect_to_home_is_soft_404(site: dict[str, FarmHost], name: str) -> None:
    host = site["forward"]
    result = await check_one(host.url(f"/v/{name}/story"))
    script = FORWARDS[name][1].replace("{origin}", host.origin)
    assert result.status == "soft_404", result
    assert result.http_status == 200
    assert result.evidence == f"redirected by a script ({script}) to the site's home page ({host.url('/')})"


@pytest.mark.parametrize("name", sorted(STAYS))
async def test_pages_that_are_not_forwarding_stay_alive(site: dict[str, FarmHost], name: str) -> None:
    result = await check_one(site["forward"].url(f"/v/{name}/story"))
    assert result.status == "alive", result


async def test_home_page_reloading_itself_stays_alive(site: dict[str, FarmHost]) -> None:
    result = await check_one(site["script_home"].url("/"))
    assert result.status == "alive", result
