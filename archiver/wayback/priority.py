"""The two orders of the Wayback work (lower first): which lookups and which Save Page Now captures
a night does first. :mod:`archiver.wayback.policy` decides which one a link gets."""

from __future__ import annotations

from enum import IntEnum


class LookupPriority(IntEnum):
    """How urgent a link's CDX lookup is (lower first; :func:`~archiver.wayback.policy.lookup_priority`)."""

    #: a failing link not yet confirmed: a copy may still rescue the citation before it is confirmed
    FAILING_UNCONFIRMED = 0
    #: a confirmed failing link whose captures were never (or not since it failed) looked up
    FAILING = 1
    #: a save job whose status record has expired: find out whether the capture was made
    RECONCILE = 2
    #: a link never looked up
    NEW = 3
    #: a periodic recheck (``wayback_recheck_days``, sooner without a good capture)
    RECHECK = 4


class SavePriority(IntEnum):
    """How urgent a Save Page Now capture is (lower first): the first item of
    :func:`~archiver.wayback.policy.save_priority`."""

    #: a live link never captured
    NEVER = 0
    #: a live link with only old captures
    STALE = 1
    #: the rest still eligible (blocked links, dead ones without any capture)
    REST = 2
