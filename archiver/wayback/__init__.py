"""The Wayback Machine stage: a durable copy for every cited page, the closest copy for every dead one.

:mod:`.stage` runs after the check on the stored link state: CDX lookups (:mod:`.cdx`) of the
links that need one, the copy of each failing link judged by its replayed content and rescued as
its snapshot (:mod:`.rescue`), declared ``archive_url`` values checked, and Save Page Now for
links without a recent capture (:mod:`.saves`), all through one client (:mod:`.client`) paced by
the night's limiter (:mod:`.limiter`). What to do and in which order is decided without I/O
in :mod:`.policy`; what is learned is kept in the link state's
:class:`~archiver.history.wayback_record.WaybackRecord`. :mod:`.annotate` writes the copies into
the event files (``archiver annotate``).
"""
