"""ripple's command line: `up`, `worker` and `demo` run processes; the rest talk to the endpoint."""

from orchestrator.cli import data, demo, dlq, functions, traces, up  # noqa: F401  (registers commands)
from orchestrator.cli.app import app

__all__ = ["app"]
