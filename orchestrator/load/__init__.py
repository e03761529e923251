"""`ripple load`: generate load against a running ripple and measure what it did.

targets (what one event is), schedule (when events are sent), generator (processes that send
them), collect (what ripple recorded), summary (the run's figures), forecast (the same arrivals
on AWS), charts and report (SVG/PNG charts, the offline HTML file).
"""

from __future__ import annotations

from orchestrator.errors import RippleError


class LoadError(RippleError):
    """A load run that cannot start or go on: says what was wrong and what to do."""
