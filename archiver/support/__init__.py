"""Small shared helpers: atomic writes, store paths, progress, the event loop runner, GC pauses.

Also ``timefmt`` (the time stamps written in state, snapshots and reports) and ``paths`` (paths
as shown to people). Nothing here imports another archiver package.
"""
