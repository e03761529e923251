"""The processes `ripple up` runs: the supervisor, the stack, the embedded Redis."""
