"""What has been pushed to the evidence store and what is pending: ``snapshots/evidence-store.json``.

One small JSON file beside the link state, written atomically after every verified upload, so a run
killed mid-push loses at most the upload in flight (redone by the next run: the same bytes under
the same key count as done). ``pushed`` maps a key (``warcs/<file>``) to the store it went to, its
size and sha256; ``pending`` maps a key to the local file still to push and the last error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..support import atomic


@dataclass(slots=True)
class Ledger:
    path: Path
    pushed: dict[str, dict[str, Any]] = field(default_factory=dict)
    pending: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Ledger:
        """The ledger at ``path`` (empty when missing or unreadable: every file is then checked again)."""
        try:
            data = json.loads(path.read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return cls(path)
        if not isinstance(data, dict):
            return cls(path)
        pushed, pending = data.get("pushed"), data.get("pending")
        return cls(path, dict(pushed) if isinstance(pushed, dict) else {},
                   dict(pending) if isinstance(pending, dict) else {})

    def save(self) -> None:
        data = {"pushed": dict(sorted(self.pushed.items())), "pending": dict(sorted(self.pending.items()))}
        atomic.write_text(self.path, json.dumps(data, indent=1) + "\n")

    def is_pushed(self, key: str, store: str) -> bool:
        entry = self.pushed.get(key)
        return entry is not None and entry.get("store") == store

    def mark_pushed(self, key: str, entry: dict[str, Any]) -> None:
        self.pushed[key] = entry
        self.pending.pop(key, None)

    def mark_pending(self, key: str, local: Path, error: str | None) -> None:
        self.pending[key] = {"local": str(local), "error": error}

    def location(self, key: str) -> dict[str, Any] | None:
        """``{"store": ..., "key": ...}`` of a pushed key, else None."""
        entry = self.pushed.get(key)
        return {"store": entry.get("store"), "key": key} if entry else None
