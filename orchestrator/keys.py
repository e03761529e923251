"""Every Redis key ripple uses, in one place; all live under `ripple:`."""

FUNCTIONS = "ripple:functions"  # hash: name -> FunctionConfig JSON
FUNCTIONS_CHANGED = "ripple:functions:changed"  # pub/sub channel: a function's name
WORKERS = "ripple:workers"  # hash: worker id -> last heartbeat (epoch s)
WORKER_SLOTS = "ripple:worker_slots"  # hash: worker id -> invocations it runs at once
WORKER_QUEUES = "ripple:worker_queues"  # set: worker ids that own a queue of their own
DELAYED = "ripple:delayed"  # zset: invocation message JSON scored by due time
DEAD_LETTERS = "ripple:dlq"  # hash: entry id -> dead-letter JSON
DEAD_LETTER_ORDER = "ripple:dlq:order"  # zset: entry id scored by time
INVOCATIONS = "ripple:invocations"  # stream of invocation records
ACCOUNT_CONCURRENCY = "ripple:concurrency:_account"  # zset of leases
LEDGER_SWEEP = "ripple:ledger_sweep"  # lock: one worker at a time recovers lost events
CHAOS_DUPLICATE = "ripple:chaos:duplicate"  # fraction of async events `ripple chaos` queues twice
SCALING = "ripple:scaling"  # stream of worker scaling decisions: time, from, to, reason
SCALING_STATE = "ripple:scaling:state"  # hash: workers, min, max of `ripple up`'s autoscaler

QUEUE_SYNC = "ripple.sync"
QUEUE_ASYNC = "ripple.async"


def code(sha256: str) -> str:
    return f"ripple:code:{sha256}"


def counters(function: str) -> str:
    return f"ripple:counters:{function}"


def logs(function: str) -> str:
    return f"ripple:logs:{function}"


def concurrency(function: str) -> str:
    return f"ripple:concurrency:{function}"


def reply(request_id: str) -> str:
    return f"ripple:reply:{request_id}"


def warm(function: str, version: str) -> str:
    """List of worker ids that hold an idle environment for this function version."""
    return f"ripple:warm:{function}:{version}"


def ledger(function: str) -> str:
    """Hash: the delivery ledger's counts of a function's async events."""
    return f"ripple:ledger:{function}"


def in_flight(function: str) -> str:
    """Hash: request id -> time accepted, for a function's async events not yet settled."""
    return f"ripple:inflight:{function}"


def held(worker_id: str) -> str:
    """Set of the Celery delivery tags a worker holds, refreshed with its heartbeat."""
    return f"ripple:held:{worker_id}"


def worker_queue(worker_id: str) -> str:
    """Each worker's own queue: invocations routed to its warm environments."""
    return f"ripple.worker.{worker_id}"


def handoffs(function: str, version: str) -> str:
    """List of `handoff_token`s: worker threads waiting, right now, to be handed this function
    version's next sync event directly (`workers.drain`)."""
    return f"ripple:handoff:{function}:{version}"


def handoff_token(worker_id: str, slot: int) -> str:
    """A waiting thread: its worker's id and its slot (`HANDOFF_TOKEN_WORKER` reads it back)."""
    return f"{worker_id}:handoff:{slot}"


# The Lua pattern that reads the worker's id back out of a `handoff_token` (the dispatcher
# hands an event only to a live worker's thread).
HANDOFF_TOKEN_WORKER = "^(.+):handoff:%d+$"


def handoff_queue(token: str) -> str:
    """The queue a waiting thread (its `handoff_token`) is handed its next event on."""
    return worker_queue(token)


def handoff_queues(worker_id: str) -> str:
    """A pattern matching every `handoff_queue` of a worker's threads."""
    return handoff_queue(f"{worker_id}:handoff:*")


def versions(function: str) -> str:
    """Hash: published version number -> the FunctionConfig JSON snapshot it froze."""
    return f"ripple:versions:{function}"


def last_version(function: str) -> str:
    """Counter: a function's last published version number (numbers are never reused)."""
    return f"ripple:versions:{function}:last"


def aliases(function: str) -> str:
    """Hash: alias name -> its record (version, weights, description) as JSON."""
    return f"ripple:aliases:{function}"


def function_extras(function: str) -> str:
    """Hash: what the Lambda API keeps beside the configuration (tags, resource policy, event
    invoke configuration), each as JSON."""
    return f"ripple:function_extras:{function}"


EVENT_SOURCE_MAPPINGS = "ripple:event_source_mappings"  # hash: UUID -> mapping JSON (Lambda API)
IAM_ROLES = "ripple:iam:roles"  # hash: role name -> role JSON (recorded, never enforced)
FUNCTION_URLS = "ripple:function_urls"  # hash: URL id -> function URL configuration JSON
