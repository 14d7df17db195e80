"""Throughput benchmark of ``archiver check`` against a local farm of slow hosts (issue 3).

A farm of ~200 loopback hosts (127.0.0.2, 127.0.0.3, ...) answers with 50-200 ms of
latency; ~5,000 article URLs are spread over them with the skew of the real corpus
(the busiest host has ~8% of all URLs). A temporary events folder cites them, and
``archiver check`` runs on it as a subprocess with fixed per-host limits. Printed:
wall time, the politeness lower bound, their ratio, CPU seconds per 1,000 URLs,
peak memory, and the same figures for LinkChecker run on the same URLs with the
same limits where it has them. All traffic stays on loopback.

    .venv/bin/python benchmarks/check_throughput.py            # full size (~5,000 URLs, 200 hosts)
    .venv/bin/python benchmarks/check_throughput.py --quick    # smoke run (500 URLs, 40 hosts)
    .venv/bin/python benchmarks/check_throughput.py --throttle-only   # only the throttling hosts (issue 13)

Throttling hosts (issue 13, after the main runs unless ``--throttle-hosts 0``): a few more
loopback hosts that accept one request every ``--throttle-interval`` seconds and answer
faster ones with 429 and a ``Retry-After`` HTTP date (rounded up to the second). A
politeness monitor (the hosts' own log) counts requests that arrived before a
Retry-After the host had given (must be 0); wall time is compared with the bound the
hosts' own limits set: (requests to the busiest host - 1) x interval.

Exit status: 0 when every tool that ran checked every URL as alive, 1 otherwise,
2 when the benchmark itself could not run (farm, archiver missing, ...).
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import ipaddress
import itertools
import json
import math
import os
import random
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))
from latency_farm import WORDS, article_date, host_address, latency_for, title_for

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = Path("/work/shared/corpus/capture-cascade/events")
DEFAULT_LC_VENV = Path(__file__).resolve().parent / ".venv-linkchecker"
PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "ftp_proxy", "no_proxy"}
#: an address nothing listens on: archive services are pointed here so that no run can reach the internet
DEAD_END = "http://127.0.0.1:9"
TARGET_RATIO, TARGET_RSS_MB = 1.2, 300.0
THROTTLE_RATIO = 1.3


# --------------------------------------------------------------------------- plan: hosts, URLs, bounds


def corpus_host_counts(events_dir: Path) -> list[int] | None:
    """Distinct URLs per host in a real timeline (descending), or None when it is absent."""
    if not events_dir.is_dir():
        return None
    url_re = re.compile(r"""^\s*-?\s*url:\s*["']?(https?://[^\s"']+)["']?\s*$""", re.MULTILINE)
    urls: set[str] = set()
    for path in events_dir.rglob("*.md"):
        text = path.read_text(encoding="utf-8", errors="replace")
        if not text.startswith("---"):
            continue
        urls.update(url_re.findall(text.split("\n---", 1)[0]))
    hosts = Counter((urlsplit(u).hostname or "").lower() for u in urls)
    hosts.pop("", None)
    return sorted(hosts.values(), reverse=True) or None


def shares_from_corpus(counts: Sequence[int], n_hosts: int) -> list[float]:
    """Per-host shares for ``n_hosts`` hosts keeping the corpus's head exactly.

    The K busiest corpus hosts keep their share of all URLs (so the busiest keeps
    its ~8%); the long tail of the corpus is folded evenly into the remaining
    ``n_hosts - K`` hosts, with K the largest that keeps the shares descending.
    """
    counts = list(counts) + [counts[-1]] * max(0, n_hosts - len(counts))
    total = float(sum(counts))
    head = 0
    for k in range(n_hosts - 1, -1, -1):
        tail_each = (total - sum(counts[:k])) / (n_hosts - k)
        if k == 0 or tail_each <= counts[k - 1]:
            head = k
            break
    tail_each = (total - sum(counts[:head])) / (n_hosts - head)
    return [c / total for c in counts[:head]] + [tail_each / total] * (n_hosts - head)


def shares_zipf(n_hosts: int, top_share: float = 0.08) -> tuple[list[float], float]:
    """Zipf-like shares 1/r^s with s chosen so that the busiest host has ``top_share``."""

    def top(s: float) -> float:
        return 1.0 / sum(r ** -s for r in range(1, n_hosts + 1))

    lo, hi = 0.0, 4.0
    if top(lo) >= top_share:
        hi = 0.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if top(mid) < top_share else (lo, mid)
    s = hi
    weights = [r ** -s for r in range(1, n_hosts + 1)]
    total = sum(weights)
    return [w / total for w in weights], s


def apportion(total: int, shares: Sequence[float]) -> list[int]:
    """Whole counts summing to ``total`` in proportion to ``shares`` (largest remainder), each at least 1."""
    raw = [total * s for s in shares]
    counts = [max(1, math.floor(x)) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - math.floor(raw[i]), reverse=True)
    i = 0
    while sum(counts) < total:
        counts[order[i % len(order)]] += 1
        i += 1
    while sum(counts) > total:  # only when the floor of 1 overshot: take from the largest
        counts[counts.index(max(counts))] -= 1
    return counts


@dataclass(slots=True)
class Plan:
    hosts: list[str]
    counts: list[int]
    paths: dict[str, list[str]]
    skew: str
    seed: int
    lo: float
    hi: float
    port: int = 0

    @property
    def n_urls(self) -> int:
        return sum(self.counts)

    def url(self, host: str, path: str) -> str:
        return f"http://{host}:{self.port}{path}"

    def latencies(self, host: str) -> list[float]:
        return [latency_for(self.seed, host, p, self.lo, self.hi) for p in self.paths[host]]


def make_plan(n_urls: int, n_hosts: int, seed: int, lo: float, hi: float, corpus: Path | None) -> Plan:
    counts_real = corpus_host_counts(corpus) if corpus else None
    if counts_real:
        shares = shares_from_corpus(counts_real, n_hosts)
        skew = (f"real corpus ({sum(counts_real):,} distinct URLs on {len(counts_real):,} hosts, busiest "
                f"{counts_real[0] / sum(counts_real):.1%}), head kept and tail folded into {n_hosts} hosts")
    else:
        shares, s = shares_zipf(n_hosts)
        skew = f"Zipf-like 1/rank^{s:.3f} (no corpus found), busiest host 8%"
    counts = apportion(n_urls, shares)
    rng = random.Random(f"plan|{seed}")
    hosts = [host_address(i) for i in range(n_hosts)]
    paths: dict[str, list[str]] = {}
    for host, n in zip(hosts, counts, strict=True):
        seen: set[str] = set()
        while len(seen) < n:
            slug = "-".join(rng.choice(WORDS) for _ in range(rng.randint(3, 7)))
            path = f"/{rng.randint(2012, 2024)}/{rng.randint(1, 12):02d}/{slug}.html"
            if path in seen:
                path = path.replace(".html", f"-{len(seen)}.html")
            seen.add(path)
        paths[host] = sorted(seen)
    return Plan(hosts=hosts, counts=counts, paths=paths, skew=skew, seed=seed, lo=lo, hi=hi)


def write_events(plan: Plan, folder: Path, per_event: int, seed: int) -> list[str]:
    """One Markdown event per ``per_event`` URLs; returns the URLs in citation order."""
    rng = random.Random(f"events|{seed}")
    pairs = [(h, p) for h in plan.hosts for p in plan.paths[h]]
    rng.shuffle(pairs)
    folder.mkdir(parents=True, exist_ok=True)
    order: list[str] = []
    for n, start in enumerate(range(0, len(pairs), per_event), 1):
        chunk = pairs[start:start + per_event]
        lines = ["---", f"id: bench-{n:05d}", f"date: 20{rng.randint(15, 24)}-{rng.randint(1, 12):02d}-"
                 f"{rng.randint(1, 28):02d}", f"title: Benchmark event {n}", "importance: 5",
                 "tags:", "  - benchmark", "sources:"]
        for host, path in chunk:
            lines += [f"  - url: {plan.url(host, path)}", f"    title: {json.dumps(title_for(path))}",
                      f"    publisher: Site {host}", f"    date: {article_date(plan.seed, host, path)}",
                      f"    tier: {rng.choice((1, 1, 2, 2, 3))}"]
            order.append(plan.url(host, path))
        lines += ["status: confirmed", "---", "", f"Benchmark event {n} cites {len(chunk)} sources.", ""]
        (folder / f"bench-{n:05d}.md").write_text("\n".join(lines), encoding="utf-8")
    return order


@dataclass(slots=True)
class Bounds:
    issue: float  # max_h urls_h * g / c (the issue's formula)
    per_host: float  # max_h max((n_h - 1) g + L_min, sum L / c), n_h = urls + extra requests
    global_: float  # sum of all latencies / global concurrency
    busiest: str
    busiest_requests: int
    politeness_dominated: bool

    @property
    def best(self) -> float:
        return max(self.per_host, self.global_)


def compute_bounds(plan: Plan, gap: float, per_host: int, concurrency: int, extra: int) -> Bounds:
    """Lower bounds on the network phase, from the exact latencies the farm will serve.

    With a minimum gap ``g`` between request *starts* to one host, the n-th request
    of a host cannot start before (n - 1) g after the first, whatever the
    concurrency, and then still takes at least the shortest latency; independently,
    ``c`` connections can absorb at most ``c`` seconds of latency per second. So
    host h needs at least max((n_h - 1) g + L_min, sum(L) / c). The ``extra``
    requests per host (the checker's soft-404 probe of a random path) are counted
    in n_h with the smallest latency (their path is unknown in advance). When
    g >= L_max / c the gap alone decides: starting request i at i*g keeps at most
    c in flight, so the first term is reached exactly.
    """
    worst = (0.0, "")
    total_latency = 0.0
    for host in plan.hosts:
        lat = plan.latencies(host) + [plan.lo] * extra
        total_latency += sum(lat)
        bound = max((len(lat) - 1) * gap + min(lat), sum(lat) / per_host)
        worst = max(worst, (bound, host))
    busiest_i = max(range(len(plan.hosts)), key=lambda i: plan.counts[i])
    return Bounds(
        issue=max(n * gap / per_host for n in plan.counts),
        per_host=worst[0],
        global_=total_latency / concurrency,
        busiest=worst[1],
        busiest_requests=plan.counts[busiest_i] + extra,
        politeness_dominated=gap >= plan.hi / per_host,
    )


# --------------------------------------------------------------------------- processes

_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def _kill_group(pid: int, sig: int = signal.SIGTERM) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, sig)


def cleanup_children() -> None:
    """Stop every process group this script started and has not reaped yet."""
    for pid, proc in list(_CHILDREN.items()):
        if proc.returncode is None:
            _kill_group(pid)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                _kill_group(pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(5)
        _CHILDREN.pop(pid, None)


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment minus proxies and stray ARCHIVER_* settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS and not k.startswith("ARCHIVER_")}
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.0/8"
    env.update(extra)
    return env


@dataclass(slots=True)
class Measured:
    wall: float
    user: float  # CPU of the tool's whole process tree (workers included)
    system: float
    max_rss_mb: float  # peak RSS of the largest single process (kernel's ru_maxrss)
    tree_peak_mb: float | None  # peak of the summed PSS of all the run's processes (sampled)
    tree_processes: int  # most processes alive at once
    main_cpu: float  # CPU of the main process and the children it reaped itself (os.wait4)
    exit_code: int | None
    timed_out: bool
    spawned_at: float  # time.monotonic() at spawn

    @property
    def cpu(self) -> float:
        return self.user + self.system

    @property
    def peak_mb(self) -> float:
        return max(self.max_rss_mb, self.tree_peak_mb or 0.0)


def enable_subreaper() -> bool:
    """Adopt orphaned descendants (Linux ``PR_SET_CHILD_SUBREAPER``).

    A tool's worker processes (a multiprocessing fork server and its workers, say)
    may outlive or escape the tool's own ``wait``; adopted, they are reaped here, so
    their CPU still lands in ``RUSAGE_CHILDREN``.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return bool(libc.prctl(36, 1, 0, 0, 0) == 0)
    except (OSError, AttributeError):
        return False


def _proc_stat(pid: int) -> tuple[int, int] | None:
    """(parent pid, session id) of a live process, from /proc."""
    try:
        data = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = data.rsplit(")", 1)[1].split()
    if fields[0] == "Z":
        return int(fields[1]), -1
    return int(fields[1]), int(fields[3])


def session_pids(sid: int) -> list[int]:
    out = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            stat = _proc_stat(int(entry.name))
            if stat and stat[1] == sid:
                out.append(int(entry.name))
    return out


def _pss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return 0.0


class TreeSampler(threading.Thread):
    """Every ``interval`` s, sum the PSS of every process in session ``sid`` (the tool and its workers)."""

    def __init__(self, sid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.sid, self.interval = sid, interval
        self.peak_mb = 0.0
        self.most = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            pids = session_pids(self.sid)
            if pids:
                self.samples += 1
                self.most = max(self.most, len(pids))
                self.peak_mb = max(self.peak_mb, sum(_pss_mb(p) for p in pids))
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join(5)


def reap_session(sid: int, timeout: float) -> None:
    """Wait for the rest of session ``sid`` to exit (reaping what was adopted), killing it after ``timeout``."""
    deadline = time.monotonic() + timeout
    killed = False
    while True:
        pids = session_pids(sid)
        for pid in pids:
            stat = _proc_stat(pid)
            if stat and stat[0] == os.getpid():
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(pid, os.WNOHANG)
        # adopted zombies have session -1 in _proc_stat: reap any child of ours in that state too
        for entry in os.scandir("/proc"):
            if entry.name.isdigit() and int(entry.name) not in _CHILDREN:
                stat = _proc_stat(int(entry.name))
                if stat and stat[0] == os.getpid() and stat[1] == -1:
                    with contextlib.suppress(ChildProcessError):
                        os.waitpid(int(entry.name), os.WNOHANG)
        if not pids:
            return
        if time.monotonic() > deadline:
            if killed:
                return
            _kill_group(sid, signal.SIGKILL)
            killed, deadline = True, time.monotonic() + 5
        time.sleep(0.05)


def run_measured(cmd: Sequence[str], *, env: dict[str, str], cwd: Path, stdin: Path | None, stdout: Path,
                 stderr: Path, timeout: float) -> Measured:
    """Run ``cmd``; measure wall time (until it exits), CPU of its whole process tree
    (``RUSAGE_CHILDREN`` delta; descendants adopted via the subreaper and reaped here),
    peak RSS of its largest process and the peak summed PSS of all its processes."""
    stdin_fh = stdin.open("rb") if stdin else subprocess.DEVNULL
    timed_out = threading.Event()

    def expire(pid: int) -> None:
        timed_out.set()
        _kill_group(pid)
        time.sleep(5)
        _kill_group(pid, signal.SIGKILL)

    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with stdout.open("wb") as out, stderr.open("wb") as err:
        spawned_at = time.monotonic()
        t0 = time.perf_counter()
        proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdin=stdin_fh, stdout=out, stderr=err,
                                start_new_session=True)
        _CHILDREN[proc.pid] = proc
        sampler = TreeSampler(proc.pid)
        sampler.start()
        timer = threading.Timer(timeout, expire, args=(proc.pid,))
        timer.daemon = True
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
        wall = time.perf_counter() - t0
        reap_session(proc.pid, timeout=15)
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not isinstance(stdin_fh, int):
        stdin_fh.close()
    proc.returncode = os.waitstatus_to_exitcode(status)
    _CHILDREN.pop(proc.pid, None)
    return Measured(wall=wall, user=after.ru_utime - before.ru_utime, system=after.ru_stime - before.ru_stime,
                    max_rss_mb=usage.ru_maxrss / 1024, tree_peak_mb=sampler.peak_mb if sampler.samples else None,
                    tree_processes=sampler.most, main_cpu=usage.ru_utime + usage.ru_stime,
                    exit_code=proc.returncode, timed_out=timed_out.is_set(),
                    spawned_at=spawned_at)


class FarmProcess:
    """The latency farm as a subprocess, driven by line commands on its stdin."""

    def __init__(self, manifest: Path, plan: Plan, lifetime: float, log: Path) -> None:
        cmd = [sys.executable, str(Path(__file__).resolve().parent / "latency_farm.py"), "--manifest", str(manifest),
               "--seed", str(plan.seed), "--min-latency", str(plan.lo), "--max-latency", str(plan.hi),
               "--lifetime", str(lifetime)]
        self.log = log.open("wb")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log,
                                     start_new_session=True, env=child_env({}))
        _CHILDREN[self.proc.pid] = self.proc
        assert self.proc.stdout is not None
        self.fd = self.proc.stdout.fileno()
        self.buffer = b""

    def _line(self, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the latency farm did not answer in time")
            ready, _, _ = select.select([self.fd], [], [], remaining)
            if ready:
                chunk = os.read(self.fd, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"the latency farm exited (code {self.proc.poll()}); see {self.log.name}")
                self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode()

    def wait_ready(self, timeout: float = 30.0) -> int:
        line = self._line(timeout)
        if not line.startswith("ready "):
            raise RuntimeError(f"unexpected first line from the latency farm: {line!r}")
        return int(line.split()[1])

    def command(self, name: str, timeout: float = 30.0) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(name.encode() + b"\n")
        self.proc.stdin.flush()
        return dict(json.loads(self._line(timeout)))

    def stop(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(OSError, ValueError):
                assert self.proc.stdin is not None
                self.proc.stdin.write(b"quit\n")
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                _kill_group(self.proc.pid)
                self.proc.wait(5)
        _CHILDREN.pop(self.proc.pid, None)
        self.log.close()


def fetch(url: str) -> tuple[int, bytes]:
    """GET a loopback URL without any proxy (sanity check of the farm)."""
    if not ipaddress.ip_address(urlsplit(url).hostname or "").is_loopback:
        raise ValueError(f"refusing to fetch non-loopback {url}")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as exc:
        return int(exc.code), exc.read()


# --------------------------------------------------------------------------- the tools


@dataclass(slots=True)
class ToolRun:
    name: str
    measured: Measured | None = None
    statuses: Counter[str] = field(default_factory=Counter)
    checked: int = 0
    missing: int = 0
    bad: list[str] = field(default_factory=list)
    farm: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    settings: str = ""
    stage_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def all_ok(self) -> bool:
        return self.measured is not None and self.checked > 0 and not self.bad and not self.missing


def archiver_revision() -> str:
    """The commit the archiver code is at, noting uncommitted changes under archiver/."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True,
                              timeout=30, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "archiver"], cwd=REPO, capture_output=True,
                               text=True, timeout=30, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown revision"
    return head + (" + uncommitted changes in archiver/" if dirty else "")


def archiver_command(args: argparse.Namespace) -> list[str] | None:
    """How to run ``archiver`` (the project's console script), or None when ``archiver check`` is missing."""
    exe = REPO / ".venv" / "bin" / "archiver"
    base = [str(exe)] if exe.exists() else [sys.executable, "-m", "archiver.cli"]
    probe = subprocess.run([*base, "check", "--help"], capture_output=True, cwd=REPO, env=child_env({}),
                           timeout=120, check=False)
    return base if probe.returncode == 0 else None


def before_command(rev: str, work: Path) -> tuple[list[str], dict[str, str]]:
    """How to run ``archiver`` as it was at ``rev`` (its package extracted with ``git archive``, found first on
    PYTHONPATH; the dependencies are this checkout's venv's)."""
    code = work / "before-code"
    shutil.rmtree(code, ignore_errors=True)
    code.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "archiver"], check=True,
                             capture_output=True, timeout=120).stdout
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True, timeout=120)
    return [sys.executable, "-m", "archiver.cli"], {"PYTHONPATH": str(code)}


def run_archiver(args: argparse.Namespace, base: list[str], work: Path, plan: Plan, farm: FarmProcess,
                 urls: list[str], events: Path, name: str = "archiver",
                 extra_env: dict[str, str] | None = None) -> ToolRun:
    run = ToolRun(name)
    out = work / name.replace(" ", "-").replace("(", "").replace(")", "")
    shutil.rmtree(out, ignore_errors=True)
    (out / "snapshots").mkdir(parents=True)
    env = child_env({
        "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8",
        "ARCHIVER_CONCURRENCY": str(args.concurrency),
        "ARCHIVER_PER_HOST_CONCURRENCY": str(args.per_host),
        "ARCHIVER_PER_HOST_GAP": str(args.gap),
        "ARCHIVER_CONNECT_TIMEOUT": str(args.connect_timeout),
        "ARCHIVER_READ_TIMEOUT": str(args.read_timeout),
        "ARCHIVER_TOTAL_TIMEOUT": str(args.total_timeout),
        # LinkChecker only checks links; text snapshots are measured with --with-snapshots
        "ARCHIVER_SNAPSHOT_PAGES": "true" if args.with_snapshots else "false",
        # nothing in a check run should reach an archive; if anything tries, it stays on loopback
        "ARCHIVER_WAYBACK_URL": DEAD_END,
        "ARCHIVER_AVAILABILITY_URL": DEAD_END,
        **(extra_env or {}),
    })
    snaps = "text snapshots on, " if args.with_snapshots else "text snapshots off, "
    run.settings = (snaps + f"concurrency {args.concurrency}, per-host concurrency {args.per_host}, "
                    f"per-host gap {args.gap} s, "
                    f"timeouts connect/read/total {args.connect_timeout}/{args.read_timeout}/{args.total_timeout} s")
    cmd = [*base, "check", "--events", str(events), "--snapshots", str(out / "snapshots"),
           "--report-dir", str(out / "reports")]
    if args.cprofile:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(Path(args.cprofile).resolve()), "-m", "archiver.cli",
               *cmd[len(base):]]
        run.note = f"profiled with cProfile into {args.cprofile}: CPU and wall figures include its overhead"
    farm.command("reset")
    run.measured = run_measured(cmd, env=env, cwd=out, stdin=None, stdout=out / "stdout.txt",
                                stderr=out / "stderr.txt", timeout=args.tool_timeout)
    run.farm = farm.command("stats")
    report = out / "reports" / "report.json"
    if not report.is_file():
        tail = (out / "stderr.txt").read_text(errors="replace")[-2000:]
        run.note = (run.note + "; " if run.note else "") + f"no report.json (exit {run.measured.exit_code}): {tail}"
        run.missing = len(urls)
        return run
    data = json.loads(report.read_text())
    stages = (data.get("run") or {}).get("stage_seconds") or {}
    run.stage_seconds = {str(k): float(v) for k, v in stages.items()}
    seen: dict[str, dict[str, Any]] = {entry["url"]: entry for entry in data.get("links", [])}
    for url in urls:
        entry = seen.get(url)
        if entry is None:
            run.missing += 1
            continue
        run.checked += 1
        status = str(entry.get("status"))
        run.statuses[status] += 1
        if status != "alive":
            run.bad.append(f"{url}: {status} (http {entry.get('http_status')}, {entry.get('error')})")
    return run


def ensure_linkchecker(args: argparse.Namespace) -> tuple[Path | None, str]:
    """The LinkChecker executable of the benchmark's own venv, creating the venv on first use."""
    if args.linkchecker:
        exe = Path(args.linkchecker)
        return (exe, "given") if exe.exists() else (None, f"{exe} does not exist")
    venv = Path(args.linkchecker_venv)
    exe = venv / "bin" / "linkchecker"
    if not exe.exists():
        print(f"creating {venv} and installing LinkChecker from PyPI (benchmark only)...", flush=True)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
            subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "linkchecker"],
                           check=True, timeout=900)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            return None, f"could not install LinkChecker into {venv}: {exc}"
    try:
        version = subprocess.run([str(exe), "--version"], capture_output=True, text=True, timeout=60, check=True)
    except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
        return None, f"{exe} does not run: {exc}"
    return exe, version.stdout.splitlines()[0] if version.stdout else "LinkChecker"


def run_linkchecker(args: argparse.Namespace, exe: Path, version: str, work: Path, farm: FarmProcess,
                    urls: list[str]) -> ToolRun:
    run = ToolRun("LinkChecker")
    out = work / "linkchecker"
    shutil.rmtree(out, ignore_errors=True)
    home = out / "home"
    home.mkdir(parents=True)
    # LinkChecker run as root drops to user 'nobody': let it read its files and write its home
    for path in (work, out, home):
        path.chmod(0o777 if path == home else 0o755)
    # LinkChecker waits uniform(1/rate, 6/rate) between requests to a host: 'min' matches archiver's minimum
    # gap (the same politeness limit), 'mean' matches the average gap instead (shorter gaps than archiver's)
    per = args.gap if args.linkchecker_gap == "min" else args.gap / 3.5
    rate = 1.0 / per if per > 0 else 1000.0
    timeout = max(1, math.ceil(args.read_timeout))
    rc = out / "linkcheckerrc"
    rc.write_text(
        "[checking]\n"
        f"threads={args.concurrency}\n"
        f"timeout={timeout}\n"
        "recursionlevel=0\n"
        f"maxrequestspersecond={rate:.6g}\n"
        "robotstxt=1\n"
        "[filtering]\n"
        "checkextern=1\n"
    )
    url_file = out / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n")
    for path in (rc, url_file):
        path.chmod(0o644)
    run.settings = (f"{version}; threads {args.concurrency} (global), maxrequestspersecond {rate:.6g} per host "
                    f"(--linkchecker-gap {args.linkchecker_gap}: waits uniform in [{1 / rate:.3g}, {6 / rate:.3g}] s "
                    f"between requests to a host; no per-host concurrency limit), timeout {timeout} s, "
                    "recursion level 0, robots.txt obeyed (farm allows all)")
    cmd = [str(exe), "-f", str(rc), "--stdin", "-r", "0", "--check-extern", "--verbose", "--no-status",
           "-t", str(args.concurrency), "--timeout", str(timeout), "-o", "csv"]
    env = child_env({"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"),
                     "XDG_DATA_HOME": str(home / ".local")})
    farm.command("reset")
    run.measured = run_measured(cmd, env=env, cwd=out, stdin=url_file, stdout=out / "out.csv",
                                stderr=out / "stderr.txt", timeout=args.tool_timeout)
    run.farm = farm.command("stats")
    if run.measured.timed_out:
        run.note = f"killed after --tool-timeout {args.tool_timeout:.0f} s: its wall time is at least that"
    text = (out / "out.csv").read_text(encoding="utf-8", errors="replace")
    rows = [line for line in text.splitlines() if line and not line.startswith("#")]
    results: dict[str, tuple[bool, str]] = {}
    for row in csv.DictReader(io.StringIO("\n".join(rows)), delimiter=";"):
        url = row.get("url") or row.get("urlname") or ""
        results[url] = (row.get("valid") == "True", row.get("result") or "")
    for url in urls:
        if url not in results:
            run.missing += 1
            continue
        run.checked += 1
        valid, result = results[url]
        run.statuses["valid" if valid else "invalid"] += 1
        if not valid:
            run.bad.append(f"{url}: {result}")
    return run


# --------------------------------------------------------------------------- reporting


def p_kind(host: str, path: str, known: dict[str, set[str]]) -> str:
    if path == "/robots.txt":
        return "robots.txt"
    return "page" if path in known.get(host, ()) else "unknown path (probe)"


def farm_summary(stats: dict[str, Any], spawned_at: float, gap: float, known: dict[str, set[str]]) -> dict[str, Any]:
    hosts = stats.get("hosts", {})
    kinds: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    for h in hosts.values():
        kinds.update(h["kinds"])
        methods.update(h["methods"])
    starts = [h["first_start"] for h in hosts.values() if h["first_start"] is not None]
    ends = [h["last_end"] for h in hosts.values() if h["last_end"] is not None]
    gaps = [h["min_gap"] for h in hosts.values() if h["min_gap"] is not None]
    busiest = max(hosts.items(), key=lambda kv: kv[1]["requests"]) if hosts else ("", {})
    closest = min(((h, v) for h, v in hosts.items() if v["min_gap"] is not None), key=lambda kv: kv[1]["min_gap"],
                  default=None)
    pair = ""
    if closest and closest[1].get("min_gap_paths"):
        first, second = (p_kind(closest[0], p, known) for p in closest[1]["min_gap_paths"])
        pair = f"{closest[0]}: {first} then {second}"
    # how far the busiest host fell behind a perfect schedule (k-th start at first + k*g), at quarters of its run
    lag: list[float] = []
    starts = sorted(busiest[1].get("starts", []))
    if starts:
        for q in (0.25, 0.5, 0.75, 1.0):
            k = max(0, math.ceil(q * len(starts)) - 1)
            lag.append(starts[k] - starts[0] - k * gap)
    in_10s = sum(1 for t in starts if t - starts[0] < 10.0) if starts else 0
    pause = max(((b - a, a - spawned_at) for a, b in itertools.pairwise(starts)), default=(0.0, 0.0))
    gaps_sorted = sorted(b - a for a, b in itertools.pairwise(starts))
    gap_pct = [gaps_sorted[min(len(gaps_sorted) - 1, int(q * len(gaps_sorted)))] for q in (0.5, 0.9, 0.99)] \
        if gaps_sorted else []
    return {
        "busiest_lag": lag,
        "busiest_first_10s": in_10s,
        "busiest_pause": pause,
        "busiest_gap_pct": gap_pct,
        "busiest_mean_gap": (starts[-1] - starts[0]) / (len(starts) - 1) if len(starts) > 1 else None,
        "requests": sum(h["requests"] for h in hosts.values()),
        "kinds": dict(kinds),
        "methods": dict(methods),
        "connections": sum(h["connections"] for h in hosts.values()),
        "max_in_flight": max((h["max_in_flight"] for h in hosts.values()), default=0),
        "min_gap": min(gaps, default=None),
        "hosts_under_gap": sum(1 for g in gaps if g < gap * 0.98),
        "min_gap_pair": pair,
        "first_request": min(starts) - spawned_at if starts else None,
        "last_answer": max(ends) - spawned_at if ends else None,
        "busiest": busiest[0],
        "busiest_requests": busiest[1].get("requests", 0),
        "busiest_span": (busiest[1]["last_end"] - busiest[1]["first_start"])
        if busiest[1].get("first_start") is not None else None,
    }


def fmt(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, row in enumerate(rows):
        print("  " + "  ".join(c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)))
        if n == 0:
            print("  " + "  ".join("-" * w for w in widths))


def report(args: argparse.Namespace, plan: Plan, bounds: Bounds, runs: list[ToolRun], lc_note: str) -> dict[str, Any]:
    n = plan.n_urls
    print()
    print("== results " + "=" * 68)
    known = {h: set(p) for h, p in plan.paths.items()}
    summaries = {r.name: farm_summary(r.farm, r.measured.spawned_at, args.gap, known) for r in runs if r.measured}
    header = ("", *(r.name for r in runs))
    rows: list[tuple[str, ...]] = [header]

    def row(label: str, values: list[str]) -> None:
        rows.append((label, *values))

    def m(r: ToolRun) -> Measured:
        assert r.measured is not None
        return r.measured

    row("wall time (s)", [fmt(m(r).wall) + (" (killed)" if m(r).timed_out else "") for r in runs])
    row("lower bound (s)", [fmt(bounds.best) for _ in runs])
    row("wall / lower bound", [fmt(m(r).wall / bounds.best) for r in runs])
    row("wall / issue formula", [fmt(m(r).wall / bounds.issue) for r in runs])
    row("CPU s (user+sys)", [f"{fmt(m(r).cpu)} ({fmt(m(r).user)}+{fmt(m(r).system)})" for r in runs])
    row("  of which main process (s)", [fmt(m(r).main_cpu) for r in runs])
    row("CPU s per 1,000 URLs", [fmt(m(r).cpu / n * 1000, 3) for r in runs])
    row("peak RSS, largest process (MB)", [fmt(m(r).max_rss_mb, 1) for r in runs])
    row("peak memory, all processes (MB)", [f"{fmt(m(r).tree_peak_mb, 1)} PSS ({m(r).tree_processes} proc.)"
                                            for r in runs])
    row("exit code", [str(m(r).exit_code) for r in runs])
    row("URLs reported / of", [f"{r.checked:,} / {n:,}" for r in runs])
    row("URLs ok (alive/valid)", [f"{r.statuses.get('alive', 0) + r.statuses.get('valid', 0):,}" for r in runs])
    row("URLs not ok", [f"{len(r.bad):,}" for r in runs])
    row("requests seen by farm", [f"{summaries[r.name]['requests']:,}" for r in runs])
    row("  pages / 404 / robots", [
        "{} / {} / {}".format(*(summaries[r.name]["kinds"].get(k, 0) for k in ("page", "not_found", "robots")))
        for r in runs])
    row("  methods", [" ".join(f"{k}:{v}" for k, v in sorted(summaries[r.name]["methods"].items())) for r in runs])
    row("TCP connections", [f"{summaries[r.name]['connections']:,}" for r in runs])
    row("max in flight, one host", [str(summaries[r.name]["max_in_flight"]) for r in runs])
    row("min start gap, one host (s)", [fmt(summaries[r.name]["min_gap"], 3) for r in runs])
    row("hosts with a gap < 98% of g", [str(summaries[r.name]["hosts_under_gap"]) for r in runs])
    row("first request after (s)", [fmt(summaries[r.name]["first_request"]) for r in runs])
    row("last answer after (s)", [fmt(summaries[r.name]["last_answer"]) for r in runs])
    row("busiest host: requests", [str(summaries[r.name]["busiest_requests"]) for r in runs])
    row("busiest host: span (s)", [fmt(summaries[r.name]["busiest_span"]) for r in runs])
    row(f"  started in its first 10 s (max {math.floor(10 / args.gap) + 1})",
        [str(summaries[r.name]["busiest_first_10s"]) for r in runs])
    row("  start gaps mean / p50 / p90 / p99 (s)", [
        f"{fmt(summaries[r.name]['busiest_mean_gap'], 3)} / "
        + " / ".join(f"{x:.3f}" for x in summaries[r.name]["busiest_gap_pct"]) for r in runs])
    row("  longest pause between starts (s)", [
        f"{summaries[r.name]['busiest_pause'][0]:.2f} at {summaries[r.name]['busiest_pause'][1]:.1f}" for r in runs])
    row("  behind schedule at 1/4 1/2 3/4 end (s)",
        [" ".join(f"{x:.1f}" for x in summaries[r.name]["busiest_lag"]) for r in runs])
    print_table(rows)
    for r in runs:
        print(f"  {r.name}: {r.settings}")
        if r.stage_seconds:
            print(f"  {r.name} stage seconds (report.json run.stage_seconds): "
                  + ", ".join(f"{k} {v:.2f}" for k, v in r.stage_seconds.items()))
        if r.measured and summaries[r.name]["min_gap_pair"]:
            print(f"  {r.name}: closest two request starts ({fmt(summaries[r.name]['min_gap'], 3)} s) on "
                  f"{summaries[r.name]['min_gap_pair']}")
        if r.note:
            print(f"  {r.name}: note: {r.note}")
        for line in r.bad[:10]:
            print(f"  {r.name}: not ok: {line}")
        if len(r.bad) > 10:
            print(f"  {r.name}: ... and {len(r.bad) - 10} more not ok")
        if r.missing:
            print(f"  {r.name}: {r.missing} URLs missing from its output")
    if lc_note:
        print(f"  LinkChecker: {lc_note}")

    result: dict[str, Any] = {"urls": n, "hosts": len(plan.hosts), "bound": bounds.best, "issue_bound": bounds.issue}
    arch = next((r for r in runs if r.name == "archiver" and r.measured), None)
    lc = next((r for r in runs if r.name == "LinkChecker" and r.measured), None)
    print()
    print("== targets " + "=" * 68)
    if arch and arch.measured:
        ratio = arch.measured.wall / bounds.best
        print(f"  wall within {TARGET_RATIO}x of the lower bound: {ratio:.2f}x  "
              f"{'PASS' if ratio <= TARGET_RATIO else 'MISS'}")
        print(f"  peak memory under {TARGET_RSS_MB:.0f} MB: {arch.measured.peak_mb:.1f} MB  "
              f"{'PASS' if arch.measured.peak_mb < TARGET_RSS_MB else 'MISS'}")
        print(f"  every URL alive: {arch.statuses.get('alive', 0):,} of {n:,}  {'PASS' if arch.all_ok else 'MISS'}")
        result["archiver"] = {"wall": arch.measured.wall, "cpu": arch.measured.cpu,
                              "cpu_per_1000": arch.measured.cpu / n * 1000, "max_rss_mb": arch.measured.max_rss_mb,
                              "tree_peak_mb": arch.measured.tree_peak_mb,
                              "ratio": ratio, "statuses": dict(arch.statuses), "missing": arch.missing,
                              "farm": summaries["archiver"], "stage_seconds": arch.stage_seconds}
        if lc and lc.measured:
            speed = lc.measured.wall / arch.measured.wall
            verdict = "PASS" if speed > 1 else "MISS"
            print(f"  ahead of LinkChecker: LinkChecker wall / archiver wall = {speed:.2f}x"
                  f"{' (LinkChecker was killed: at least)' if lc.measured.timed_out else ''}  {verdict}")
            print(f"  LinkChecker / archiver: CPU {lc.measured.cpu / max(arch.measured.cpu, 1e-9):.2f}x, "
                  f"peak memory {lc.measured.peak_mb / max(arch.measured.peak_mb, 1e-9):.2f}x")
            result["linkchecker_over_archiver"] = {"wall": speed, "cpu": lc.measured.cpu / max(arch.measured.cpu, 1e-9),
                                                   "memory": lc.measured.peak_mb / arch.measured.peak_mb}
        else:
            print("  ahead of LinkChecker: not measured (LinkChecker did not run)")
    else:
        print("  archiver did not run: no targets to judge")
    if lc and lc.measured:
        result["linkchecker"] = {"wall": lc.measured.wall, "cpu": lc.measured.cpu,
                                 "cpu_per_1000": lc.measured.cpu / n * 1000, "max_rss_mb": lc.measured.max_rss_mb,
                                 "tree_peak_mb": lc.measured.tree_peak_mb,
                                 "timed_out": lc.measured.timed_out, "statuses": dict(lc.statuses),
                                 "missing": lc.missing, "farm": summaries["LinkChecker"]}
    return result


def print_plan(args: argparse.Namespace, plan: Plan, bounds: Bounds, extra: int) -> None:
    n = plan.n_urls
    print("== setup " + "=" * 70)
    print(f"  farm: {len(plan.hosts)} loopback hosts {plan.hosts[0]} .. {plan.hosts[-1]} port {plan.port}, "
          f"latency {plan.lo * 1000:.0f}-{plan.hi * 1000:.0f} ms per answer (seeded per path), "
          f"404 for unknown paths")
    print(f"  URLs: {n:,} over {len(plan.hosts)} hosts; skew from {plan.skew}")
    top = sorted(zip(plan.counts, plan.hosts, strict=True), reverse=True)[:5]
    print("  busiest hosts: " + ", ".join(f"{h} {c} ({c / n:.1%})" for c, h in top)
          + f"; median {sorted(plan.counts)[len(plan.counts) // 2]}, fewest {min(plan.counts)}")
    print(f"  limits: per-host concurrency c={args.per_host}, per-host gap g={args.gap} s between request starts, "
          f"global concurrency {args.concurrency}")
    print()
    print("== lower bound " + "=" * 64)
    busiest = bounds.busiest_requests - extra
    print(f"  issue's formula  max_h urls_h * g / c = {busiest} * {args.gap} / {args.per_host} "
          f"= {bounds.issue:.2f} s   (treats g as a per-connection gap: unreachable when g is between starts)")
    print(f"  used: max over hosts of max((n_h - 1) * g + L_min, sum_h(L) / c), n_h = urls_h + {extra} probe; "
          f"and sum(L) / global concurrency")
    print(f"    busiest host {bounds.busiest}: n = {bounds.busiest_requests} -> {bounds.per_host:.2f} s; "
          f"all latency / {args.concurrency} = {bounds.global_:.2f} s")
    print(f"    lower bound = {bounds.best:.2f} s "
          + ("(politeness-dominated: g >= L_max / c, so a perfect scheduler reaches it exactly)"
             if bounds.politeness_dominated else
             f"(latency matters: g < L_max / c = {plan.hi / args.per_host:.3f} s, the bound is optimistic)"))
    print("    ratios below divide by this bound; startup (imports, loading events) and the report are "
          "inside the wall time")


# --------------------------------------------------------------------------- main


# --------------------------------------------------------------------------- throttling hosts (issue 13)


def run_throttle(args: argparse.Namespace, base: list[str], work: Path) -> dict[str, Any]:
    """archiver check on hosts that allow one request per interval and answer faster ones 429 + HTTP date."""
    sys.path.insert(0, str(REPO))
    from tests.support.farm import Farm
    from tests.support.throttle_site import Throttle, throttle_handler

    farm = Farm().start()
    try:
        throttles = [Throttle(interval=args.throttle_interval, form="date") for _ in range(args.throttle_hosts)]
        hosts = [farm.add(f"throttle{i}", throttle_handler(t)) for i, t in enumerate(throttles)]
        events = work / "throttle-events"
        events.mkdir(parents=True, exist_ok=True)
        urls = [h.url(f"/news/2024/story-{j}") for h in hosts for j in range(args.throttle_urls)]
        for k in range(0, len(urls), args.per_event):
            chunk = urls[k:k + args.per_event]
            sources = "".join(f"  - url: {u}\n    title: Story\n    publisher: Example\n    date: 2024-01-01\n"
                              for u in chunk)
            (events / f"2024-01-01--t{k}.md").write_text(
                f"---\nid: 2024-01-01--t{k}\ndate: 2024-01-01\ntitle: T{k}\nsources:\n{sources}---\n\nBody.\n")
        out = work / "throttle-out"
        env = child_env({
            "ARCHIVER_ALLOW_NETWORKS": "127.0.0.0/8", "ARCHIVER_CONCURRENCY": str(args.concurrency),
            "ARCHIVER_PER_HOST_CONCURRENCY": str(args.per_host), "ARCHIVER_PER_HOST_GAP": str(args.gap),
            "ARCHIVER_SNAPSHOT_PAGES": "false", "ARCHIVER_ATTEMPTS": "5",
            "ARCHIVER_WAYBACK_URL": DEAD_END, "ARCHIVER_AVAILABILITY_URL": DEAD_END,
        })
        cmd = [*base, "check", "--events", str(events), "--snapshots", str(out / "snapshots"),
               "--report-dir", str(out / "reports")]
        (out / "snapshots").mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        done = subprocess.run(cmd, env=env, cwd=out, capture_output=True, text=True, timeout=args.tool_timeout,
                              check=False)
        wall = time.monotonic() - started
        report_file = out / "reports" / "report.json"
        statuses: Counter[str] = Counter()
        stages: dict[str, float] = {}
        if report_file.is_file():
            data = json.loads(report_file.read_text())
            statuses.update(e["status"] for e in data["links"])
            stages = (data.get("run") or {}).get("stage_seconds") or {}
        per_host = [len(t.accepted()) for t in throttles]  # pages + the soft-404 probe
        bound = (max(per_host) - 1) * args.throttle_interval
        early = sum(len(t.early()) for t in throttles)
        refused = sum(1 for t in throttles for *_, status in t.arrivals if status == 429)
        result = {"hosts": len(hosts), "urls": len(urls), "interval": args.throttle_interval, "wall": wall,
                  "bound": bound, "ratio": wall / bound if bound else None, "early_requests": early,
                  "refused_429": refused, "accepted": sum(per_host), "statuses": dict(statuses),
                  "exit_code": done.returncode, "stage_seconds": stages}
        print("\n== throttling hosts (429 + Retry-After as an HTTP date) " + "=" * 24)
        print(f"  {len(hosts)} hosts x {args.throttle_urls} URLs, each host accepts 1 request / "
              f"{args.throttle_interval:g} s; per-host gap {args.gap} s, per-host concurrency {args.per_host}")
        print(f"  requests before a Retry-After had passed: {early} (must be 0)")
        print(f"  429 answers: {refused}; accepted requests: {sum(per_host)} (pages + one probe per host)")
        print(f"  wall {wall:.2f} s; politeness bound from the hosts' limits (n - 1) x interval = {bound:.2f} s; "
              f"ratio {result['ratio'] or 0:.2f} (target <= {THROTTLE_RATIO})")
        print(f"  verdicts: {dict(statuses)}; exit code {done.returncode}; stage seconds {stages}")
        return result
    finally:
        farm.stop()


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--urls", type=int, default=5000, help="distinct URLs")
    p.add_argument("--hosts", type=int, default=200, help="farm hosts (loopback addresses)")
    p.add_argument("--quick", action="store_true", help="smoke run: 500 URLs on 40 hosts")
    p.add_argument("--before", metavar="REV", default=None,
                   help="also run `archiver check` as of REV (git archive) on the same farm, side by side")
    p.add_argument("--gap", type=float, default=0.125, help="per-host gap: seconds between request starts to a host")
    p.add_argument("--per-host", type=int, default=2, help="per-host concurrency")
    p.add_argument("--concurrency", type=int, default=32, help="global concurrency (LinkChecker threads)")
    p.add_argument("--connect-timeout", type=float, default=5.0)
    p.add_argument("--read-timeout", type=float, default=10.0, help="also LinkChecker's --timeout")
    p.add_argument("--total-timeout", type=float, default=30.0)
    p.add_argument("--min-latency", type=float, default=0.05)
    p.add_argument("--max-latency", type=float, default=0.2)
    p.add_argument("--per-event", type=int, default=5, help="sources per generated event")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS,
                   help="real events folder whose per-host skew is copied (Zipf-like fallback when absent)")
    p.add_argument("--skip-linkchecker", action="store_true")
    p.add_argument("--skip-archiver", action="store_true", help="only the farm and LinkChecker")
    p.add_argument("--with-snapshots", action="store_true",
                   help="let archiver check also extract and store the text of every page (as in a nightly run)")
    p.add_argument("--linkchecker", help="a LinkChecker executable to use instead of the benchmark venv's")
    p.add_argument("--linkchecker-venv", default=str(DEFAULT_LC_VENV), help="venv holding LinkChecker")
    p.add_argument("--linkchecker-gap", choices=("min", "mean"), default="min",
                   help="match archiver's gap with LinkChecker's minimum wait (1/maxrequestspersecond) or its "
                        "mean wait (3.5/maxrequestspersecond)")
    p.add_argument("--tool-timeout", type=float, default=900.0, help="kill a tool that runs longer (seconds)")
    p.add_argument("--cprofile", help="run archiver under cProfile, writing the profile to this file")
    p.add_argument("--json", dest="json_out", help="also write the figures to this JSON file")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder (events, reports, logs)")
    p.add_argument("--throttle-hosts", type=int, default=4, help="throttling hosts (429 + HTTP-date Retry-After); "
                   "0: none")
    p.add_argument("--throttle-urls", type=int, default=30, help="URLs per throttling host")
    p.add_argument("--throttle-interval", type=float, default=1.0,
                   help="a throttling host accepts one request per this many seconds")
    p.add_argument("--throttle-only", action="store_true", help="run only the throttling hosts' scenario")
    args = p.parse_args(argv)
    if args.quick:
        args.urls, args.hosts = 500, 40
    if args.urls < args.hosts or args.hosts < 1:
        p.error("need at least one URL per host")
    if not 0 < args.min_latency <= args.max_latency:
        p.error("need 0 < --min-latency <= --max-latency")
    return args


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Ctrl-C, SIGTERM and SIGHUP unwind through ``finally`` (which stops the farm and the tool)."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    def terminate(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    handlers = {signal.SIGINT: interrupt, signal.SIGTERM: terminate, signal.SIGHUP: terminate}
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    extra = 1  # the checker's soft-404 probe: one request per host to a random missing path
    plan = make_plan(args.urls, args.hosts, args.seed, args.min_latency, args.max_latency, args.corpus)
    bounds = compute_bounds(plan, args.gap, args.per_host, args.concurrency, extra)
    subreaper = enable_subreaper()
    work = Path(tempfile.mkdtemp(prefix="archiver-throughput-"))
    runs: list[ToolRun] = []
    lc_note = ""
    farm: FarmProcess | None = None
    try:
        with stop_on_signals():
            if args.throttle_only:
                base = archiver_command(args)
                if base is None or args.throttle_hosts < 1:
                    print("nothing was run")
                    return 2
                throttled = run_throttle(args, base, work)
                if args.json_out:
                    Path(args.json_out).write_text(json.dumps({"throttle": throttled}, indent=1))
                ok = (throttled["early_requests"] == 0 and throttled["statuses"] == {"alive": throttled["urls"]}
                      and (throttled["ratio"] or 0) <= THROTTLE_RATIO)
                return 0 if ok else 1
            manifest = work / "manifest.json"
            manifest.write_text(json.dumps({"hosts": plan.hosts, "paths": plan.paths}))
            lifetime = 2 * args.tool_timeout + 600
            farm = FarmProcess(manifest, plan, lifetime, work / "farm.log")
            plan.port = farm.wait_ready()
            events = work / "events"
            urls = write_events(plan, events, args.per_event, args.seed)
            print_plan(args, plan, bounds, extra)
            print("  measuring: wall until the tool exits; CPU of its whole process tree ("
                  + ("subreaper on: workers it leaves behind are adopted and counted" if subreaper else
                     "subreaper unavailable: workers not reaped by the tool are missed")
                  + "); peak RSS of its largest process and peak summed PSS of all its processes (0.1 s samples)")
            # sanity: a page answers 200 with its title, an unknown path 404
            host, path = plan.hosts[0], plan.paths[plan.hosts[0]][0]
            status, body = fetch(plan.url(host, path))
            missing_status, _ = fetch(plan.url(host, "/no-such-page-" + str(random.getrandbits(32))))
            if status != 200 or f"<title>{title_for(path)}".encode() not in body or missing_status != 404:
                raise RuntimeError(f"farm sanity check failed: {status}, {missing_status}")
            print(f"  farm ready: sample page {len(body):,} bytes, unknown path -> {missing_status}; "
                  f"temporary folder {work}")
            if not args.skip_archiver:
                base = archiver_command(args)
                if base is None:
                    print("\narchiver check is not available yet (archiver/liveness/check.py or "
                          "`archiver check --help`): "
                          "skipping archiver", flush=True)
                else:
                    print(f"\nrunning archiver check ({archiver_revision()}) on {len(urls):,} URLs...", flush=True)
                    runs.append(run_archiver(args, base, work, plan, farm, urls, events))
                    print(f"  done in {runs[-1].measured.wall if runs[-1].measured else 0:.1f} s", flush=True)
                    if args.before:
                        before, env = before_command(args.before, work)
                        print(f"\nrunning archiver check as of {args.before} on the same URLs...", flush=True)
                        runs.append(run_archiver(args, before, work, plan, farm, urls, events,
                                                 name=f"archiver ({args.before})", extra_env=env))
                        print(f"  done in {runs[-1].measured.wall if runs[-1].measured else 0:.1f} s", flush=True)
            if args.skip_linkchecker:
                lc_note = "skipped (--skip-linkchecker)"
            else:
                exe, version = ensure_linkchecker(args)
                if exe is None:
                    lc_note = f"not run: {version}"
                    print(f"\nLinkChecker {lc_note}", flush=True)
                else:
                    print(f"\nrunning {version} on the same {len(urls):,} URLs...", flush=True)
                    runs.append(run_linkchecker(args, exe, version, work, farm, urls))
                    print(f"  done in {runs[-1].measured.wall if runs[-1].measured else 0:.1f} s", flush=True)
            if not runs:
                print("nothing was run")
                return 2
            result = report(args, plan, bounds, runs, lc_note)
            throttle_ok = True
            if args.throttle_hosts > 0 and not args.skip_archiver and (base := archiver_command(args)) is not None:
                result["throttle"] = run_throttle(args, base, work)
                throttle_ok = (result["throttle"]["early_requests"] == 0
                               and (result["throttle"]["ratio"] or 0) <= THROTTLE_RATIO)
            if args.json_out:
                Path(args.json_out).write_text(json.dumps(result, indent=1))
            return 0 if all(r.all_ok for r in runs) and throttle_ok else 1
    except (RuntimeError, TimeoutError, OSError) as exc:
        print(f"check_throughput: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("check_throughput: interrupted; stopping the farm and the tool", file=sys.stderr)
        return 130
    finally:
        if farm is not None:
            farm.stop()
        cleanup_children()
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
