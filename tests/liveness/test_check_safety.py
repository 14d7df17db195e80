"""Address safety: private, loopback, link-local... are refused before any connection."""

from __future__ import annotations

import ipaddress

import httpcore
import pytest

from archiver.config import Settings
from archiver.liveness.addresses import address_problem, parse_networks
from tests.support.farm_sites import Sites, check_one, fast_settings


@pytest.fixture
def connects(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a connection is actually attempted to."""
    seen: list[str] = []
    original = httpcore.AnyIOBackend.connect_tcp

    async def spy(self: httpcore.AnyIOBackend, host: str, port: int, *args: object, **kwargs: object) -> object:
        seen.append(host)
        return await original(self, host, port, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", spy)
    return seen


async def test_loopback_refused_by_default(sites: Sites, connects: list[str]) -> None:
    before = len(sites.news.hits("/articles/"))
    result = await check_one(sites.news.url("/articles/not-allowed"), Settings(attempts=1))
    assert result.status == "invalid"
    assert "loopback" in (result.error or "") and "allow_networks" in (result.error or "")
    assert connects == [] and len(sites.news.hits("/articles/")) == before


@pytest.mark.parametrize(("path", "reason", "address"), [
    ("/to-private/x", "private", "10.1.2.3"),
    ("/to-metadata/x", "link-local", "169.254.169.254"),
    ("/to-mapped/x", "private", "::ffff:c0a8:101"),
    ("/to-localhost/x", "loopback", None),
])
async def test_redirect_to_unsafe_address_refused_before_connecting(
        sites: Sites, connects: list[str], path: str, reason: str, address: str | None) -> None:
    # loopback is allowed for the farm itself, so "localhost" is refused only with 127.0.0.2/32 allowed
    settings = fast_settings(allow_networks=(f"{sites.news.ip}/32",))
    result = await check_one(sites.news.url(path), settings)
    assert result.status == "invalid", result
    assert reason in (result.error or "")
    assert len(result.redirects) == 1 and result.redirects[0].status in (301, 302)
    assert connects == [sites.news.ip], "only the farm host was ever connected to"
    if address:
        assert address not in connects


def test_address_rules() -> None:
    allow = parse_networks(["127.0.0.0/8"])
    cases = {
        "8.8.8.8": None, "2606:4700::1111": None,
        "10.0.0.1": "private", "192.168.1.1": "private", "172.16.5.4": "private",
        "127.0.0.1": "loopback", "::1": "loopback", "169.254.169.254": "link-local", "fe80::1": "link-local",
        "224.0.0.1": "multicast", "0.0.0.0": "unspecified", "240.0.0.1": "reserved", "100.64.0.1": "non-public",
        "::ffff:10.0.0.1": "private", "::ffff:127.0.0.1": "loopback", "64:ff9b::a00:1": "private",
    }
    for text, expected in cases.items():
        assert address_problem(ipaddress.ip_address(text)) == expected, text
    assert address_problem(ipaddress.ip_address("127.0.0.5"), allow) is None
    assert address_problem(ipaddress.ip_address("::ffff:127.0.0.5"), allow) is None
    assert address_problem(ipaddress.ip_address("10.0.0.1"), allow) == "private"
