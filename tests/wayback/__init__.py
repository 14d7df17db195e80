"""Tests of archiver/wayback/: the Wayback client, policy and stage."""
