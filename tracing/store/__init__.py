"""The span store (SQLite) and what is folded from it (the service-map rollup)."""
