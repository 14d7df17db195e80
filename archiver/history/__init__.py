"""What the pipeline remembers across runs: link state, its store on disk, shards, seen findings."""
