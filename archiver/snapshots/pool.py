"""Extraction in worker processes, with a per-page timeout that really stops the page.

trafilatura has no time limit, and :class:`concurrent.futures.ProcessPoolExecutor`
cannot stop one task. :class:`ExtractorPool` keeps ``workers`` processes, each fed
by its own thread in the parent over a pipe; a page that runs past ``timeout`` gets
its worker killed and replaced, and its future resolves to a ``failed``
:class:`~archiver.snapshots.extract.Extraction` saying so. A worker that crashes is replaced
the same way. Workers are also recycled after ``max_tasks`` pages or when their
memory passes ``max_rss_bytes`` (Linux), so a leak cannot bloat a run.

Workers come from a fork server that has already imported trafilatura (Linux), so
replacing one takes milliseconds; elsewhere they are spawned.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any

from .extract import Extraction, ExtractOptions, extract, failed

Target = Callable[..., Extraction]
_PRELOAD = ["archiver.snapshots.extract", "trafilatura", "pypdfium2", "charset_normalizer"]


def _context() -> Any:
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(_PRELOAD)
        return ctx
    return multiprocessing.get_context("spawn")


WORKER_NICENESS = 10


def _worker_main(conn: Connection, options: ExtractOptions, target: Target) -> None:
    """A worker: extract what arrives on ``conn`` until it closes."""
    with contextlib.suppress(ValueError, OSError):
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when to stop
    with contextlib.suppress(OSError, AttributeError):
        # below the checking event loop: on a small machine a late request start is lost
        # time for the busiest host (the politeness gap counts from the actual send)
        os.nice(WORKER_NICENESS)
    with contextlib.suppress(Exception):
        import archiver.snapshots.extract as ex

        ex.trafilatura_version()  # import now, not on the first page (which has a deadline)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message is None:
            return
        body, content_type, url, truncated = message
        try:
            result = target(body, content_type, url, options=options, truncated=truncated)
        except BaseException as exc:  # the worker must answer whatever happens
            result = failed(f"extraction failed: {type(exc).__name__}: {exc}", body, truncated=truncated)
        del body, message
        try:
            conn.send(result)
        except (OSError, ValueError):
            return


def _rss_bytes(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


@dataclass(slots=True)
class _Task:
    body: bytes | None
    content_type: str | None
    url: str | None
    truncated: bool
    future: Future[Extraction] = field(default_factory=Future)


@dataclass(slots=True)
class PoolStats:
    pages: int = 0
    timeouts: int = 0
    crashes: int = 0
    restarts: int = 0
    busy_seconds: float = 0.0


class _Worker:
    def __init__(self, ctx: Any, options: ExtractOptions, target: Target) -> None:
        self.parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_main, args=(child, options, target), daemon=True,
                                   name="archiver-extract")
        self.process.start()
        child.close()
        self.tasks = 0

    def stop(self, *, kill: bool = False) -> None:
        if not kill:
            with contextlib.suppress(OSError, ValueError):
                self.parent.send(None)
            self.process.join(2)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5)
        with contextlib.suppress(OSError):
            self.parent.close()
        with contextlib.suppress(ValueError, AttributeError):
            self.process.close()


@dataclass(frozen=True)
class Recycle:
    """When a worker is replaced: after ``max_tasks`` pages, or once its memory passes ``max_rss_bytes``
    (Linux; None: never for memory)."""

    max_tasks: int = 1000
    max_rss_bytes: int | None = 1024 ** 3


class ExtractorPool:
    """``workers`` extraction processes with a per-page ``timeout`` (seconds)."""

    def __init__(self, options: ExtractOptions | None = None, *, workers: int = 2, timeout: float = 20.0,
                 target: Target = extract, recycle: Recycle = Recycle()) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.options = options or ExtractOptions()
        self.workers = workers
        self.timeout = timeout
        self.target = target
        self.max_tasks, self.max_rss_bytes = recycle.max_tasks, recycle.max_rss_bytes
        self.stats = PoolStats()
        self._ctx = _context()
        self._queue: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._pids: dict[int, int] = {}  # slot -> worker pid
        self._threads = [threading.Thread(target=self._slot, args=(i,), name=f"extract-slot-{i}", daemon=True)
                         for i in range(workers)]
        for thread in self._threads:
            thread.start()

    # ------------------------------------------------------------------ public API

    def submit(self, body: bytes, content_type: str | None, url: str | None = None, *,
               truncated: bool = False) -> Future[Extraction]:
        """Queue one body; the future resolves to its :class:`Extraction` (never to an exception)."""
        task = _Task(body=body, content_type=content_type, url=url, truncated=truncated)
        with self._lock:
            if self._closed:
                raise RuntimeError("the extractor pool is closed")
            self._queue.put(task)
        return task.future

    def extract(self, body: bytes, content_type: str | None, url: str | None = None, *,
                truncated: bool = False) -> Extraction:
        return self.submit(body, content_type, url, truncated=truncated).result()

    def worker_pids(self) -> list[int]:
        """Process ids of the live workers (for monitoring and benchmarks)."""
        with self._lock:
            return sorted(self._pids.values())

    def close(self, *, cancel_pending: bool = False) -> None:
        """Finish queued pages (or cancel them) and stop the workers."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        if cancel_pending:
            while True:
                try:
                    task = self._queue.get_nowait()
                except queue.Empty:
                    break
                if task is not None:
                    task.future.cancel()
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()

    def __enter__(self) -> ExtractorPool:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close(cancel_pending=exc_type is not None)

    # ------------------------------------------------------------------ one slot: a thread and its worker

    def _slot(self, slot: int) -> None:
        worker: _Worker | None = None
        try:
            while True:
                task = self._queue.get()
                if task is None:
                    break
                if not task.future.set_running_or_notify_cancel():
                    continue
                if worker is None or not worker.process.is_alive():
                    if worker is not None:
                        worker.stop(kill=True)
                        self._count("restarts")
                    try:
                        worker = _Worker(self._ctx, self.options, self.target)
                    except Exception as exc:  # a future must always resolve, or its caller waits forever
                        worker = None
                        task.future.set_result(failed(f"could not start an extraction worker: "
                                                      f"{type(exc).__name__}: {exc}", task.body or b"",
                                                      truncated=task.truncated))
                        task.body = None
                        continue
                    with self._lock:
                        self._pids[slot] = worker.process.pid
                result, worker = self._run(worker, task)
                task.body = None  # drop the body as soon as it is done with
                task.future.set_result(result)
                if worker is not None:
                    worker.tasks += 1
                    rss = _rss_bytes(worker.process.pid) if self.max_rss_bytes and worker.process.pid else None
                    if worker.tasks >= self.max_tasks or (rss is not None and self.max_rss_bytes
                                                          and rss > self.max_rss_bytes):
                        worker.stop()
                        worker = None
        finally:
            if worker is not None:
                worker.stop()
            with self._lock:
                self._pids.pop(slot, None)

    def _run(self, worker: _Worker, task: _Task) -> tuple[Extraction, _Worker | None]:
        started = time.monotonic()
        body = task.body or b""
        try:
            worker.parent.send((body, task.content_type, task.url, task.truncated))
            if worker.parent.poll(self.timeout):
                result: Extraction = worker.parent.recv()
                self._count("pages", time.monotonic() - started)
                return result, worker
            worker.stop(kill=True)
            self._count("timeouts", time.monotonic() - started)
            return failed(f"extraction took longer than {self.timeout:g}s and was stopped", body,
                          truncated=task.truncated), None
        except (EOFError, OSError, BrokenPipeError) as exc:
            worker.process.join(2)  # reap it, to say how it ended
            code = worker.process.exitcode
            worker.stop(kill=True)
            self._count("crashes", time.monotonic() - started)
            why = f"exit code {code}" if code is not None else type(exc).__name__
            return failed(f"the extraction worker crashed ({why})", body, truncated=task.truncated), None

    def _count(self, what: str, seconds: float = 0.0) -> None:
        with self._lock:
            setattr(self.stats, what, getattr(self.stats, what) + 1)
            if what != "restarts":
                self.stats.busy_seconds += seconds


class OnDemandExtractor:
    """One extraction worker, started at the first page (rescues from archives are few): each page in the worker
    with its timeout, the event loop free; a worker that cannot start must not hang the run."""

    def __init__(self, options: ExtractOptions, timeout: float) -> None:
        self.options, self.timeout = options, timeout
        self.pool: ExtractorPool | None = None

    async def extract(self, body: bytes, content_type: str | None, url: str, *, truncated: bool) -> Extraction:
        if self.pool is None:
            self.pool = ExtractorPool(self.options, workers=1, timeout=self.timeout)
        future = self.pool.submit(body, content_type, url, truncated=truncated)
        try:  # the pool answers within its timeout; 30 s more is for a worker that never answers
            return await asyncio.wait_for(asyncio.wrap_future(future), self.timeout + 30)
        except TimeoutError:
            future.cancel()
            return failed("the extraction worker did not answer")

    async def aclose(self) -> None:
        if self.pool is not None:
            await asyncio.to_thread(self.pool.close, cancel_pending=True)
            self.pool = None
