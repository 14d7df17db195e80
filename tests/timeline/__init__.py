"""Tests of archiver/timeline/: loading events, the link catalog, frontmatter edits."""
