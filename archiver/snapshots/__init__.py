"""Text snapshots: extraction in worker processes, the store, the stage, drift measurement."""
