"""Tests of archiver/liveness/: verdicts, politeness, safety, soft 404s."""
