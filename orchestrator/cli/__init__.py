"""ripple's command line: `up`, `worker` and `demo` run processes; the rest talk to the endpoint."""

import sys

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
from orchestrator.errors import SettingsError

__all__ = ["app", "main"]


def main() -> None:
    """The `ripple` command: a variable ripple cannot use is named, with no traceback."""
    try:
        app()
    except SettingsError as error:
        print(f"ripple: {error}", file=sys.stderr)
        raise SystemExit(2) from None
