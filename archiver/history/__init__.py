"""What the pipeline remembers across runs: link state, its store on disk, shards, seen findings.

``linkstate`` applies each verdict to a link's record (a death is confirmed only after repeated
failures over days); ``schedule`` says which links are due tonight; ``store`` keeps one
``state.json`` per link (written atomically, unchanged files never rewritten) and the run record;
``lock`` keeps two runs apart; ``shards`` merges parallel runs; ``known_findings`` remembers findings.
"""
