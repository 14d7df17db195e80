"""Reports: what the night found, for CI and for the maintainers.

:mod:`.build` assembles report.json (the contract, validated against its schema) from the
catalog, the link states and the findings; :mod:`.view` turns it into what humans read, which
:mod:`.markdown` renders as report.md and :mod:`.html` as report.html; :mod:`.site` builds the
static site of archived copies.
"""
