"""Execution environments: their processes, the launcher, the pool, the Runtime API."""
