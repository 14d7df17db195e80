"""Liveness verdicts: one :class:`~archiver.models.CheckResult` per distinct link.

Rules (a live page reported dead is the worst bug, so "dead" needs real evidence):

* ``dead``: HTTP 404 or 410 from a host whose home page answers (see below); a domain
  that does not resolve (NXDOMAIN); connection refused by a host that resolves; a parked
  domain's page ("the domain is parked (...)"). DNS and refused failures are
  *connection-level* (``connection_failure=True``) and count as dead only while the
  network as a whole works (see :mod:`archiver.liveness.network`); otherwise they become ``error``.
* ``blocked`` (never dead): 401, 402, 403, 407, 451, 429 after retries, 999, bot challenges
  with any status, a redirect to a login page or to a cookie-consent page, a 404 from a
  bot defence.
* ``error`` (inconclusive, never dead): timeouts, 5xx after retries, TLS failures,
  redirect loops, too many redirects, broken answers, other statuses.
* ``soft_404``: a 2xx answer that is not the cited page (see :mod:`archiver.liveness.soft404`).
* ``invalid``: not checkable, or refused for safety (private, loopback, ... addresses).
* ``alive`` otherwise; a permanent redirect to another live page also sets ``moved_to``.

A 404 or 410 is evidence only when the host's home page answers: some bot defences
answer 404 to every non-browser request, home page included. So the first 404 of a host
(origin) asks for its home page, once per run (:class:`HomeCheck`); when that fails too,
one more home-page request with ``browser_user_agent`` tells a bot defence (the browser
gets the page: ``blocked``) from a site that is gone (404 there too: ``dead``); without
that answer the verdict is ``blocked``, never dead.

Redirects are followed here, one hop per request, so each hop is recorded, checked
for safety (by the network backend, before connecting) and scheduled politely. A 2xx
page that only forwards with a short ``<meta http-equiv="refresh">`` counts as a hop.

Many links at once (politeness, network state, deadline): :mod:`archiver.liveness.batch`.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import httpx

from ..models import CheckResult, Hop, Link, LinkStatus, RawHop
from ..options import CheckOptions
from .errors import TIMEOUT_KINDS, FailureKind, FetchFailure
from .fetcher import Fetcher
from .pages import PageInfo, meta_refresh, page_info, visible_text
from .parking import on_parking_service, parked_page, parking_signs, same_page_as_probe, thin_text
from .probe import PageSeen, Probe, Prober, compare_with_probe
from .soft404 import (
    absorbed_redirect,
    consent_redirect,
    detect_challenge,
    generic_redirect,
    has_deep_path,
    login_redirect,
    needs_text,
    page_rules,
)
from .transport import Answer

#: the redirect walk led nowhere
_REDIRECT_FAILURES = frozenset({FailureKind.REDIRECT_LOOP, FailureKind.TOO_MANY_REDIRECTS, FailureKind.BAD_REDIRECT})
#: after a redirect, these say where the chain ended (the message names the last URL)
_CONNECTION_REFUSALS = frozenset({FailureKind.NXDOMAIN, FailureKind.REFUSED, FailureKind.UNSAFE})

PERMANENT = frozenset({301, 308})
BOT_404 = "the site answers 404 to the checker on every path, home page included"
SITE_GONE = "the whole site answers 404, home page included"
BLOCKED_STATUSES = frozenset({401, 402, 403, 407, 451, 999})


@dataclass(slots=True)
class Chain:
    """Where following a URL's redirects ended."""

    url: str  # the last URL requested
    hops: list[Hop] = field(default_factory=list)  # the redirect answers, in order
    answer: Answer | None = None
    failure: FetchFailure | None = None
    elapsed: float = 0.0
    #: the redirect answers as received, for their WARC records (kept only by a checker that keeps bodies)
    raw_hops: list[RawHop] = field(default_factory=list)


def _with_hops(answer: Answer, hops: Sequence[RawHop]) -> Answer:
    """``answer`` with the redirect answers before it in its raw exchange."""
    if hops and answer.exchange is not None:
        answer.exchange = replace(answer.exchange, hops=tuple(hops))
    return answer


@dataclass(slots=True)
class HomeCheck:
    """How one origin's home page answers the checker, and a browser-like User-Agent if asked."""

    url: str
    #: the checker's answer (after redirects): 2xx means the site answers, so its 404s are real
    status: int | None = None
    failure: str | None = None
    #: the browser-like request (None: not made: off, or not needed)
    browser_status: int | None = None
    browser_failure: str | None = None

    @property
    def answers(self) -> bool:
        return self.status is not None and 200 <= self.status < 300 and self.failure is None


def _is_home(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "", "", ""))


def _same_page(a: str, b: str) -> bool:
    """Equal but for scheme, ``www.``, default port and a trailing slash: not worth a ``moved`` finding."""
    def key(url: str) -> tuple[str, str, str]:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().removeprefix("www.")
        return host, parts.path.rstrip("/") or "/", parts.query
    try:
        return key(a) == key(b)
    except ValueError:
        return False


def moved_target(cited: str, hops: Sequence[Hop], final_url: str) -> str | None:
    """The URL reached by the leading permanent redirects, when it is really another address."""
    target = None
    for i, hop in enumerate(hops):
        if hop.status not in PERMANENT:
            break
        target = hops[i + 1].url if i + 1 < len(hops) else final_url
    if target and not _same_page(cited, target):
        return target
    return None


def _reason(answer: Answer) -> str:
    return f"HTTP {answer.status}" + (f" {answer.reason}" if answer.reason else "")


#: a verdict: the status, its evidence and the error (None: the evidence, or none when alive)
_Verdict = tuple[LinkStatus, str, str | None]


def _settle(result: CheckResult, verdict: _Verdict) -> CheckResult:
    status, evidence, error = verdict
    result.status, result.evidence = status, evidence
    result.error = error if error is not None else (None if status is LinkStatus.ALIVE else evidence)
    return result


def _refusal_verdict(answer: Answer, after: str) -> _Verdict | None:
    """Status codes other than 2xx, 404 and 410: refused, rate limited, server errors, dead-end redirects."""
    code = answer.status
    if code in BLOCKED_STATUSES:
        return LinkStatus.BLOCKED, f"{_reason(answer)}: the site refuses automated checks{after}", None
    if code == 429:
        wait = answer.headers.get("retry-after")
        asked = f" (Retry-After: {wait})" if wait else ""
        return LinkStatus.BLOCKED, f"{_reason(answer)}{asked}: rate limited, still after retries", None
    if code >= 500:
        return LinkStatus.ERROR, f"inconclusive: {_reason(answer)} after retries{after}", _reason(answer)
    if 300 <= code < 400:
        return LinkStatus.ERROR, f"inconclusive: {_reason(answer)} without a usable Location", _reason(answer)
    if not 200 <= code < 300:
        return LinkStatus.ERROR, f"inconclusive: {_reason(answer)}", _reason(answer)
    return None


def _redirect_wall(url: str, chain: Chain, answer: Answer) -> _Verdict | None:
    """A consent wall first (the page is behind it: neither a login nor a generic redirect), then a login."""
    if evidence := consent_redirect(url, [*(h.url for h in chain.hops[1:]), answer.url]):
        return LinkStatus.BLOCKED, evidence, None
    if evidence := login_redirect(url, answer.url):
        return LinkStatus.BLOCKED, evidence, None
    return None


def _alive_verdict(answer: Answer, moved_to: str | None, redirected: bool) -> _Verdict:
    note = f" ({answer.body_error})" if answer.body_error else ""
    if moved_to:
        return LinkStatus.ALIVE, f"{_reason(answer)}; permanently moved to {moved_to}{note}", None
    return LinkStatus.ALIVE, _reason(answer) + (f" after redirect to {answer.url}" if redirected else "") + note, None


class Checker:
    """Checks links one by one (call :meth:`check` concurrently); owns a :class:`Fetcher`."""

    def __init__(self, options: CheckOptions, *, fetcher: Fetcher | None = None,
                 ssl_context: ssl.SSLContext | None = None, keep_bodies: bool = True) -> None:
        self.options = options
        self.fetcher = fetcher or Fetcher(options, ssl_context=ssl_context)
        self.prober = Prober(self._probe)
        self.keep_bodies = keep_bodies
        #: per origin, the home-page check shared by every 404 of that origin in this run
        self._homes: dict[str, asyncio.Task[HomeCheck]] = {}

    async def __aenter__(self) -> Checker:
        await self.fetcher.__aenter__()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for task in self._homes.values():
            task.cancel()
        await asyncio.gather(*self._homes.values(), return_exceptions=True)
        await self.prober.aclose()
        await self.fetcher.aclose()

    @property
    def home_checks(self) -> int:
        """Origins whose home page was checked because they answered 404 or 410."""
        return len(self._homes)

    # ------------------------------------------------------------------ redirects

    async def follow(self, url: str, attempts: int | None = None, user_agent: str | None = None) -> Chain:
        """Request ``url`` and follow its redirects one hop at a time (``user_agent`` replaces the configured one)."""
        chain = Chain(url=url)
        cookies = httpx.Cookies()
        seen: set[tuple[str, tuple[tuple[str, str, str, str], ...]]] = set()
        current = url
        for _ in range(self.options.max_redirects + 1):
            chain.url = current
            # a redirect back to the same URL with new cookies is a cookie check, not a loop
            key = (current, tuple(sorted((c.domain, c.path, c.name, c.value or "") for c in cookies.jar)))
            if key in seen:
                path = " -> ".join([*[h.url for h in chain.hops][-4:], current])
                chain.failure = FetchFailure(FailureKind.REDIRECT_LOOP, f"redirect loop ({path})", transient=False)
                return chain
            seen.add(key)
            try:
                answer = await self.fetcher.get(current, cookies=cookies, attempts=attempts, user_agent=user_agent)
            except FetchFailure as exc:
                chain.failure = exc
                chain.elapsed += exc.elapsed
                return chain
            chain.elapsed += answer.elapsed
            for cookie in answer.cookies.jar:
                cookies.jar.set_cookie(cookie)
            location = answer.location if answer.is_redirect else self._refresh_target(current, answer)
            if location is None:
                chain.answer = _with_hops(answer, chain.raw_hops)
                return chain
            chain.hops.append(Hop(url=current, status=answer.status))
            if answer.exchange is not None and self.keep_bodies:
                chain.raw_hops.append(RawHop(answer.exchange, answer.body, answer.truncated))
            try:
                target = str(httpx.URL(current).join(location))
            except (httpx.InvalidURL, ValueError) as exc:
                chain.failure = FetchFailure(FailureKind.BAD_REDIRECT,
                                             f"redirect to an invalid URL {location!r} ({exc})",
                                             transient=False, status=answer.status)
                return chain
            scheme = urlsplit(target).scheme.lower()
            if scheme not in ("http", "https"):
                chain.url = target
                chain.failure = FetchFailure(FailureKind.BAD_REDIRECT, f"redirect to a non-web URL ({target})",
                                             transient=False, status=answer.status)
                return chain
            current = target.split("#", 1)[0]
        chain.failure = FetchFailure(FailureKind.TOO_MANY_REDIRECTS,
                                     f"too many redirects (more than {self.options.max_redirects})", transient=False)
        return chain

    @staticmethod
    def _refresh_target(current: str, answer: Answer) -> str | None:
        """A 2xx HTML page that only forwards elsewhere with a short meta refresh (not a bot challenge)."""
        if not 200 <= answer.status < 300:
            return None
        info = page_info(answer.body, answer.headers.get("content-type"))
        if not info.is_html:
            return None
        target = meta_refresh(answer.body, info.encoding)
        if target is None or detect_challenge(answer.status, answer.headers, info.title, info.head):
            return None
        try:
            if str(httpx.URL(current).join(target)).split("#", 1)[0] == current.split("#", 1)[0]:
                return None  # a page that reloads itself
        except (httpx.InvalidURL, ValueError):
            return None
        return target

    # ------------------------------------------------------------------ the soft-404 probe

    async def _probe(self, url: str) -> Probe:
        chain = await self.follow(url, attempts=min(2, self.options.attempts))
        probe = Probe(url=url, final_url=chain.url, redirected=bool(chain.hops))
        if chain.answer is None:
            probe.error = chain.failure.message if chain.failure else "no answer"
            return probe
        answer = chain.answer
        probe.status = answer.status
        if 200 <= answer.status < 300:
            info = page_info(answer.body, answer.headers.get("content-type"))
            if info.is_html:
                probe.title = info.title
                probe.text = await _text_of(answer.body, info.encoding)
        return probe

    # ------------------------------------------------------------------ the home page of a host that answers 404

    async def home(self, origin: str, known: Answer | None = None) -> HomeCheck:
        """The home-page check of ``origin``, made once per run and shared (``known``: the home page's own answer)."""
        task = self._homes.get(origin)
        if task is None:
            task = self._homes[origin] = asyncio.ensure_future(self._check_home(origin, known))
        return await asyncio.shield(task)

    async def _check_home(self, origin: str, known: Answer | None) -> HomeCheck:
        home = HomeCheck(url=origin + "/")
        if known is not None:
            home.status = known.status
        else:
            chain = await self.follow(home.url)
            home.status, home.failure = self._home_answer(chain)
        if home.answers or not self.options.browser_user_agent:
            return home
        chain = await self.follow(home.url, user_agent=self.options.browser_user_agent)
        home.browser_status, home.browser_failure = self._home_answer(chain)
        return home

    @staticmethod
    def _home_answer(chain: Chain) -> tuple[int | None, str | None]:
        answer = chain.answer
        if answer is None:
            return (chain.failure.status if chain.failure else None), (chain.failure.message if chain.failure
                                                                        else "no answer")
        info = page_info(answer.body, answer.headers.get("content-type"))
        if challenge := detect_challenge(answer.status, answer.headers, info.title, info.head):
            return answer.status, challenge
        return answer.status, None

    async def _not_found(self, answer: Answer, after: str) -> tuple[LinkStatus, str]:
        """The verdict on a 404 or 410: dead only when the host's home page answers, or the whole site is gone."""
        home = await self.home(_origin(answer.url), answer if _is_home(answer.url) else None)
        if home.answers:
            return LinkStatus.DEAD, f"{_reason(answer)}{after}"
        if home.status in (404, 410) and home.failure is None:
            what = BOT_404
        else:
            what = (f"the site answers {answer.status} to the checker and its home page fails too "
                    f"({home.failure or f'HTTP {home.status}'})")
        if not self.options.browser_user_agent:
            return LinkStatus.BLOCKED, (f"{what} (not counted as dead: the browser-like home page check is off, "
                                        f"so a bot defence cannot be told from a site that is gone)")
        browser = home.browser_status
        if home.browser_failure is None and browser is not None and 200 <= browser < 300:
            return LinkStatus.BLOCKED, what
        if home.browser_failure is None and browser in (404, 410):
            return LinkStatus.DEAD, SITE_GONE
        why = home.browser_failure or f"HTTP {browser}"
        return LinkStatus.BLOCKED, (f"{what} (not counted as dead: the home page request with a browser-like "
                                    f"User-Agent was inconclusive: {why})")

    # ------------------------------------------------------------------ verdicts

    async def check(self, link: Link | str) -> CheckResult:
        """Check one link. Never raises for network trouble; the verdict says what happened."""
        url = link.url if isinstance(link, Link) else link
        checked_at = self.options.clock()
        if isinstance(link, Link) and link.invalid_reason:
            return CheckResult(url=url, status=LinkStatus.INVALID, checked_at=checked_at, error=link.invalid_reason)
        chain = await self.follow(url)
        if chain.answer is None:
            assert chain.failure is not None
            result = self._failure_result(url, chain, chain.failure, checked_at)
        else:
            result = await self._answer_result(url, chain, chain.answer, checked_at)
        result.elapsed = round(chain.elapsed, 3)
        return result

    def _failure_result(self, url: str, chain: Chain, failure: FetchFailure, checked_at: datetime) -> CheckResult:
        status: LinkStatus = LinkStatus.ERROR
        evidence: str | None = None
        first_hop = not chain.hops
        if failure.kind is FailureKind.NXDOMAIN:
            status, evidence = LinkStatus.DEAD, "the domain no longer resolves (NXDOMAIN)"
        elif failure.kind is FailureKind.REFUSED:
            status, evidence = LinkStatus.DEAD, "the host resolves but refuses connections"
        elif failure.kind is FailureKind.UNSAFE or (failure.kind is FailureKind.BAD_URL and first_hop):
            status = LinkStatus.INVALID
        elif failure.kind in TIMEOUT_KINDS or failure.kind is FailureKind.HOST_TIMEOUTS:
            evidence = "inconclusive: timed out (after retries)"
        elif failure.kind is FailureKind.TLS:
            evidence = "inconclusive: the TLS connection failed"
        elif failure.kind in _REDIRECT_FAILURES:
            evidence = "inconclusive: the redirects lead nowhere"
        else:
            evidence = "inconclusive: " + failure.message
        if chain.hops and failure.kind in _CONNECTION_REFUSALS:
            failure_message = f"{failure.message} (after redirect to {chain.url})"
        else:
            failure_message = failure.message
        return CheckResult(url=url, status=status, checked_at=checked_at, http_status=failure.status,
                           final_url=chain.url if chain.url != url else None, redirects=list(chain.hops),
                           error=failure_message, evidence=evidence, connection_failure=failure.connection_level)

    async def _answer_result(self, url: str, chain: Chain, answer: Answer, checked_at: datetime) -> CheckResult:
        """The verdict on an HTTP answer: its status code's rules, then its content's, else alive."""
        info = page_info(answer.body, answer.headers.get("content-type"))
        result = CheckResult(url=url, status=LinkStatus.ALIVE, checked_at=checked_at, http_status=answer.status,
                             final_url=answer.url, redirects=list(chain.hops), content_type=answer.content_type,
                             content_type_header=answer.headers.get("content-type"),
                             body_truncated=answer.truncated)
        redirected = bool(chain.hops)
        found = await self._status_verdict(answer, info, redirected)
        if found is None:
            if self.keep_bodies:
                result.body = answer.body
                result.exchange = answer.exchange
            found = await self._content_verdict(url, chain, answer, info)
        if found is None:
            result.moved_to = moved_target(url, chain.hops, answer.url)
            found = _alive_verdict(answer, result.moved_to, redirected)
        return _settle(result, found)

    async def _status_verdict(self, answer: Answer, info: PageInfo, redirected: bool) -> _Verdict | None:
        """Rules on the status code (a bot challenge first); None for a 2xx that passes them."""
        code = answer.status
        after = f" after redirect to {answer.url}" if redirected else ""
        challenge = detect_challenge(code, answer.headers, info.title, info.head)
        if challenge:
            return LinkStatus.BLOCKED, f"{challenge} (HTTP {code})", None
        if code in (404, 410):
            gone_status, gone_evidence = await self._not_found(answer, after)
            return gone_status, gone_evidence, _reason(answer) + after
        return _refusal_verdict(answer, after)

    async def _content_verdict(self, url: str, chain: Chain, answer: Answer, info: PageInfo) -> _Verdict | None:
        """Rules on a 2xx answer: redirect walls, a parked domain, a generic redirect, a soft 404 page."""
        redirected = bool(chain.hops)
        if redirected and (found := _redirect_wall(url, chain, answer)):
            return found
        text: str | None = None
        if info.is_html and needs_text(answer.body, info):
            text = await _text_of(answer.body, info.encoding)
            if not on_parking_service(url) and (evidence := await self._parked(answer, info, text, redirected)):
                return LinkStatus.DEAD, evidence, None
        if redirected and (evidence := generic_redirect(url, answer.url)):
            return LinkStatus.SOFT_404, await self._absorbed(url, answer, evidence), None
        if info.is_html:
            return await self._page_verdict(url, answer, info, text, redirected)
        return None

    async def _absorbed(self, url: str, answer: Answer, evidence: str) -> str:
        """A generic redirect's evidence, or, when every path of the old site goes to another site's home
        page, that the site was absorbed (not moved)."""
        if self.options.soft404_probe and "home page" in evidence and has_deep_path(url):
            probe = await self.prober.probe(_origin(url))
            evidence = absorbed_redirect(url, answer.url, probe) or evidence
        return evidence

    async def _page_verdict(self, url: str, answer: Answer, info: PageInfo, text: str | None,
                            redirected: bool) -> _Verdict | None:
        """A soft 404 told by the page itself, or by a random path of the same host showing the same page."""
        if evidence := page_rules(url, answer.url, answer.body, info, text):
            return LinkStatus.SOFT_404, evidence, None
        if not (self.options.soft404_probe and has_deep_path(url) and has_deep_path(answer.url)):
            return None
        probe = await self.prober.probe(_origin(answer.url))
        if not probe.answers_2xx:
            return None
        if text is None:
            text = await _text_of(answer.body, info.encoding)
        evidence = compare_with_probe(PageSeen(text, info.title, answer.url, redirected), probe,
                                      self.options.soft404_similarity)
        return (LinkStatus.SOFT_404, evidence, None) if evidence else None

    async def _parked(self, answer: Answer, info: PageInfo, text: str, redirected: bool) -> str | None:
        """Evidence that the answer is a parked domain's page: decided by its content alone when the
        signs are strong, else corroborated by a random path of the same host showing the same page."""
        if evidence := parked_page(info, text, answer.url, redirected):
            return evidence
        signs = parking_signs(info, text, answer.url, redirected)
        if signs is None or not (signs.says or signs.service) or not thin_text(text) or not self.options.soft404_probe:
            return None
        probe = await self.prober.probe(_origin(answer.url))
        if same_page_as_probe(info.title, text, probe):
            return signs.evidence("a random, non-existent path shows the same page")
        return None


async def _text_of(body: bytes, encoding: str) -> str:
    if len(body) > 256 * 1024:  # keep the event loop responsive on big pages
        return await asyncio.to_thread(visible_text, body, encoding)
    return visible_text(body, encoding)
