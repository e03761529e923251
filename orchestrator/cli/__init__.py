"""ripple's command line: `up`, `worker` and `demo` run processes; the rest talk to the endpoint."""

from orchestrator.cli import (  # noqa: F401  (registers commands)
    chaos,
    cost,
    data,
    demo,
    dlq,
    functions,
    load,
    traces,
    up,
    why,
)
from orchestrator.cli.app import app

__all__ = ["app"]
