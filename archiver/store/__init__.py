"""The evidence store: where the raw captures (the runs' WARC files, their CDXJ indexes, the nights'
WACZ packages) are kept for good, so that every snapshot's ``warc_file``/``warc_record_id`` names a
record that still exists years later.

The store is a URL (setting ``evidence_store``): a folder, or an object store (``s3://``, ``gs://``,
``az://``) reached through obstore (the Rust ``object_store`` crate): requests are signed there,
credentials come only from the standard environment variables and are never logged.

* :mod:`.options`: :class:`~.options.StoreOptions`, built from the settings, is what this package takes;
* :mod:`.client`: opening the store, and its errors as one clear line (secrets scrubbed);
* :mod:`.ledger`: what has been pushed and what is pending (``snapshots/evidence-store.json``, atomic);
* :mod:`.push`: every finished file uploaded under ``warcs/<file>`` with ``mode="create"`` (a key is
  never overwritten) and read back to verify it;
* :mod:`.records`: one record read back by a range read, from the local file or the store.

This package imports neither :mod:`archiver.pipeline` nor :mod:`archiver.cli`: they call it.
"""
