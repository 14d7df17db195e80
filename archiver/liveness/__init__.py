"""Is each cited page still there: transport, polite fetching, soft-404s, network state, verdicts.

``check.check_links`` gives each link a :class:`~archiver.models.LinkStatus` with its evidence:
requests go through ``fetcher`` (per-host politeness, retries) over ``transport`` (a guarded,
capped HTTP stack: ``resolver`` for DNS, ``addresses`` for address safety); a request without a
usable answer raises an ``errors.FetchFailure`` of a ``FailureKind``; ``soft404`` tells a page
from an error page; ``network`` tells "network down" from link rot. Imported only when links are due.
"""
