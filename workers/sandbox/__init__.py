"""Code that runs inside execution environments forked from the template (the zygote).

`template` is the zygote's main loop, `bootstrap` turns a forked child into an environment
running `awslambdaric`, and `telemetry` gives that environment OpenTelemetry. Nothing here runs
in the worker process itself.
"""
