"""What the evidence store stage takes: :class:`StoreOptions`, a frozen record built from the settings."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: the schemes obstore reaches as object stores (anything else is a folder)
OBJECT_SCHEMES = ("s3", "s3a", "gs", "az", "azure", "abfs", "abfss", "adl")


@dataclass(frozen=True, slots=True)
class StoreOptions:
    """Where the evidence store is and how hard to try it (see the ``evidence_*`` settings)."""

    #: the store URL as configured (a folder path, ``file://``, ``s3://bucket/prefix``, ...)
    url: str
    #: the folder holding the runs' WARC files (``warc_dir``), None when WARC records are off
    warc_folder: Path | None
    #: where the ledger of pushed and pending files is kept (beside the link state)
    ledger_path: Path
    keep_local: bool = True
    timeout: float = 60.0
    retries: int = 3

    @classmethod
    def from_settings(cls, settings: Any) -> StoreOptions:
        folder = settings.warc_folder
        url = settings.evidence_store or (str(folder.resolve()) if folder is not None else "")
        return cls(url=url, warc_folder=folder, ledger_path=Path(settings.snapshots) / "evidence-store.json",
                   keep_local=settings.evidence_keep_local, timeout=settings.evidence_timeout,
                   retries=settings.evidence_retries)

    @property
    def scheme(self) -> str:
        """``s3``, ``gs``, ``az``... or ``file`` for a folder."""
        scheme = urlsplit(self.url).scheme.lower()
        return scheme if scheme in OBJECT_SCHEMES else "file"

    @property
    def folder(self) -> Path | None:
        """The store's folder when it is a local one, else None."""
        if self.scheme != "file":
            return None
        parts = urlsplit(self.url)
        return Path(parts.path if parts.scheme == "file" else self.url).expanduser().resolve()

    @property
    def is_warc_folder(self) -> bool:
        """The store is the WARC folder itself: nothing to push (the default)."""
        folder = self.folder
        return folder is not None and self.warc_folder is not None and folder == self.warc_folder.resolve()

    @property
    def public_url(self) -> str:
        """The store URL fit for logs and reports: no user, password, query or fragment."""
        return public_url(self.url) if self.scheme != "file" else str(self.folder)


def public_url(url: str) -> str:
    """``url`` without what could carry a secret (user info, query string, fragment)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))
