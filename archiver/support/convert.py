"""The settings' value converters: text (from a file, the environment or a flag) to a checked value.

Each raises ``ValueError`` with a clear message; ``archiver.config`` names the setting and where the
value came from.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any


def bool_(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def positive_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number, got {value!r}")
    n = int(value)
    if n < 1:
        raise ValueError(f"must be at least 1, got {n}")
    return n


def non_negative_float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    x = float(value)
    if x < 0 or x != x:
        raise ValueError(f"must be zero or more, got {value!r}")
    return x


def positive_float(value: Any) -> float:
    x = non_negative_float(value)
    if x == 0:
        raise ValueError("must be more than zero")
    return x


def fraction(value: Any) -> float:
    x = non_negative_float(value)
    if x > 1:
        raise ValueError(f"must be between 0 and 1, got {value!r}")
    return x


@dataclass(frozen=True)
class Nullable:
    """A converter that also takes "", "none" and "off" for None (``conv`` converts the rest)."""

    conv: Callable[[Any], Any]

    def __call__(self, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "off")):
            return None
        return self.conv(value)


def optional(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return Nullable(conv)


def networks(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    out = []
    for item in items:
        item = str(item).strip()
        if not item:
            continue
        ipaddress.ip_network(item, strict=False)  # raises ValueError with a clear message
        out.append(item)
    return tuple(out)


def names(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def path(value: Any) -> Path:
    text = str(value).strip()
    if not text:
        raise ValueError("must not be empty")
    return Path(text)


def str_(value: Any) -> str:
    return str(value)


def store_url(value: Any) -> str:
    """A folder or an object-store URL; credentials in it are refused (they come from the environment)."""
    from urllib.parse import urlsplit

    text = str(value).strip()
    parts = urlsplit(text)
    if parts.password or parts.username or "secret" in parts.query.lower() or "sig=" in parts.query.lower():
        raise ValueError("put no credentials in the URL: they come from the environment (AWS_ACCESS_KEY_ID, ...)")
    return text


def now(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        stamp = value
    else:
        text = str(value).strip()
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        stamp = dt.datetime.fromisoformat(text)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=dt.UTC)
    return stamp.astimezone(dt.UTC)


#: the Python type of each converter's values, for the command line's flags
TYPES: Mapping[Callable[[Any], Any], type] = MappingProxyType({
    positive_int: int, non_negative_float: float, positive_float: float, fraction: float, path: Path,
    bool_: bool, str_: str})
