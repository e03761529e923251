"""The invocation plane: the message, queues, the sync invoker, concurrency, dead letters."""
