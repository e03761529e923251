"""The layering of DESIGN.md as import-linter contracts (pyproject.toml), checked on the code as
it stands, and shown to catch a forbidden import."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()",
        "--no-cache"]


def lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(LINT, cwd=tree, env=env, capture_output=True, text=True, timeout=120)


def test_every_contract_is_kept() -> None:
    # Given the source tree as it is, when import-linter checks the contracts
    result = lint(ROOT)
    # Then every one is kept
    assert result.returncode == 0, result.stdout + result.stderr
    assert "BROKEN" not in result.stdout
    assert result.stdout.count(" KEPT") == 6


def test_a_forbidden_import_breaks_its_contract(tmp_path: Path) -> None:
    # Given a copy of the tree where tracing imports ripple's settings
    for package in ("orchestrator", "workers", "tracing"):
        shutil.copytree(ROOT / package, tmp_path / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    spans = tmp_path / "tracing" / "spans.py"
    spans.write_text(spans.read_text() + "\nfrom orchestrator.settings import Settings  # noqa\n")
    # When import-linter checks it
    result = lint(tmp_path)
    # Then the contract that names the rule is broken, and the check fails
    assert result.returncode != 0
    assert ("tracing is a library below ripple: it imports neither orchestrator nor workers "
            "BROKEN") in result.stdout
    assert "tracing.spans -> orchestrator.settings" in result.stdout
