"""The random-path probe (Bar-Yossef et al. 2004, as benhoyt/soft404 implements it): what a host
answers for a path that cannot exist, fetched once per origin and run, and the comparison of a
cited page with that answer."""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from .pages import MIN_COMPARE_WORDS, similarity, url_words, words

# --------------------------------------------------------------------------- the random-path probe


@dataclass(slots=True)
class Probe:
    """What a host answers for a path that cannot exist."""

    url: str
    status: int | None = None
    final_url: str | None = None
    title: str = ""
    text: str | None = None
    redirected: bool = False
    error: str | None = None

    @property
    def answers_2xx(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def probe_path() -> str:
    return f"/archiver-probe-{secrets.token_hex(6)}-{secrets.token_hex(4)}"


class Prober:
    """One probe per origin (scheme, host, port), shared by every page of that origin."""

    def __init__(self, fetch: Callable[[str], Awaitable[Probe]]) -> None:
        self._fetch = fetch
        self._tasks: dict[str, asyncio.Task[Probe]] = {}

    async def probe(self, origin: str) -> Probe:
        task = self._tasks.get(origin)
        if task is None:
            task = self._tasks[origin] = asyncio.ensure_future(self._fetch(origin.rstrip("/") + probe_path()))
        return await asyncio.shield(task)

    @property
    def probes(self) -> int:
        return len(self._tasks)

    async def aclose(self) -> None:
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)


@dataclass(frozen=True, slots=True)
class PageSeen:
    """What the checker saw of a page, to compare with the random-path probe's answer."""

    text: str
    title: str
    final_url: str
    redirected: bool


def compare_with_probe(page: PageSeen, probe: Probe, threshold: float) -> str | None:
    """Evidence that the page is what the host serves for any unknown path, else None."""
    page_text, page_title, page_final, page_redirected = page.text, page.title, page.final_url, page.redirected
    if not probe.answers_2xx or probe.text is None:
        return None
    if page_redirected and probe.redirected and probe.final_url == page_final:
        return f"redirected to the same page as a random, non-existent path ({page_final})"
    drop = url_words(page_final, probe.url, probe.final_url or "")
    page_words, probe_words = words(page_text, drop), words(probe.text, drop)
    if len(page_words) < MIN_COMPARE_WORDS and not mentions_error(page_text):
        return None  # too little text: a page rendered by JavaScript looks the same on every path
    text_sim = similarity(page_words, probe_words)
    if text_sim < threshold:
        return None
    title_sim = similarity(words(page_title, drop), words(probe.title, drop))
    if title_sim < 0.8:
        return None
    return (f"the page matches what the host serves for a random, non-existent path "
            f"({text_sim:.0%} same text)")


def mentions_error(text: str) -> bool:
    """A weaker signal, used only to corroborate a near-identical random-path answer."""
    return re.search(r"not\s+found|404|does\s*n[o']?t\s+exist|no\s+longer\s+(exists|available)|can'?t\s+find"
                     r"|cannot\s+find|could\s*n[o']?t\s+find|unavailable", text, re.I) is not None

