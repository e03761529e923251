"""Turn a child forked from the template into an execution environment.

The child leaves the template's session, writes to the worker's pipe, sees only the sandbox's
variables, starts in the function's code directory, gets OpenTelemetry unless the function turned
it off, and then runs awslambdaric exactly as `python -S -m awslambdaric <handler>` would with
the sandbox's PYTHONPATH — the process exits when awslambdaric does.

Before the handler is imported, ripple's own packages leave `sys.modules`: a function that ships
a `tracing.py` of its own imports its own module, as it would on Lambda, instead of ripple's. The
telemetry configured here keeps working through the functions and modules it already holds;
nothing in the sandbox imports a ripple module after that point. Then `confine` gives the
process Lambda's import path (LAMBDA_TASK_ROOT, the runtime's packages, the standard library)
and hides what the template imported for ripple alone (OpenTelemetry, requests, protobuf...).
Telemetry is configured before that: its entry points (propagators, samplers, resource
detectors) are found through the worker's site-packages.
"""

from __future__ import annotations

import atexit
import os
import sys
import time
import traceback
from typing import Any, NoReturn

# awslambdaric's own dependencies load in the template; `lambda_runtime_client` (whose native
# client reads AWS_LAMBDA_RUNTIME_API once, when it is imported) and `bootstrap` (which reads the
# log settings) are imported by each child, after it has its own variables.
import awslambdaric
import awslambdaric.lambda_context  # noqa: F401
import awslambdaric.lambda_runtime_exception  # noqa: F401
import awslambdaric.lambda_runtime_log_utils  # noqa: F401
import awslambdaric.lambda_runtime_marshaller  # noqa: F401

from workers.sandbox import telemetry, warm
from workers.sandbox.confine import confine

# ripple's top-level packages (pyproject's `packages.find`): names a function may ship too.
RIPPLE_PACKAGES = frozenset({"orchestrator", "tracing", "workers"})


def become_environment(request: dict[str, Any], stdout: int, lifeline: int) -> NoReturn:
    """Never returns: the forked child runs the function until awslambdaric exits."""
    try:
        _isolate(request, stdout)
        from awslambdaric import bootstrap as ric_bootstrap

        warm.share_loader()
        provider = telemetry.configure(os.environ) if telemetry.enabled(os.environ) else None
        if provider is not None:
            ric_bootstrap.handle_event_request = telemetry.around_invocations(
                ric_bootstrap.handle_event_request)
        telemetry.exit_when_closed(lifeline, provider)
        _forget_ripple()
        confine(request["cwd"], os.environ.get("PYTHONPATH", ""), RIPPLE_PACKAGES)
    except BaseException:
        traceback.print_exc()
        _exit(127)
    _exit(_run_awslambdaric())


def _isolate(request: dict[str, Any], stdout: int) -> None:
    os.setsid()
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(stdout, 1)
    os.dup2(stdout, 2)
    os.close(null)
    os.close(stdout)
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    os.chdir(request["cwd"])
    sys.argv = [os.path.join(os.path.dirname(awslambdaric.__file__), "__main__.py"),
                request["handler"]]


def _forget_ripple() -> None:
    """Drop ripple's modules from sys.modules, so that the function's `import tracing` finds its
    own module on sys.path (or fails, as on Lambda) rather than ripple's."""
    for name in [name for name in sys.modules if name.split(".")[0] in RIPPLE_PACKAGES]:
        del sys.modules[name]


def _run_awslambdaric() -> int:
    """awslambdaric's main, with the exit status the interpreter would give it."""
    import awslambdaric.__main__

    try:
        awslambdaric.__main__.main(sys.argv)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            return stop.code or 0
        print(stop.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _exit(code: int) -> NoReturn:
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)
