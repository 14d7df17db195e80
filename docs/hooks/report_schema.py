"""mkdocs hook: publish ``archiver/schema/report-v1.schema.json`` (the report.json contract) in the site.

The schema ships in the package; docs/reports.md includes its text and links to the file this
hook adds at ``schema/report-v1.schema.json``, so the site serves the very file the tests
validate every report against (never a copy kept by hand).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mkdocs.structure.files import File, Files

SCHEMA = Path(__file__).resolve().parents[2] / "archiver" / "schema" / "report-v1.schema.json"


def on_files(files: Files, config: Any, **kwargs: Any) -> Files:
    files.append(File.generated(config, "schema/report-v1.schema.json", abs_src_path=str(SCHEMA)))
    return files
