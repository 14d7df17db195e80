"""The evidence store against a real S3 server (SeaweedFS on loopback) and a folder: pushes read back
byte-identical, one record by a range read, an outage mid-push completed by the next run, wrong
credentials refused clearly with the local copy kept, no secret in any output, keys never overwritten."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import obstore
import pytest
from obstore.store import S3Store
from warcio.archiveiterator import ArchiveIterator

from archiver.config import ConfigError, load_settings
from archiver.models import RawExchange
from archiver.snapshots.store import parse
from archiver.snapshots.warc import WarcRun
from archiver.store import push as push_module
from archiver.store.ledger import Ledger
from archiver.store.options import StoreOptions
from archiver.store.push import push
from tests.snapshots.test_snapshot_cli import FAST, invoke, write_event
from tests.snapshots.test_warc import _capture
from tests.support.farm import Conn, Farm, FarmHost, Request
from tests.support.pagefixtures import page
from tests.support.seaweed import ACCESS_KEY, BUCKET, REGION, SECRET_KEY, Weed

ARTICLE = page("riverton-gazette")
SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "archiver/schema/report-v1.schema.json").read_text())


async def _serve(req: Request, conn: Conn) -> None:
    if req.path.startswith("/news/"):
        await conn.send(200, ARTICLE.body, content_type=ARTICLE.content_type)
    else:
        await conn.send(404, b"<html><head><title>Not found</title></head><body>Not found</body></html>")


@pytest.fixture(scope="module")
def host() -> Iterator[FarmHost]:
    farm = Farm().start()
    try:
        yield farm.add("evidence", _serve)
    finally:
        farm.stop()


def _bucket(weed: Weed) -> S3Store:
    return S3Store(BUCKET, endpoint=weed.endpoint, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
                   region=REGION, client_options={"allow_http": True})


def _env(weed: Weed, prefix: str, **more: str) -> dict[str, str]:
    return {**weed.env(), "ARCHIVER_EVIDENCE_STORE": f"s3://{BUCKET}/{prefix}", "ARCHIVER_EVIDENCE_RETRIES": "1",
            "ARCHIVER_EVIDENCE_TIMEOUT": "5", "ARCHIVER_NOW": "2024-03-13T02:00:00Z", **more}


def _check(host: FarmHost, tmp_path: Path, env: dict[str, str]) -> tuple[int, str, str]:
    events = tmp_path / "events"
    events.mkdir(exist_ok=True)
    write_event(events, "2024-03-12--cameras", [host.url("/news/one"), host.url("/news/two")])
    return invoke(["check", "--events", "events", "--snapshots", "snaps", "--report-dir", "out", "--quiet", *FAST],
                  tmp_path, env=env)


def _no_secret_anywhere(tmp_path: Path, *outputs: str, secrets: tuple[str, ...] = (SECRET_KEY,)) -> None:
    """No secret in the outputs, nor in any file under ``tmp_path`` (reports, logs, ledger, snapshots)."""
    for secret in secrets:
        for text in outputs:
            assert secret not in text
        for path in tmp_path.rglob("*"):
            if path.is_file():
                assert secret.encode() not in path.read_bytes(), path


def _warcs(folder: Path, n: int, size: int = 50_000) -> list[Path]:
    """``n`` finished WARC files (one run each) with their indexes."""
    out = []
    for i in range(n):
        run = WarcRun(folder, dt.datetime(2024, 3, 10 + i, 2, tzinfo=dt.UTC))
        url = f"https://example.org/story-{i}"
        body = (f"<html><body>{i} ".encode() + b"x" * size + b"</body></html>")
        exchange = RawExchange(url=url, method="GET", status=200, reason="OK", http_version="HTTP/1.1",
                               headers=[("Content-Type", "text/html")], request_headers=[("Accept", "*/*")],
                               peer_ip="192.0.2.1")
        run.write(_capture("live", url, exchange, body))
        path = run.close()
        assert path is not None
        out.append(path)
    return out


def _options(tmp_path: Path, url: str, *, keep_local: bool = True, timeout: float = 60.0,
             retries: int = 3) -> StoreOptions:
    return StoreOptions(evidence_store=url, evidence_keep_local=keep_local, evidence_timeout=timeout,
                        evidence_retries=retries, snapshots=tmp_path / "snaps", warc_dir=tmp_path / "warcs")


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_a_run_pushes_its_warc_and_it_reads_back_byte_identical(weed: Weed, host: FarmHost, tmp_path: Path) -> None:
    code, out, err = _check(host, tmp_path, _env(weed, "run1"))
    assert code == 0, err
    warc = tmp_path / "warcs" / "archiver-20240313T020000Z.warc.gz"
    index = warc.with_name("archiver-20240313T020000Z.cdxj")
    bucket = _bucket(weed)
    for local in (warc, index):
        assert bytes(obstore.get(bucket, f"run1/warcs/{local.name}").bytes()) == local.read_bytes()
    assert f"evidence store s3://{BUCKET}/run1: 2 file(s) pushed" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    jsonschema.validate(report, SCHEMA)
    assert report["run"]["evidence_store"] == {"store": f"s3://{BUCKET}/run1", "pushed": 2, "pending": 0,
                                               "errors": []}
    located = [link["snapshot"]["warc"] for link in report["links"] if link.get("snapshot")]
    assert len(located) == 2
    for where in located:
        assert where["store"] == f"s3://{BUCKET}/run1" and where["key"] == f"warcs/{warc.name}"
        assert where["offset"] > 0 and where["length"] > 0 and where["record_id"].startswith("<urn:uuid:")
        # a range read of exactly offset/length is one record: the response the snapshot names
        member = bytes(obstore.get_range(bucket, f"run1/{where['key']}", start=where["offset"],
                                         length=where["length"]))
        records = [(r.rec_type, r.rec_headers.get_header("WARC-Record-ID"), r.content_stream().read())
                   for r in ArchiveIterator(io.BytesIO(member))]
        assert records == [("response", where["record_id"], ARTICLE.body)]
    for snapshot in (tmp_path / "snaps").glob("*/*/snapshot.md"):  # the headers say where the record is kept
        parsed = parse(snapshot.read_text("utf-8"))
        assert parsed is not None
        header = parsed[0]
        assert (header["warc_store"], header["warc_key"]) == (f"s3://{BUCKET}/run1", f"warcs/{warc.name}")
        assert isinstance(header["warc_offset"], int) and isinstance(header["warc_length"], int)
    _no_secret_anywhere(tmp_path, out, err)


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_show_raw_reads_the_record_from_the_store_once_the_local_file_is_gone(weed: Weed, host: FarmHost,
                                                                               tmp_path: Path) -> None:
    env = _env(weed, "raw")
    assert _check(host, tmp_path, env)[0] == 0
    for path in (tmp_path / "warcs").iterdir():
        path.unlink()  # as on the next nightly runner: the store is the only copy
    code, out, err = invoke(["show", host.url("/news/one"), "--snapshots", "snaps", "--raw"], tmp_path, env=env)
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200")
    assert out.endswith(ARTICLE.body.decode("utf-8"))  # the recorded body, after the status line and headers
    assert f"record read from s3://{BUCKET}/raw/warcs/archiver-20240313T020000Z.warc.gz" in err
    # the runs kept in the store, packed from there (nothing local left)
    code, pack_out, err = invoke(["pack", "--snapshots", "snaps", "--from-store", "--since", "2024-03-13",
                                  "--until", "2024-03-13", "--out", "kept.wacz"], tmp_path, env=env)
    assert code == 0, err
    with zipfile.ZipFile(tmp_path / "kept.wacz") as zf:
        assert "archive/archiver-20240313T020000Z.warc.gz" in zf.namelist()
    code, _, err = invoke(["pack", "--snapshots", "snaps", "--from-store", "--since", "2024-03-14", "--out", "x.wacz"],
                          tmp_path, env=env)
    assert code == 2 and "no WARC files in the evidence store" in err
    _no_secret_anywhere(tmp_path, out, err, pack_out)


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_show_raw_reads_the_local_file_with_the_default_store(host: FarmHost, tmp_path: Path) -> None:
    env = {"ARCHIVER_NOW": "2024-03-13T02:00:00Z"}
    code, out, err = _check(host, tmp_path, env)
    assert code == 0, err
    assert "evidence store" not in out  # the default: the WARC folder is where they are kept, nothing pushed
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    assert "evidence_store" not in report["run"]
    warc = tmp_path / "warcs" / "archiver-20240313T020000Z.warc.gz"
    (where,) = {json.dumps(link["snapshot"]["warc"], sort_keys=True) for link in report["links"]
                if link.get("snapshot") and link["url"].endswith("/news/one")}
    assert json.loads(where)["store"] == "warcs" and "pending" not in where  # relative, as snapshot.path
    code, out, err = invoke(["show", host.url("/news/one"), "--snapshots", "snaps", "--raw"], tmp_path, env=env)
    assert code == 0, err
    assert out.startswith("HTTP/1.1 200") and out.endswith(ARTICLE.body.decode("utf-8"))
    assert f"record read from warcs/{warc.name}" in err


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_the_store_going_down_mid_push_loses_nothing(weed: Weed, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    warcs = _warcs(tmp_path / "warcs", 3)
    for name, value in {**weed.env()}.items():
        monkeypatch.setenv(name, value)
    options = _options(tmp_path, f"s3://{BUCKET}/outage", retries=1, timeout=5)
    real_upload, calls = push_module.upload, []

    def upload_then_die(*args: Any) -> dict[str, Any]:
        entry = real_upload(*args)
        calls.append(args[2])
        if len(calls) == 1:
            weed.kill()  # the store goes away after the first verified upload
        return entry

    monkeypatch.setattr(push_module, "upload", upload_then_die)
    first = push(options)
    assert first.pushed == [f"warcs/{warcs[0].name}"]
    assert len(first.pending) == 5 and first.errors and "outage" in first.errors[0]
    assert "pending" in first.line() and "archiver push" in first.line()
    assert set(Ledger.load(options.ledger_path).pending) == set(first.pending)
    assert all(p.is_file() for p in warcs)  # nothing local is dropped while pending
    weed.start()
    monkeypatch.setattr(push_module, "upload", real_upload)
    code, out, err = invoke(["push"], tmp_path, env={**_env(weed, "outage"), "ARCHIVER_SNAPSHOTS": "snaps"})
    assert code == 0, err
    assert f"evidence store s3://{BUCKET}/outage: 5 file(s) pushed" in out  # the pending ones, and only those
    bucket = _bucket(weed)
    for warc in warcs:
        for local in (warc, warc.with_name(warc.name.replace(".warc.gz", ".cdxj"))):
            assert bytes(obstore.get(bucket, f"outage/warcs/{local.name}").bytes()) == local.read_bytes()
    assert not Ledger.load(options.ledger_path).pending
    assert push(options).pushed == []  # all done: nothing pushed twice


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_wrong_credentials_are_refused_clearly_and_the_local_copy_stays(weed: Weed, tmp_path: Path) -> None:
    warcs = _warcs(tmp_path / "warcs", 1)
    wrong = "wrong-SECRET-do-not-print-42"
    env = {**_env(weed, "creds"), "AWS_SECRET_ACCESS_KEY": wrong, "ARCHIVER_SNAPSHOTS": "snaps"}
    code, out, err = invoke(["push"], tmp_path, env=env)
    assert code == 2
    assert "refused the credentials" in err and "AWS_ACCESS_KEY_ID" in err and "AWS_SECRET_ACCESS_KEY" in err
    assert "evidence_store" in err
    assert "2 pending" in out
    assert warcs[0].is_file()
    assert set(Ledger.load(tmp_path / "snaps" / "evidence-store.json").pending) == {
        f"warcs/{warcs[0].name}", f"warcs/{warcs[0].name.replace('.warc.gz', '.cdxj')}"}
    _no_secret_anywhere(tmp_path, out, err, secrets=(wrong, SECRET_KEY))
    code, out, err = invoke(["push"], tmp_path, env={**env, "AWS_SECRET_ACCESS_KEY": SECRET_KEY})
    assert code == 0, err
    assert "2 file(s) pushed" in out


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_a_run_with_the_store_down_keeps_its_work_and_exit_code(weed: Weed, host: FarmHost, tmp_path: Path) -> None:
    env = _env(weed, "down", AWS_ENDPOINT_URL="http://127.0.0.1:9")  # nothing listens there
    code, out, err = _check(host, tmp_path, env)
    assert code == 0, err
    assert "2 pending" in out and "the next run or `archiver push` retries them" in out
    report = json.loads((tmp_path / "out" / "report.json").read_text("utf-8"))
    record = report["run"]["evidence_store"]
    assert record["pushed"] == 0 and record["pending"] == 2 and record["errors"]
    assert all(link["snapshot"]["warc"].get("pending") for link in report["links"] if link.get("snapshot"))
    assert (tmp_path / "warcs" / "archiver-20240313T020000Z.warc.gz").is_file()
    assert not [p for p in (tmp_path / "snaps").glob("*/*/snapshot.md") if "warc_store" in p.read_text("utf-8")]
    _no_secret_anywhere(tmp_path, out, err)


@pytest.mark.subprocess  # weed, or the check's extraction workers
def test_keys_are_never_overwritten(weed: Weed, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    warcs = _warcs(tmp_path / "warcs", 2)
    for name, value in weed.env().items():
        monkeypatch.setenv(name, value)
    bucket = _bucket(weed)
    obstore.put(bucket, f"keys/warcs/{warcs[0].name}", b"someone else's bytes")
    obstore.put(bucket, f"keys/warcs/{warcs[1].name}", warcs[1].read_bytes())  # the same bytes: counts as done
    outcome = push(_options(tmp_path, f"s3://{BUCKET}/keys", retries=1, timeout=5))
    assert outcome.pending == [f"warcs/{warcs[0].name}"]
    assert "holds other bytes: not overwritten" in outcome.errors[0]
    assert bytes(obstore.get(bucket, f"keys/warcs/{warcs[0].name}").bytes()) == b"someone else's bytes"
    assert f"warcs/{warcs[1].name}" in outcome.pushed


def test_a_folder_store_and_keep_local_off(tmp_path: Path) -> None:
    warcs = _warcs(tmp_path / "warcs", 2)
    options = _options(tmp_path, str(tmp_path / "kept"), keep_local=False)
    outcome = push(options)
    assert len(outcome.pushed) == 4 and not outcome.pending
    for warc in warcs:
        assert not warc.exists()  # deleted only after its upload was verified
        assert (tmp_path / "kept" / "warcs" / warc.name).is_file()
    assert push(options).pushed == []
    default = _options(tmp_path, str(tmp_path / "warcs"))
    assert default.is_warc_folder and not push(default).active
    (tmp_path / "warcs" / "gone.warc.gz").mkdir()  # a file that cannot be read: that one only is left pending
    odd = push(_options(tmp_path, str(tmp_path / "other")))
    assert odd.pending == ["warcs/gone.warc.gz"] and "cannot read" in odd.errors[0] and len(odd.pushed) == 0
    off = load_settings(env={"ARCHIVER_WARC_DIR": "off"}, cwd=tmp_path).store_options
    assert off.url == "" and not push(off).active  # warc_dir off and no store: nothing to push, nothing said


def test_the_setting_refuses_credentials_in_the_url() -> None:
    with pytest.raises(ConfigError, match=r"evidence_store.*come from the environment") as caught:
        load_settings(env={"ARCHIVER_EVIDENCE_STORE": "s3://AKIDX:hunter2secret@bucket/p"}, cwd=Path("/nonexistent"))
    assert "hunter2secret" not in str(caught.value)
    options = load_settings(env={"ARCHIVER_EVIDENCE_STORE": "s3://bucket/night?x=1"},
                            cwd=Path("/nonexistent")).store_options
    assert options.public_url == "s3://bucket/night" and options.scheme == "s3"
