"""Tests of archiver/audit/: the registry and the citation audit."""
