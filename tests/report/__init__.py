"""Tests of archiver/report/: report.json, report.md, report.html, the site."""
