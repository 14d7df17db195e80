"""Moved, not gone (issue 23): the current address of a relocated article.

For each ``dead`` or ``soft_404`` link, candidates come from the cheapest methods first: archived redirects
(the Wayback CDX API and the other archives' TimeMaps), the site's rewrite pattern learned from pairs of old
and new addresses, then the site's sitemaps and feeds. A candidate becomes ``links[].replacement`` only once
it is verified (:mod:`archiver.relocate.verify`): precision before recall.
"""
