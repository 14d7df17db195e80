"""Is each cited page still there: transport, polite fetching, soft-404s, network state, verdicts."""
