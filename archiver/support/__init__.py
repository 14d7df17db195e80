"""Small shared helpers: atomic writes, store paths, progress, the event loop runner, GC pauses."""
