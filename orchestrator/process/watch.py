"""`ripple up --watch`: a saved change in a function's code folder, or in the spec or template
itself, is deployed by itself. A new code hash is a new version, and warm environments of an
older version are never reused, so the next invocation runs the new code. One log line says
what was reloaded and why; a change that does not deploy (a broken spec) says why and waits for
the next save."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import watchfiles

from orchestrator.errors import RippleError
from orchestrator.spec import load_any

log = logging.getLogger("ripple.watch")
# watchfiles yields once nothing more changed for STEP_MS (an editor's save is several writes),
# and at the latest after DEBOUNCE_MS of continuous changes.
STEP_MS = 30
DEBOUNCE_MS = 300

Deploy = Callable[[Path], list[dict[str, Any]]]


def watch(spec: Path, deploy: Deploy, stop: threading.Event, data_dir: Path | None = None) -> None:
    """Redeploy `spec` on every saved change under it or its functions' code, until `stop`.
    Changes under `data_dir` (ripple's own Redis and files, maybe inside a code folder) are
    not the user's."""
    spec = spec.resolve()
    ignored = data_dir.resolve() if data_dir else None
    logging.getLogger("watchfiles").setLevel(logging.WARNING)  # "1 change detected": ours says more
    while not stop.is_set():
        folders = code_folders(spec)
        roots = _roots([spec.parent, *folders])
        for changes in watchfiles.watch(*roots, stop_event=stop, step=STEP_MS,
                                        debounce=DEBOUNCE_MS, raise_interrupt=False):
            changed = sorted({Path(path) for _, path in changes
                              if _relevant(Path(path), spec, folders, ignored)})
            if not changed:
                continue
            reload(spec, deploy, changed)
            if code_folders(spec) != folders:
                break  # the spec moved a function's code: watch the new folders


def reload(spec: Path, deploy: Deploy, changed: list[Path]) -> None:
    """Deploy once and say what it did, in one line."""
    what = ", ".join(_shown(path, spec.parent) for path in changed[:3])
    what += f" and {len(changed) - 3} more" if len(changed) > 3 else ""
    try:
        results = deploy(spec)
    except (RippleError, RuntimeError, SystemExit) as error:  # typer.Exit: printed already
        log.warning("not reloaded after %s changed: %s", what, error or "see above")
        return
    updated = [result["name"] for result in results if result["changed"]]
    if updated:
        log.info("reloaded %s: %s changed", ", ".join(updated), what)
    else:
        log.info("nothing to reload: %s changed, no function's code or configuration did", what)


def code_folders(spec: Path) -> frozenset[Path]:
    """The code folders of the spec's functions (none while the spec does not load)."""
    try:
        return frozenset(function.code for function in load_any(spec).functions.values())
    except RippleError:
        return frozenset()


def _roots(paths: Iterable[Path]) -> list[Path]:
    """The folders to watch: each one not already inside another."""
    unique = sorted(set(paths), key=lambda path: len(path.parts))
    roots: list[Path] = []
    for path in unique:
        if path.is_dir() and not any(path.is_relative_to(root) for root in roots):
            roots.append(path)
    return roots


def _relevant(path: Path, spec: Path, folders: frozenset[Path], ignored: Path | None) -> bool:
    if ignored is not None and path.is_relative_to(ignored):
        return False
    return path == spec or any(path.is_relative_to(folder) for folder in folders)


def _shown(path: Path, base: Path) -> str:
    return str(path.relative_to(base)) if path.is_relative_to(base) else str(path)
