"""The night as a recipe of stages, and the commands with their locks and exit codes."""
