"""The README's screenshot of report.html (docs/img/report.png), from synthetic report data.

    python -m tests.support.report_screenshot docs/img/report.png

Builds a small timeline's report with :mod:`tests.support.reportdata` (no network, no state
on disk), writes it with :func:`archiver.report.build.write_reports` into a temporary folder,
and screenshots the file in headless Chromium with every network feature off (the page loads
nothing remote anyway: its Content-Security-Policy forbids it). The sites are made up.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from archiver.report.build import write_reports
from tests.support.cdp import find_chromium
from tests.support.reportdata import Ev, Src, build

EVENTS = [
    Ev("2024-03-12--riverton-cameras", [
        Src("https://www.rivertongazette.com/news/2024/03/12/council-approves-license-plate-cameras/",
            title="Riverton council approves $2.4 million contract for license plate cameras",
            publisher="Riverton Gazette", date="2024-03-12", snapshot="snapshots/a/snapshot.md"),
        Src("https://records.rivertoncity.org/minutes/2024-03-12.pdf", title="City council minutes, March 12",
            publisher="City of Riverton", date="2024-03-12", status="dead", confirmed=True, failures=4,
            evidence="HTTP 404 Not Found",
            wayback="https://web.archive.org/web/20240313000000/https://records.rivertoncity.org/minutes/2024-03-12.pdf"),
    ], title="Riverton approves license plate cameras", date="2024-03-12"),
    Ev("2023-11-02--vendor-contract", [
        Src("https://citywatch-riverton.net/2023/11/02/camera-vendor-bid/", title="Camera vendor was the only bidder",
            publisher="City Watch", date="2023-11-02", status="soft_404", confirmed=True, failures=3,
            evidence="redirected to the site's home page (https://citywatch-riverton.net/)"),
        Src("https://tricountypaper.com/story/vendor", title="Vendor's contract questioned",
            publisher="Tri-County Paper", date="2023-11-03", status="blocked",
            evidence="HTTP 403 Forbidden: the site refuses automated checks"),
    ], title="The camera vendor's contract", date="2023-11-02"),
    Ev("2022-06-20--privacy-ordinance", [
        Src("https://oakfieldnews.org/2022/06/20/privacy-ordinance", title="Privacy ordinance passes",
            publisher="Oakfield News", date="2022-06-20", snapshot="snapshots/b/snapshot.md"),
        Src("https://oakfield-notes.net/ordinance-analysis", title="What the ordinance does not cover",
            publisher="Oakfield Notes", date="2022-06-22", status="dead", failures=1,
            evidence="the domain no longer resolves (NXDOMAIN)"),
        Src("https://kriv-radio.org/2022/06/21/ordinance", title="Council member explains her vote",
            publisher="KRIV Radio", date="2022-06-21", status="error", evidence="read timeout after 20 s"),
    ], title="Privacy ordinance passes 4-3", date="2022-06-20"),
]


def main(out: Path) -> None:
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium on PATH (apt-get install chromium)")
    built = build(EVENTS, changes=[{"kind": "newly_confirmed", "url": EVENTS[0].sources[1].url, "status": "dead",
                                    "previous": "dead"}])
    with tempfile.TemporaryDirectory() as tmp:
        paths = write_reports(built.report, Path(tmp) / "reports", events=built.events)
        subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                        "--disable-component-update", "--no-first-run", "--hide-scrollbars",
                        f"--user-data-dir={tmp}/profile", f"--screenshot={out.resolve()}", "--window-size=1280,900",
                        Path(paths.html).resolve().as_uri()], check=True, capture_output=True, timeout=120)
    print(f"{out}: {out.stat().st_size} bytes")


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/img/report.png"))
