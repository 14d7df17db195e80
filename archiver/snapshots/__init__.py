"""Text snapshots: what each live page said when it was checked, kept with its provenance under ``snapshots/``.

After the check, the stage (:mod:`.stage`) sends each alive page's body to worker processes
(:mod:`.pool`) that extract its text (:mod:`.extract`: trafilatura for HTML, pypdfium2 for PDF;
charsets by :mod:`.encoding`); the store (:mod:`.store`) keeps the first good capture forever,
never replaces it by a worse one, and writes a new version only when the text drifted
(:mod:`.textsim` measures how much). Each save is one :class:`~.store.SnapshotAction`.
"""
