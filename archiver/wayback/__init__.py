"""The Wayback Machine: client, decisions without I/O, the stage, archive_url annotations."""
