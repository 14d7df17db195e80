"""Opening the evidence store through obstore, and its errors as one clear line.

Credentials are never passed in or kept here: obstore reads the standard variables itself
(``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_REGION``, ``AWS_ENDPOINT_URL``;
``GOOGLE_APPLICATION_CREDENTIALS``/``GOOGLE_SERVICE_ACCOUNT``; ``AZURE_STORAGE_ACCOUNT_NAME``/
``AZURE_STORAGE_ACCOUNT_KEY``...). Every message that leaves this module goes through :func:`scrub`,
which blanks the value of any variable that looks like a secret, in case a server echoed one.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ..errors import ArchiverError
from .options import StoreOptions

if TYPE_CHECKING:
    from obstore.store import ObjectStore

#: per scheme, the variables that hold its credentials (named in error messages)
CREDENTIAL_VARS = {
    "s3": "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (with AWS_REGION, and AWS_ENDPOINT_URL for a non-AWS service)",
    "gs": "GOOGLE_APPLICATION_CREDENTIALS or GOOGLE_SERVICE_ACCOUNT",
    "az": "AZURE_STORAGE_ACCOUNT_NAME and AZURE_STORAGE_ACCOUNT_KEY (or AZURE_STORAGE_SAS_KEY)",
    "file": "none (a folder)",
}
_SECRET_WORDS = ("SECRET", "KEY", "TOKEN", "PASSWORD", "SAS", "CREDENTIAL", "SIGNATURE", "SESSION")
_FAMILIES = ("AWS_", "GOOGLE_", "AZURE_")
_ROLE_VARS = ("AWS_ACCESS_KEY_ID", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
              "AWS_CONTAINER_CREDENTIALS_FULL_URI")


class EvidenceStoreError(ArchiverError):
    """The evidence store cannot be used: ``kind`` is ``credentials``, ``unreachable``, ``conflict`` (the key
    holds other bytes), ``local`` (the local file cannot be read) or ``failed``; the message is one line,
    naming the setting or the variables to fix, never a secret."""

    def __init__(self, message: str, kind: str = "failed") -> None:
        super().__init__(message)
        self.kind = kind


def family(options: StoreOptions) -> str:
    """``s3``, ``gs``, ``az`` or ``file``: whose credential variables apply."""
    scheme = options.scheme
    return "s3" if scheme in ("s3", "s3a") else "gs" if scheme == "gs" else "file" if scheme == "file" else "az"


def scrub(text: str, env: Mapping[str, str] | None = None) -> str:
    """``text`` on one line, without obstore's debug dump, with every secret-looking variable's value blanked."""
    env = os.environ if env is None else env
    line = " ".join(text.split("Debug source:")[0].split())
    for name, value in env.items():
        if len(value) >= 4 and any(word in name.upper() for word in _SECRET_WORDS) and value in line:
            line = line.replace(value, "***")
    return line[:300]


def credentials_error(options: StoreOptions) -> EvidenceStoreError:
    return EvidenceStoreError(
        f"the evidence store {options.public_url} refused the credentials (setting evidence_store / "
        f"ARCHIVER_EVIDENCE_STORE): check {CREDENTIAL_VARS[family(options)]}", "credentials")


def open_store(options: StoreOptions, env: Mapping[str, str] | None = None) -> ObjectStore:
    """The obstore store of ``options.url`` (a folder is created when missing)."""
    from obstore.store import LocalStore, from_url

    if env is None:
        env = os.environ
        for name in [n for n, v in env.items() if n.startswith(_FAMILIES) and not v.strip()]:
            # an unset repository secret reaches a workflow step as "": obstore would take it as a value
            del os.environ[name]
    folder = options.folder
    if folder is not None:
        return LocalStore(folder, mkdir=True)
    if family(options) == "s3" and not any(env.get(name) for name in _ROLE_VARS):
        raise EvidenceStoreError(
            f"no credentials for the evidence store {options.public_url} (setting evidence_store / "
            f"ARCHIVER_EVIDENCE_STORE): set {CREDENTIAL_VARS['s3']}", "credentials")
    retry: Any = {"max_retries": max(0, options.evidence_retries - 1),
                  "retry_timeout": dt.timedelta(seconds=options.evidence_timeout)}
    timeout = options.evidence_timeout
    client: Any = {"timeout": f"{timeout}s", "connect_timeout": f"{min(timeout, 10.0)}s"}
    if env.get("AWS_ALLOW_HTTP", "").strip().lower() in ("1", "true", "yes"):
        client["allow_http"] = True  # passing client options replaces obstore's own reading of it
    try:
        return from_url(options.url, retry_config=retry, client_options=client)
    except Exception as exc:  # obstore raises its own tree (and ValueError for a bad URL)
        raise EvidenceStoreError(f"cannot open the evidence store {options.public_url}: {scrub(str(exc), env)}",
                                 "failed") from None


def store_error(options: StoreOptions, exc: BaseException, what: str) -> EvidenceStoreError:
    """An obstore failure as one clear line: bad credentials name the variables to fix."""
    from obstore.exceptions import PermissionDeniedError, UnauthenticatedError

    if isinstance(exc, EvidenceStoreError):
        return exc
    if isinstance(exc, (PermissionDeniedError, UnauthenticatedError)):
        return credentials_error(options)
    text = scrub(str(exc))
    kind = "unreachable" if any(word in text.lower() for word in ("connect", "timed out", "timeout", "dns",
                                                                    "refused", "reset", "closed")) else "failed"
    return EvidenceStoreError(f"{what} in the evidence store {options.public_url} failed: {text}", kind)
