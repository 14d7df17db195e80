"""Reports: report.json (the contract), the view, report.md, report.html, the static site."""
