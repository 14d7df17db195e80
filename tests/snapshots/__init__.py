"""Tests of archiver/snapshots/: extraction and the snapshot store."""
