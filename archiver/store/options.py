"""What the evidence store stage takes: :class:`StoreOptions`, built from the settings table like every
stage's options (``settings.store_options``; declared in :mod:`archiver.options`)."""

from __future__ import annotations

from ..options import OBJECT_SCHEMES, StoreOptions, public_url

__all__ = ["OBJECT_SCHEMES", "StoreOptions", "public_url"]
