"""The standard loopback web used by the liveness tests, and helpers.

:func:`build_sites` starts the farm once per process (test modules wrap it in a
``sites`` fixture), so modules can run in any order or alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import shutil
import ssl
import subprocess
import tempfile
import zlib
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import brotli

from archiver.config import Settings
from archiver.liveness.check import Checker
from archiver.models import CheckResult, Link
from archiver.timeline.catalog import canonical_url, host_of, registrable_domain
from tests.support.farm import Conn, Farm, FarmHost, Request, free_ip

_VOCAB_TEXT = ("council budget river school vote report minister court ruling company contract police officer city "
         "agency data privacy surveillance camera protest union worker hospital election senator bill law "
         "investigation document email meeting spokesperson statement policy program funding million federal "
         "state county judge appeal evidence witness hearing committee chairman director website network "
         "platform software algorithm facial recognition immigration border family children detention center "
         "lawsuit settlement regulator fine penalty audit inspector journalist newspaper interview source "
         "record archive history decade century morning evening weekend january february march april")
VOCAB = _VOCAB_TEXT.split()


def prose(seed: str, words: int = 350) -> str:
    rnd = random.Random(seed)
    sentences, current = [], []
    for _ in range(words):
        current.append(rnd.choice(VOCAB))
        if len(current) >= rnd.randint(8, 18):
            sentences.append(" ".join(current).capitalize() + ".")
            current = []
    return " ".join(sentences)


NAV = ("<header><nav><a href='/'>Home</a> <a href='/news'>News</a> <a href='/opinion'>Opinion</a> "
       "<a href='/sport'>Sport</a> <a href='/about'>About us</a></nav></header>")
FOOTER = "<footer>Copyright 2024 Example Media. All rights reserved. Privacy policy. Terms of use.</footer>"


def page(title: str, body: str, h1: str | None = None, head_extra: str = "") -> str:
    heading = f"<h1>{h1}</h1>" if h1 else ""
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title>{head_extra}</head>"
            f"<body>{NAV}<main>{heading}<article><p>{body}</p></article></main>{FOOTER}</body></html>")


def article(slug: str, site: str = "Example News") -> str:
    title = slug.replace("-", " ").capitalize()
    return page(f"{title} | {site}", prose(slug), h1=title)


ARTICLE_404 = page(
    "How to fix a 404 error: page not found explained | Example News",
    "A 404 error means page not found. When a server answers 404 Not Found, the page you were looking for "
    "could not be found. " + prose("404-article", 250) + " Readers who see a page not found message or a "
    "404 error should check the address. Sorry, the page you requested was not found is a common message.",
    h1="What a 404 error means, and why the page you wanted was not found")

CHALLENGE = ("<!DOCTYPE html><html lang='en-US'><head><title>Just a moment...</title></head><body>"
             "<div class='main-wrapper'><h1>Checking if the site connection is secure</h1></div>"
             "<script>(function(){window._cf_chl_opt={cvId: '3',cZone: 'example'};}());</script></body></html>")
ATTENTION = ("<!DOCTYPE html><html><head><title>Attention Required! | Cloudflare</title></head><body>"
             "<h1>Sorry, you have been blocked</h1><p>You are unable to access example.org</p></body></html>")
PDF = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj "
       b"3 0 obj<</Type/Page/MediaBox[0 0 612 792]/Parent 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n")
LATIN1 = page("Caf\u00e9 d\u00e9j\u00e0 vu: na\u00efve r\u00e9sum\u00e9s \u2013 \u00c9dition sp\u00e9ciale",
              "Le caf\u00e9 de la r\u00e9publique a ferm\u00e9. " + prose("latin", 200),
              h1="Caf\u00e9 d\u00e9j\u00e0 vu").replace("charset='utf-8'", "charset='windows-1252'")
SPA = ("<!doctype html><html><head><title>Example App</title><script defer src='/static/js/main.4f3a.js'>"
       "</script></head><body><noscript>You need to enable JavaScript to run this app.</noscript>"
       "<div id='root'></div></body></html>")


@cache
def gzip_bomb() -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = b"\0" * (1 << 20)
    return b"".join(comp.compress(zeros) for _ in range(64)) + comp.flush()  # 64 MB of zeros, ~65 KB


@cache
def brotli_bomb() -> bytes:
    return brotli.compress(b"\0" * (64 << 20), quality=5)  # 64 MB of zeros, ~100 bytes


class Counter:
    """Per-path call counts, so 'fails once' behaviours are per test (tests use unique paths)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def bump(self, path: str) -> int:
        self.counts[path] = self.counts.get(path, 0) + 1
        return self.counts[path]


async def wait_for_close(conn: Conn, seconds: float) -> None:
    """Sleep until the client goes away (or ``seconds`` pass)."""
    with contextlib.suppress(TimeoutError, ConnectionError):
        await asyncio.wait_for(conn.reader.read(1), seconds)


@dataclass
class Sites:
    farm: Farm
    news: FarmHost
    soft: FarmHost  # soft-404 host: unknown paths answer 200 with a neutral "could not locate" template
    softtitle: FarmHost  # soft-404 host whose template says "Page not found" in the title
    homesoft: FarmHost  # unknown paths answer 200 with the home page
    spa: FarmHost  # every path: the same JavaScript shell
    slow: FarmHost  # every answer takes 0.25 s: per-host concurrency
    gap: FarmHost  # fast answers: politeness gap
    busy: FarmHost  # scheduler interleaving
    tls_bad: FarmHost | None = None  # self-signed certificate
    tls_good: FarmHost | None = None  # certificate trusted through SSL_CERT_FILE
    cafile: Path | None = None
    refused: tuple[str, int] = ("127.0.0.1", 1)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def refused_url(self) -> str:
        ip, port = self.refused
        return f"http://{ip}:{port}/article"


def news_handler(stats: dict[str, Any]) -> Any:
    counter = Counter()

    async def handle(req: Request, conn: Conn) -> None:
        p = req.path.split("?", 1)[0]
        if p == "/":
            await conn.send(200, page("Example News: front page", prose("home", 400)))
        elif p.startswith("/articles/how-to-fix-404"):
            await conn.send(200, ARTICLE_404)
        elif p.startswith("/articles/"):
            await conn.send(200, article(p.rsplit("/", 1)[-1]))
        elif p.startswith("/gone-404/"):
            await conn.send(404, page("Not found", "No such page"))
        elif p.startswith("/gone-410/"):
            await conn.send(410, page("Gone", "This page was removed"))
        elif p.startswith("/head-405/") or p.startswith("/head-404/"):
            if req.method == "HEAD":
                await conn.send(405 if "405" in p else 404, "")
            else:
                await conn.send(200, article(p.rsplit("/", 1)[-1]))
        elif p.startswith("/old/"):
            await conn.send(301, "", {"Location": "/articles/" + p.rsplit("/", 1)[-1]})
        elif p.startswith("/chain/"):
            await conn.send(302, "", {"Location": "/chain2/" + p.rsplit("/", 1)[-1]})
        elif p.startswith("/chain2/"):
            await conn.send(307, "", {"Location": "/chain3/" + p.rsplit("/", 1)[-1]})
        elif p.startswith("/chain3/"):
            await conn.send(301, "", {"Location": "/articles/" + p.rsplit("/", 1)[-1]})
        elif p.startswith("/trailing/") and not p.endswith("/"):
            await conn.send(301, "", {"Location": p + "/"})
        elif p.startswith("/trailing/"):
            await conn.send(200, article(p.rstrip("/").rsplit("/", 1)[-1]))
        elif p == "/loop/a":
            await conn.send(302, "", {"Location": "/loop/b"})
        elif p == "/loop/b":
            await conn.send(302, "", {"Location": "/loop/a"})
        elif p.startswith("/endless/"):
            n = int(p.rsplit("/", 1)[-1])
            await conn.send(302, "", {"Location": f"/endless/{n + 1}"})
        elif p.startswith("/removed/"):
            await conn.send(301, "", {"Location": "/"})
        elif p == "/news/":
            await conn.send(200, page("News | Example News", prose("section", 300)))
        elif p.startswith("/news/"):  # removed stories go to their section
            await conn.send(301, "", {"Location": "/news/"})
        elif p.startswith("/refresh-home/"):
            await conn.send(200, "<html><head><meta http-equiv='refresh' content='0; url=/'><title>Moved</title>"
                                 "</head><body>Redirecting...</body></html>")
        elif p.startswith("/refresh-to/"):
            target = "/articles/" + p.rsplit("/", 1)[-1]
            await conn.send(200, f"<html><head><meta http-equiv='refresh' content='1;URL={target}'></head></html>")
        elif p.startswith("/auto-reload/"):
            await conn.send(200, article(p.rsplit("/", 1)[-1]).replace(
                "<head>", "<head><meta http-equiv='refresh' content='300'>"))
        elif p.startswith("/paywalled/"):
            await conn.send(302, "", {"Location": "/login?next=" + p})
        elif p.startswith("/login"):
            await conn.send(200, page("Sign in | Example News", "Sign in to continue reading. " + prose("login")))
        elif p.startswith("/cookie/"):
            if "seen=1" in req.headers.get("cookie", ""):
                await conn.send(200, article(p.rsplit("/", 1)[-1]))
            else:
                await conn.send(302, "", {"Location": p, "Set-Cookie": "seen=1; Path=/"})
        elif p == "/unauthorized":
            await conn.send(401, page("Unauthorized", "Log in"))
        elif p == "/forbidden":
            await conn.send(403, page("Forbidden", "No"))
        elif p == "/legal":
            await conn.send(451, page("Unavailable", "Blocked in your country"))
        elif p == "/teapot":
            await conn.send(418, page("Teapot", "Short and stout"))
        elif p == "/server-error":
            await conn.send(500, page("Internal error", "Sorry"))
        elif p.startswith("/flaky503/"):
            if counter.bump(p) == 1:
                await conn.send(503, page("Unavailable", "Try later"))
            else:
                await conn.send(200, article("flaky"))
        elif p.startswith("/rate/"):
            if counter.bump(p) == 1:
                await conn.send(429, page("Too many requests", "Slow down"), {"Retry-After": "1"})
            else:
                await conn.send(200, article("rate"))
        elif p == "/always429":
            await conn.send(429, page("Too many requests", "Slow down"), {"Retry-After": "0"})
        elif p.startswith("/reset/"):
            if counter.bump(p) == 1:
                conn.reset()
            else:
                await conn.send(200, article("reset"))
        elif p == "/slow-headers":
            await wait_for_close(conn, 30)
        elif p == "/trickle":
            await conn.send_head(200, {"Content-Type": "text/html"})
            for _ in range(2000):
                await conn.write(b"<p>.</p>\n")
                await asyncio.sleep(0.05)
        elif p == "/huge":
            await conn.send_head(200, {"Content-Type": "text/html", "Content-Length": str(200 * 1024 * 1024)})
            chunk = b"<p>" + b"x" * 65530 + b"</p>"
            try:
                for _ in range(200 * 16):
                    await conn.write(chunk)
            finally:
                stats["huge_sent"] = conn.sent
        elif p == "/gzip-bomb":
            await conn.send(200, gzip_bomb(), {"Content-Encoding": "gzip"})
        elif p == "/brotli-bomb":
            await conn.send(200, brotli_bomb(), {"Content-Encoding": "br"})
        elif p == "/gzip-page":
            await conn.send(200, _gzip(article("gzipped").encode()), {"Content-Encoding": "gzip"})
        elif p == "/challenge-403":
            await conn.send(403, CHALLENGE, {"cf-mitigated": "challenge", "Server": "cloudflare"})
        elif p == "/challenge-503":
            await conn.send(503, CHALLENGE, {"Server": "cloudflare"})
        elif p == "/challenge-200":
            await conn.send(200, CHALLENGE)
        elif p == "/attention-403":
            await conn.send(403, ATTENTION, {"Server": "cloudflare"})
        elif p.startswith("/to-private/"):
            await conn.send(302, "", {"Location": "http://10.1.2.3/secret"})
        elif p.startswith("/to-metadata/"):
            await conn.send(301, "", {"Location": "http://169.254.169.254/latest/meta-data/"})
        elif p.startswith("/to-mapped/"):
            await conn.send(302, "", {"Location": "http://[::ffff:192.168.1.1]/admin"})
        elif p.startswith("/to-localhost/"):
            await conn.send(302, "", {"Location": "http://localhost:9/"})
        elif p.startswith("/to-ftp/"):
            await conn.send(302, "", {"Location": "ftp://files.example.org/x"})
        elif p == "/latin1":
            await conn.send(200, LATIN1.encode("cp1252"), content_type="text/html; charset=windows-1252")
        elif p == "/latin1-bare":
            await conn.send(200, LATIN1.replace("charset='windows-1252'", "").encode("cp1252"),
                            content_type="text/html")
        elif p == "/report.pdf":
            await conn.send(200, PDF, content_type="application/pdf")
        elif p.startswith("/ua"):
            await conn.send(200, article("ua"))
        else:
            await conn.send(404, page("404 Not Found", "Nothing here"))

    return handle


def _gzip(data: bytes) -> bytes:
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    return comp.compress(data) + comp.flush()


def soft_handler(template_title: str, template: str, prefix: str) -> Any:
    async def handle(req: Request, conn: Conn) -> None:
        p = req.path
        if p == "/":
            await conn.send(200, page("Acme Daily", prose("acme-home", 400)))
        elif p.startswith(prefix):
            await conn.send(200, article(p.rsplit("/", 1)[-1], site="Acme Daily"))
        else:
            await conn.send(200, page(template_title, template.format(path=p)))

    return handle


SOFT_TEMPLATE = ("We looked everywhere but could not locate the item at {path}. Maybe try our search, or "
                 "browse the latest headlines: Council approves budget. River clean-up begins. School board "
                 "votes on new schedule. Minister visits hospital. Court rules on contract dispute. Police "
                 "announce new camera program. Union workers protest at city hall. Agency releases privacy "
                 "report. Senator files bill on detention centers. Judge hears appeal in data case.")
SOFT_TITLE_TEMPLATE = "Sorry, the page you were looking for does not exist. Return to the front page of the Times."


async def homesoft_handler(req: Request, conn: Conn) -> None:
    if req.path.startswith("/post/"):
        await conn.send(200, article(req.path.rsplit("/", 1)[-1], site="Home Soft"))
    else:
        await conn.send(200, page("Home Soft Gazette", prose("homesoft-home", 400)))


async def spa_handler(req: Request, conn: Conn) -> None:
    await conn.send(200, SPA)


async def slow_handler(req: Request, conn: Conn) -> None:
    if req.path.startswith("/slow/"):
        await asyncio.sleep(0.25)
        await conn.send(200, article(req.path.rsplit("/", 1)[-1]))
    else:
        await conn.send(404, page("Not found", "no"))


async def fast_handler(req: Request, conn: Conn) -> None:
    if req.path.startswith(("/g/", "/b/")):
        await conn.send(200, article(req.path.rsplit("/", 1)[-1]))
    else:
        await conn.send(404, page("Not found", "no"))


def _make_cert(directory: Path, ip: str) -> tuple[Path, Path] | None:
    if shutil.which("openssl") is None:
        return None
    cert, key = directory / f"{ip}.crt", directory / f"{ip}.key"
    cmd = ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
           "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", f"/CN={ip}",
           "-addext", f"subjectAltName=IP:{ip}", "-addext", "basicConstraints=critical,CA:TRUE"]
    done = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    return (cert, key) if done.returncode == 0 else None


def _server_ctx(cert: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx


_SITES: list[Sites] = []


def build_sites() -> Sites:
    if _SITES:
        return _SITES[0]
    farm = Farm().start()
    stats: dict[str, Any] = {}
    sites = Sites(
        farm=farm,
        news=farm.add("news", news_handler(stats)),
        soft=farm.add("soft", soft_handler("Acme Daily", SOFT_TEMPLATE, "/story/")),
        softtitle=farm.add("softtitle", soft_handler("Page not found \u2013 The Example Times",
                                                     SOFT_TITLE_TEMPLATE, "/a/")),
        homesoft=farm.add("homesoft", homesoft_handler),
        spa=farm.add("spa", spa_handler),
        slow=farm.add("slow", slow_handler),
        gap=farm.add("gap", fast_handler),
        busy=farm.add("busy", fast_handler),
        refused=farm.closed_port(),
        stats=stats,
    )
    certdir = Path(tempfile.mkdtemp(prefix="archiver-farm-certs-"))
    bad_ip, good_ip = free_ip(), free_ip()
    bad, good = _make_cert(certdir, bad_ip), _make_cert(certdir, good_ip)
    if bad and good:
        sites.tls_bad = farm.add("tls_bad", fast_handler, ssl_context=_server_ctx(*bad), ip=bad_ip)
        sites.tls_good = farm.add("tls_good", fast_handler, ssl_context=_server_ctx(*good), ip=good_ip)
        sites.cafile = good[0]
    _SITES.append(sites)
    return sites


# --------------------------------------------------------------------------- helpers


def fast_settings(**changes: Any) -> Settings:
    """Settings for the farm: loopback allowed, short timeouts, no backoff, no gap."""
    base = Settings(allow_networks=("127.0.0.0/8",), per_host_gap=0.0, per_host_concurrency=4, concurrency=32,
                    connect_timeout=1.0, read_timeout=0.5, total_timeout=1.5, attempts=2, backoff_base=0.0,
                    retry_after_cap=2.0, max_body_bytes=256 * 1024)
    return replace(base, **changes)


def link_for(url: str, event: str = "e1", index: int = 0) -> Link:
    from archiver.models import Citation

    host = host_of(url)
    return Link(url=url, normalized_url=canonical_url(url), host=host, domain=registrable_domain(host),
                citations=[Citation(event=event, file=f"events/{event}.md", source_index=index, line=3)])


async def check_one(url: str, settings: Settings | None = None, **kw: Any) -> CheckResult:
    async with Checker((settings or fast_settings()).check_options, **kw) as checker:
        return await checker.check(url)


# --------------------------------------------------------------------------- issue 13: gone but answering 200

PARKED_SEDO = ("<!doctype html><html><head><meta charset='utf-8'><title>rivertonherald.com</title>"
               "<script src='//img.sedoparking.com/templates/brick_js/main.js'></script></head><body>"
               "<h1>rivertonherald.com</h1><p>This domain may be for sale!</p>"
               "<div class='rs'><h2>Related Searches</h2><a href='/?q=news'>Local News Today</a> "
               "<a href='/?q=paper'>Newspaper Subscription</a> <a href='/?q=jobs'>Jobs Near Me</a></div>"
               "</body></html>")
#: only the title offers the domain: the random-path probe must corroborate it
PARKED_TITLE_ONLY = ("<!doctype html><html><head><title>gazetteoftheriver.com is for sale</title></head><body>"
                     "<p>Get this name for your business or project. Contact the owner for details.</p></body></html>")
#: no offer, no service: only the random-path probe recognises it (soft_404, as before)
PARKED_PLAIN = page("Welcome", "Welcome to our new home on the web. " + prose("parked-plain", 40))


def _same_everywhere(body: str) -> Any:
    async def handle(req: Request, conn: Conn) -> None:
        await conn.send(200, body)
    return handle


def owner_handler(name: str) -> Any:
    """The new owner of absorbed or moved outlets: a home page and articles."""
    async def handle(req: Request, conn: Conn) -> None:
        p = req.path.split("?", 1)[0]
        if p == "/":
            await conn.send(200, page(f"{name}: front page", prose(name + "-home", 400)))
        elif p.startswith("/articles/"):
            await conn.send(200, article(p.rsplit("/", 1)[-1], site=name))
        else:
            await conn.send(404, page("404 Not Found", "Nothing here"))
    return handle


def redirect_all_handler(target_origin: str, keep_path: bool) -> Any:
    async def handle(req: Request, conn: Conn) -> None:
        await conn.send(301, "", {"Location": target_origin + (req.path if keep_path else "/")})
    return handle


REMOVAL_TITLES = {
    "en": "This article is no longer available | Riverton Post",
    "de": "Dieser Artikel ist nicht mehr verfügbar – Riverton Post",
    "fr": "Cet article n’est plus disponible – Riverton Post",
    "es": "Este artículo ya no está disponible | Riverton Post",
    "pt": "Este artigo não está mais disponível | Riverton Post",
    "it": "Questo articolo non è più disponibile | Riverton Post",
}
GERMAN_TEMPLATE = ("Hoppla! Unter der Adresse {path} haben wir leider nichts gefunden. Vielleicht hilft Ihnen unsere "
                   "Suche weiter oder einer unserer aktuellen Beiträge: Stadtrat beschließt Haushalt. Gericht "
                   "entscheidet über Vertrag. Polizei stellt neues Kamerasystem vor. Gewerkschaft protestiert vor "
                   "dem Rathaus. Behörde veröffentlicht Bericht zum Datenschutz. Richter verhandelt Berufung.")
SPANISH_TEMPLATE = ("¡Vaya! No hemos podido localizar la dirección {path}. Pruebe nuestro buscador o lea las "
                    "últimas noticias: El ayuntamiento aprueba el presupuesto. El tribunal decide sobre el contrato. "
                    "La policía presenta un nuevo sistema de cámaras. El sindicato protesta ante el ayuntamiento. "
                    "La agencia publica un informe sobre privacidad. El juez escucha la apelación.")
SCRIPT_HOME = ("<html><head><title>Riverton Post</title><script>location.replace(\"/\");</script></head>"
               "<body></body></html>")
SCRIPT_HOME_HREF = ("<html><head><script type='text/javascript'>window.location.href = '/';</script></head>"
                    "<body><p>Loading…</p></body></html>")


def rot_handler(consent_origin: str) -> Any:
    """A news site with normal chrome whose removed stories answer 200 (removal notices, script redirects)."""
    async def handle(req: Request, conn: Conn) -> None:
        p = req.path.split("?", 1)[0]
        parts = p.strip("/").split("/")
        if p == "/":
            await conn.send(200, page("Riverton Post: front page", prose("rot-home", 400)))
        elif parts[0] == "removed" and len(parts) == 3 and parts[1] in REMOVAL_TITLES:
            title = REMOVAL_TITLES[parts[1]]
            await conn.send(200, page(title, prose("rot-removed-chrome", 60), h1=title.split(" | ")[0]))
        elif parts[0] == "articles":
            await conn.send(200, article(parts[-1], site="Riverton Post"))
        elif parts[0] == "js-home":
            await conn.send(200, SCRIPT_HOME)
        elif parts[0] == "js-home-href":
            await conn.send(200, SCRIPT_HOME_HREF)
        elif parts[0] == "js-in-article":  # a real article with a script that may send readers home
            body = article(parts[-1], site="Riverton Post").replace(
                "</body>", "<script>if (window.top !== window.self) { window.location.href = '/'; }</script></body>")
            await conn.send(200, body)
        elif parts[0] == "consent-wall":
            await conn.send(302, "", {"Location": f"{consent_origin}/v2/collectConsent?sessionId=3_cc-{parts[-1]}"})
        elif parts[0] == "consent-local":
            await conn.send(302, "", {"Location": f"/consent?return={p}"})
        elif p == "/consent":
            await conn.send(200, page("Your privacy choices | Riverton Post", "We and our partners use cookies. "
                                      + prose("consent", 80)))
        else:
            await conn.send(404, page("404 Not Found", "Nothing here"))
    return handle


async def consent_handler(req: Request, conn: Conn) -> None:
    await conn.send(200, page("Before you continue", "We use cookies and data to deliver and maintain services. "
                              + prose("consent-portal", 80)))


@dataclass
class RotSites:
    parked: FarmHost  # a parking service's page on every path, with its script and "related searches"
    parked_title: FarmHost  # every path: a thin page whose title offers the domain, nothing else
    parked_plain: FarmHost  # every path: the same thin welcome page (only the probe knows)
    owner: FarmHost  # the new owner of the absorbed and moved outlets
    absorbed: FarmHost  # every path redirects to the owner's home page
    moved: FarmHost  # every path redirects to the same path on the owner
    rot: FarmHost  # removal notices, script redirects, consent walls
    consent: FarmHost  # a consent portal
    german: FarmHost  # unknown paths: 200 with a German template
    spanish: FarmHost  # unknown paths: 200 with a Spanish template


_ROT: list[RotSites] = []


def build_rot_sites() -> RotSites:
    if _ROT:
        return _ROT[0]
    farm = build_sites().farm
    owner = farm.add("owner", owner_handler("Metro Group"))
    consent = farm.add("consent", consent_handler)
    rot = RotSites(
        parked=farm.add("parked", _same_everywhere(PARKED_SEDO)),
        parked_title=farm.add("parked_title", _same_everywhere(PARKED_TITLE_ONLY)),
        parked_plain=farm.add("parked_plain", _same_everywhere(PARKED_PLAIN)),
        owner=owner,
        absorbed=farm.add("absorbed", redirect_all_handler(owner.origin, keep_path=False)),
        moved=farm.add("moved", redirect_all_handler(owner.origin, keep_path=True)),
        rot=farm.add("rot", rot_handler(consent.origin)),
        consent=consent,
        german=farm.add("german", soft_handler("Riverton Zeitung", GERMAN_TEMPLATE, "/artikel/")),
        spanish=farm.add("spanish", soft_handler("Diario Riverton", SPANISH_TEMPLATE, "/noticia/")),
    )
    _ROT.append(rot)
    return rot
