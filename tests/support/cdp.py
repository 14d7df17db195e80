"""A small Chrome DevTools Protocol driver for headless Chromium (Debian's ``chromium``).

Starts ``chromium --headless=new --remote-debugging-port=0`` with a throwaway profile
and every background service off, no host name resolving but localhost and a proxy on a
closed loopback port for anything else (no traffic leaves the machine), connects to its page
over the DevTools websocket on loopback, and offers what the browser tests need:
navigate, evaluate JavaScript, collect console errors and uncaught exceptions, take a
screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from websockets.sync.client import ClientConnection

def _closed_port() -> int:
    """A loopback port nothing listens on (bound and released: refused until someone takes it)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


CLOSED_PORT = _closed_port()
FLAGS = ["--headless=new", "--disable-gpu", "--no-sandbox", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--no-default-browser-check",
         "--disable-extensions", "--disable-default-apps", "--mute-audio", "--metrics-recording-only",
         "--disable-features=Translate,OptimizationHints,MediaRouter", "--remote-debugging-address=127.0.0.1",
         "--remote-debugging-port=0", "--disable-client-side-phishing-detection", "--disable-domain-reliability",
         "--disable-breakpad", "--no-pings",
         # the guard, not only the switches above: no host name resolves but localhost (tests use IP literals on
         # 127.0.0.0/8), and anything not on loopback goes to a proxy on a closed loopback port, so it fails
         # there (Chromium's background services still try Google hosts with the switches alone)
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost", f"--proxy-server=http://127.0.0.1:{CLOSED_PORT}"]


def find_chromium() -> str | None:
    for name in ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Page:
    """One page target: commands, the events they produced, console errors."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self._id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, timeout: float = 30.0, **params: Any) -> dict[str, Any]:
        self._id += 1
        me = self._id
        self.ws.send(json.dumps({"id": me, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("id") == me:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            if "method" in message:
                self.events.append(message)

    def wait_for(self, event: str, timeout: float = 30.0) -> dict[str, Any]:
        for seen in self.events:
            if seen["method"] == event:
                self.events.remove(seen)
                return seen
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self.ws.recv(timeout=max(0.01, deadline - time.monotonic())))
            if message.get("method") == event:
                return message
            if "method" in message:
                self.events.append(message)

    def navigate(self, url: str, timeout: float = 60.0) -> None:
        self.send("Page.navigate", url=url)
        self.wait_for("Page.loadEventFired", timeout)

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"JavaScript failed: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    def drain(self, seconds: float = 0.2) -> None:
        """Collect events that arrive within ``seconds`` (console messages after an action)."""
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            try:
                message = json.loads(self.ws.recv(timeout=left))
            except TimeoutError:
                return
            if "method" in message:
                self.events.append(message)

    def console_errors(self) -> list[str]:
        self.drain()
        out = []
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                details = p.get("exceptionDetails", {})
                out.append(f"uncaught: {details.get('exception', {}).get('description') or details.get('text')}")
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append("console: " + " ".join(str(a.get("value", a.get("description"))) for a in p["args"]))
            elif e["method"] == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                out.append(f"log: {p['entry'].get('text')} ({p['entry'].get('url', '')})")
        return out

    def screenshot(self, path: Path, width: int = 1400, height: int = 2000, y: float = 0.0,
                   selector: str | None = None) -> None:
        """A PNG of the viewport, scrolled to ``y`` or to the element ``selector`` (measured at this width)."""
        self.send("Emulation.setDeviceMetricsOverride", width=width, height=height, deviceScaleFactor=1, mobile=False)
        if selector is not None:
            self.evaluate(f"document.querySelector({json.dumps(selector)}).scrollIntoView()")
        else:
            self.evaluate(f"window.scrollTo(0, {y})")
        shot = self.send("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(shot["data"]))


class Browser:
    """``with Browser() as browser: page = browser.page()``."""

    def __init__(self, binary: str | None = None, extra_flags: list[str] | None = None) -> None:
        self.binary = binary or find_chromium()
        self.extra_flags = list(extra_flags or [])
        if self.binary is None:
            raise FileNotFoundError("chromium is not installed")
        self._profile = tempfile.TemporaryDirectory(prefix="archiver-chromium-", ignore_cleanup_errors=True)
        self.proc: subprocess.Popen[str] | None = None
        self.port: int | None = None
        self._stack = contextlib.ExitStack()
        self.stderr: list[str] = []

    def __enter__(self) -> Browser:
        self.proc = subprocess.Popen(
            [str(self.binary), *FLAGS, *self.extra_flags, f"--user-data-dir={self._profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True)  # its own process group: every helper process is ended with it
        lines: queue.Queue[str] = queue.Queue()

        def pump() -> None:
            assert self.proc is not None and self.proc.stderr is not None
            for line in self.proc.stderr:
                self.stderr.append(line)
                lines.put(line)

        self._pump = threading.Thread(target=pump, daemon=True)
        self._pump.start()
        deadline = time.monotonic() + 60
        while self.port is None:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                self.__exit__(None, None, None)
                raise RuntimeError("chromium did not start: " + "".join(self.stderr[-20:])) from None
            if m := re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line):
                self.port = int(m.group(1))
        return self

    def page(self) -> Page:
        from websockets.sync.client import connect

        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/json/list", timeout=10) as answer:
            targets = json.loads(answer.read())
        target = next(t for t in targets if t.get("type") == "page")
        ws = self._stack.enter_context(connect(target["webSocketDebuggerUrl"], max_size=None, open_timeout=10))
        page = Page(ws)
        for domain in ("Page", "Runtime", "Log"):
            page.send(f"{domain}.enable")
        return page

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._stack.close()
        if self.proc is not None:
            # the renderer, GPU and crash-handler processes outlive the browser process by a moment and
            # keep writing into the profile: end the whole group, then remove the profile
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)  # stragglers of the group
            # the pump reads stderr to its end (every writer is gone now); then the pipe is closed,
            # else it is left to the garbage collector (a ResourceWarning)
            self._pump.join(10)
            if self.proc.stderr is not None and not self._pump.is_alive():
                self.proc.stderr.close()
        self._profile.cleanup()
