"""Settings from the environment: a variable ripple cannot use is named, with its value and why."""

from __future__ import annotations

import subprocess
import sys

import pytest

from orchestrator.errors import SettingsError
from orchestrator.settings import get_settings
from tests.conftest import ROOT, clean_environment


def test_a_variable_out_of_range_is_named_with_its_value_and_why(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a negative trace reservoir and a port that is no number
    monkeypatch.setenv("RIPPLE_TRACE_RESERVOIR", "-1")
    monkeypatch.setenv("RIPPLE_PORT", "http")
    get_settings.cache_clear()
    try:
        # When the settings are read
        with pytest.raises(SettingsError) as raised:
            get_settings()
    finally:
        get_settings.cache_clear()
    # Then the error names each variable, its value and why
    message = str(raised.value)
    assert "RIPPLE_TRACE_RESERVOIR=-1: Input should be greater than or equal to 0" in message
    assert "RIPPLE_PORT=http: Input should be a valid integer" in message


def test_the_command_says_so_in_one_line_and_starts_nothing() -> None:
    # Given a negative trace reservoir in the environment
    env = clean_environment(RIPPLE_TRACE_RESERVOIR="-1")
    # When `ripple up` starts
    done = subprocess.run([sys.executable, "-m", "orchestrator.cli", "up", "--port", "1"],
                          env=env, cwd=ROOT, capture_output=True, text=True, timeout=60)
    # Then it exits 2 with the variable named, and no traceback
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("ripple: RIPPLE_TRACE_RESERVOIR=-1: Input should be greater")
    assert "Traceback" not in done.stderr
