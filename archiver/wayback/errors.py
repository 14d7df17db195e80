"""The archive's errors: what a Wayback call that gave no usable answer raised (messages never hold keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ArchiveError as ArchiveError  # its home before archiver.errors

if TYPE_CHECKING:  # annotations only: the HTTP stack (httpcore, httpx) is not imported for them
    from ..liveness.transport import Answer


class RateLimited(ArchiveError):
    """HTTP 429: every archive call is paused (see :class:`~archiver.wayback.limiter.ArchiveLimiter`)."""


class Excluded(ArchiveError):
    """The site is excluded from the Wayback Machine (403 Blocked Site Error, robots.txt)."""


class AuthRejected(ArchiveError):
    """Save Page Now refused the keys (401/403)."""


class DeadlineReached(ArchiveError):
    """The run's time budget ends before the call could start."""


def blocked_site(answer: Answer) -> bool:
    error = answer.headers.get("x-archive-wayback-runtime-error", "")
    text = answer.body[:2000].decode("utf-8", "replace")
    return answer.status == 403 and any(
        marker in error or marker in text for marker in ("AccessControlException", "Blocked Site Error"))


def status_error(answer: Answer, what: str) -> ArchiveError:
    if answer.status == 429:
        return RateLimited(f"{what}: HTTP 429 Too Many Requests", status=429)
    if blocked_site(answer):
        return Excluded(f"{what}: the site is excluded from the Wayback Machine", status=403, transient=False)
    transient = answer.status >= 500
    return ArchiveError(f"{what}: HTTP {answer.status} {answer.reason}".rstrip(), status=answer.status,
                        transient=transient)
