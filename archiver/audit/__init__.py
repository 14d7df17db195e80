"""Citation audit: does each citation's publisher, tier, title, date and archive_url fit the page cited?

:mod:`.stage` runs the rules (:mod:`.rules`) over the catalog at report time, against the
publisher registry (:mod:`.registry`: which outlet publishes on which domain, and its tier) and
the tolerant matching of publisher names (:mod:`.names`).
"""
