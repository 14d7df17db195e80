"""The timeline: events loaded from Markdown, the link catalog, minimal-diff frontmatter edits.

``load.load_timeline(settings)`` reads every ``*.md`` event (every problem a finding with file
and line; the rest still loads) and builds the catalog of distinct links with their citations
(``catalog``); ``edit`` changes one source's fields touching only the lines it must and writes
planned fills (``audit --write``, ``wayback --annotate``). Nothing here touches the network.
"""
