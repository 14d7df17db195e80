"""The closed sets of archiver.models: members, doc lines, the severity table, and the JSON they write."""

from __future__ import annotations

import ast
import json
from importlib import resources
from pathlib import Path

import orjson

import archiver
from archiver.models import (
    FAILING_STATUSES,
    FINDING_SEVERITY,
    LINK_STATUSES,
    Finding,
    FindingKind,
    LinkStatus,
    Severity,
)

PACKAGE = Path(archiver.__file__).resolve().parent


def _schema() -> dict:
    return json.loads(resources.files("archiver").joinpath("schema/report-v1.schema.json").read_text("utf-8"))


def test_link_status_members_are_the_schema_enum_in_order() -> None:
    schema = _schema()
    assert [s.value for s in LinkStatus] == schema["properties"]["links"]["items"]["properties"]["status"]["enum"]
    assert tuple(LinkStatus) == LINK_STATUSES
    assert {"dead", "soft_404"} == FAILING_STATUSES


def test_severity_members_are_the_schema_enum_and_sort_errors_first() -> None:
    schema = _schema()
    assert [s.value for s in Severity] == schema["properties"]["findings"]["items"]["properties"]["severity"]["enum"]
    assert sorted([Severity.INFO, Severity.ERROR, Severity.WARNING], key=lambda s: s.order) == [
        Severity.ERROR, Severity.WARNING, Severity.INFO]


def _enum_docs(path: Path, name: str) -> dict[str, bool]:
    """Member name -> whether a ``#:`` doc line precedes it in the class body."""
    lines = path.read_text("utf-8").splitlines()
    tree = ast.parse("\n".join(lines))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    out: dict[str, bool] = {}
    for node in cls.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = lines[node.lineno - 2].strip().startswith("#:")
    return out


def test_every_member_has_a_doc_line() -> None:
    for enum in (Severity, LinkStatus, FindingKind):
        docs = _enum_docs(PACKAGE / "models.py", enum.__name__)
        assert set(docs) == set(enum.__members__), enum
        assert all(docs.values()), [name for name, ok in docs.items() if not ok]


def test_every_finding_kind_has_a_default_severity() -> None:
    assert set(FINDING_SEVERITY) == set(FindingKind)
    assert all(isinstance(s, Severity) for s in FINDING_SEVERITY.values())


def _raised_kinds() -> set[str]:
    """Finding kinds written as literals anywhere in archiver/: ``kind="..."`` / ``ctx.add("...")``
    / ``FindingKind.X``."""
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text("utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
                if name == "Finding":
                    for kw in node.keywords:
                        if kw.arg == "kind" and isinstance(kw.value, ast.Constant):
                            found.add(kw.value.value)
                if name == "add" and node.args and isinstance(node.args[0], ast.Constant) and isinstance(
                        node.args[0].value, str) and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) \
                        and node.args[1].value in {"error", "warning", "info"}:
                    found.add(node.args[0].value)
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "FindingKind":
                found.add(FindingKind[node.attr].value)
    return found


def test_every_kind_raised_in_the_code_is_a_member() -> None:
    raised = _raised_kinds()
    assert len(raised) >= 20  # the scan sees the call sites
    assert raised <= {k.value for k in FindingKind}, raised - {k.value for k in FindingKind}


def test_enums_write_the_same_json_as_the_strings_they_replace() -> None:
    finding = Finding(kind=FindingKind.DEAD_LINK, severity=Severity.ERROR, message="m")
    as_str = Finding(kind="dead_link", severity="error", message="m")  # type: ignore[arg-type]
    assert json.dumps(finding.to_dict(), indent=1) == json.dumps(as_str.to_dict(), indent=1)
    assert orjson.dumps(finding.to_dict()) == orjson.dumps(as_str.to_dict())
    keyed = {LinkStatus.DEAD: 1, "x": LinkStatus.SOFT_404}
    assert json.dumps(keyed, ensure_ascii=False) == '{"dead": 1, "x": "soft_404"}'
    assert orjson.dumps(keyed, option=orjson.OPT_NON_STR_KEYS) == b'{"dead":1,"x":"soft_404"}'
    assert f"{LinkStatus.SOFT_404}" == str(LinkStatus.SOFT_404) == "soft_404"
    assert LinkStatus("dead") is LinkStatus.DEAD


def test_timefmt_iso_drops_microseconds_and_iso_precise_keeps_them() -> None:
    import datetime as dt

    from archiver.support.timefmt import iso, iso_precise, parse_iso

    stamp = dt.datetime(2026, 3, 1, 2, 0, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert iso(stamp) == "2026-03-01T00:00:05Z"
    assert iso_precise(stamp) == "2026-03-01T00:00:05.123456Z"
    assert iso_precise(None) is None
    assert parse_iso(iso_precise(stamp)) == stamp
    assert parse_iso(iso(stamp)) == stamp.replace(microsecond=0)
    assert parse_iso("") is None and parse_iso(None) is None


def test_state_files_round_trip_byte_for_byte(tmp_path: Path) -> None:
    """Every verdict, confirmed or not, with history: read back as enums, written back as the same bytes."""
    import datetime as dt

    from archiver.config import Settings
    from archiver.history.linkstate import LinkState, apply_result, new_state
    from archiver.history.store import StateStore, dumps
    from archiver.models import CheckResult

    settings = Settings(confirm_checks=2, confirm_days=0)
    t0 = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    store = StateStore(tmp_path)
    for n, status in enumerate(LinkStatus):
        key = f"https://example.org/{status}"
        state = new_state(key, key, t0)
        for night in range(3):
            apply_result(state, CheckResult(url=key, status=status.value, checked_at=t0 + dt.timedelta(days=night),
                                            http_status=200 + n), settings, counted=night != 1)
        assert state.status is status and all(isinstance(r.status, LinkStatus) for r in state.history)
        store.save(state)
    assert store.states[f"https://example.org/{LinkStatus.DEAD}"].confirmed
    reread = StateStore(tmp_path).load()
    assert len(reread.states) == len(LinkStatus)
    for key, state in reread.states.items():
        assert type(state.status) is LinkStatus
        raw = store.path(key).read_text("utf-8")
        assert dumps(LinkState.from_dict(json.loads(raw)).to_dict()) == raw
        assert f'"status": "{state.status.value}"' in raw


def test_failure_kinds_are_typed_and_documented() -> None:
    import pytest

    from archiver.liveness.errors import DNSFailure, FailureKind, FetchFailure, TLSFailure

    docs = _enum_docs(PACKAGE / "liveness" / "errors.py", "FailureKind")
    assert set(docs) == set(FailureKind.__members__) and all(docs.values())
    assert FetchFailure("host_timeouts", "m", transient=False).kind is FailureKind.HOST_TIMEOUTS
    assert DNSFailure("x.invalid", "m", nxdomain=True).kind is FailureKind.NXDOMAIN
    assert TLSFailure("m").kind is FailureKind.TLS
    assert f"{FailureKind.READ_TIMEOUT}" == "read_timeout"
    with pytest.raises(ValueError):
        FetchFailure("no_such_kind", "m", transient=True)
