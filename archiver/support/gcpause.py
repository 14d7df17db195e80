"""Pause Python's cyclic garbage collector while a stage builds many long-lived objects.

Loading a timeline creates about a million small objects (YAML nodes, dicts, dataclasses)
that all live until the run ends. With the collector on, every 700 allocations start a
collection that walks the young objects, and the older generations are walked again and
again as they grow: about a tenth of a nothing-due run's wall time on the corpus. Reference
counting still frees everything that is not in a cycle while the collector is paused.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused(*, freeze: bool = False) -> Iterator[None]:
    """Run the block with the cyclic collector off; restore it after.

    ``freeze``: move every object alive at the end of the block to the permanent
    generation (:func:`gc.freeze`), so the collections of a long run (hours of network
    checks) no longer walk the loaded timeline and link state each time.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_enabled:
            gc.enable()
