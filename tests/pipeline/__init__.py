"""Tests of archiver/pipeline/: the night, the commands, end to end."""
