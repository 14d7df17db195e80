"""A dead link's verified new address (issue 23), as the link state keeps it between runs.

Written by the relocate stage, read by the report (``links[].replacement``), the ``relocated`` finding and
``archiver annotate --write --relocations``. Keys this version does not know are kept as they were read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_KNOWN = ("url", "method", "evidence", "title_similarity", "checked_at", "dropped")


@dataclass(slots=True)
class ReplacementRecord:
    """The verified new address of a dead link: where it was found and the sentence a maintainer can check.

    ``dropped`` is the sentence saying why a replacement no longer holds (its page stopped answering or
    matching): a dropped record is kept for the evidence, never reported as a fix."""

    url: str
    method: str
    evidence: str
    title_similarity: float | None = None
    checked_at: str | None = None
    dropped: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def active(self) -> bool:
        return self.dropped is None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url, "method": self.method, "evidence": self.evidence,
                               "title_similarity": self.title_similarity, "checked_at": self.checked_at}
        if self.dropped is not None:
            out["dropped"] = self.dropped
        out.update({k: v for k, v in self.extra.items() if k not in out})
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReplacementRecord:
        similarity = data.get("title_similarity")
        return cls(url=str(data["url"]), method=str(data.get("method", "")), evidence=str(data.get("evidence", "")),
                   title_similarity=float(similarity) if isinstance(similarity, (int, float)) else None,
                   checked_at=data.get("checked_at"), dropped=data.get("dropped"),
                   extra={k: v for k, v in data.items() if k not in _KNOWN})
