"""Tests of archiver/history/: link state, schedule, shards, the Wayback record."""
