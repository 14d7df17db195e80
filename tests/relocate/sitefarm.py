"""A site on the loopback farm serving sitemaps and feeds from a dict, with ETags; and the httpx fetch the
tests inject (the stage injects the checker's own)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from archiver.relocate.sitemaps import Fetched
from tests.support.farm import Conn, Request


@dataclass
class Page:
    body: bytes | str
    content_type: str = "application/xml"
    etag: str | None = None
    status: int = 200


@dataclass
class Site:
    pages: dict[str, Page] = field(default_factory=dict)

    async def __call__(self, req: Request, conn: Conn) -> None:
        page = self.pages.get(req.path)
        if page is None:
            await conn.send(404, "not found", content_type="text/plain")
            return
        headers = {"ETag": page.etag} if page.etag else {}
        if page.etag and req.headers.get("if-none-match") == page.etag:
            await conn.send(304, b"", headers=headers)
            return
        await conn.send(page.status, page.body, headers=headers, content_type=page.content_type)


async def fetch(url: str, headers: Mapping[str, str]) -> Fetched:
    """GET on loopback only (the tests' farm): no proxies from the environment, redirects followed."""
    assert url.startswith("http://127."), url
    async with httpx.AsyncClient(trust_env=False, follow_redirects=True, timeout=5) as client:
        got = await client.get(url, headers=dict(headers))
        return Fetched(got.status_code, dict(got.headers), got.content)
