"""What a forked environment's handler can import: its own code, the runtime's packages (the
PYTHONPATH ripple gives it: boto3, awslambdaric and their dependencies) and the standard library,
as on Lambda — the same `sys.path` a `python -S` environment gets.

The template loaded more than that for ripple's telemetry: the OpenTelemetry SDK with requests,
protobuf, wrapt and a few others. Those modules stay in `sys.modules` and keep working, lazy
imports included (a package's submodules resolve through its own `__path__`; a top-level import
made on behalf of one of them still finds the worker's site-packages). But an import of one of
them by name from anywhere else — the handler, its libraries, awslambdaric importing the handler
— fails with ModuleNotFoundError, as it does on Lambda. Who imports is the first caller outside
the standard library: `import`, `importlib.import_module` and `importlib.resources` alike.
"""

from __future__ import annotations

import builtins
import importlib
import importlib.util
import os
import sys
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from importlib.machinery import ModuleSpec, PathFinder
from pathlib import Path
from types import FrameType, ModuleType
from typing import Any

_SITE_DIRS = frozenset({"site-packages", "dist-packages"})
_IMPORT_SYSTEM = frozenset({"_frozen_importlib", "_frozen_importlib_external"})


def confine(task_root: str, python_path: str, ripple_packages: frozenset[str]) -> None:
    """Give this process Lambda's import path and hide the modules only ripple needs."""
    stdlib = [entry for entry in sys.path if _is_stdlib_dir(entry)]
    site_dirs = [entry for entry in sys.path if _SITE_DIRS & set(Path(entry).parts)]
    runtime_dirs = [entry for entry in python_path.split(os.pathsep) if entry]
    sys.path[:] = [task_root, *runtime_dirs, *stdlib]
    runtime = _module_names(runtime_dirs)
    allowed = sys.stdlib_module_names | _IMPORT_SYSTEM | runtime
    # The editable install's finder and setuptools' distutils shim would reach ripple's venv.
    sys.meta_path[:] = [finder for finder in sys.meta_path if _top(finder) in allowed]
    # The finders cached for the template's site-packages stay: the hidden packages' submodules
    # are found through them (their packages' __path__), and clearing them costs ms per fork.
    sys.path_hooks[:] = [hook for hook in sys.path_hooks if _top(hook) in allowed]
    loaded = {name.partition(".")[0] for name in sys.modules}
    hidden = frozenset(loaded - allowed - set(sys.builtin_module_names) - {"__main__"})
    guard = _Guard(hidden, hidden | ripple_packages, task_root + os.sep)
    sys.meta_path.append(_OnBehalfFinder(guard, site_dirs, ripple_packages))
    builtins.__import__ = guard.wrap_import(builtins.__import__)
    importlib.import_module = guard.wrap_import_module(importlib.import_module)


class _Guard:
    def __init__(self, hidden: frozenset[str], privileged: frozenset[str], task_root: str) -> None:
        self.hidden = hidden
        self.privileged = privileged
        self.task_root = task_root
        self.local = threading.local()

    def on_behalf(self) -> bool:
        """True while an import made by one of the hidden (or ripple's) modules runs."""
        return bool(getattr(self.local, "depth", 0))

    def _by_privileged(self, frame: FrameType | None) -> bool:
        while frame is not None and _top_name(frame.f_globals) in sys.stdlib_module_names:
            frame = frame.f_back
        if frame is None:
            return False
        module = frame.f_globals
        return (_top_name(module) in self.privileged
                and not str(module.get("__file__") or "").startswith(self.task_root))

    def checked(self, top: str) -> bool:
        """Whether importing `top` depends on who asks: a hidden module, or one not loaded yet
        (which a hidden module may still import from the worker's site-packages)."""
        return top in self.hidden or top not in sys.modules

    def _run(self, top: str, frame: FrameType | None,
             load: Callable[[], ModuleType]) -> ModuleType:
        if self._by_privileged(frame):
            self.local.depth = getattr(self.local, "depth", 0) + 1
            try:
                return load()
            finally:
                self.local.depth -= 1
        if top in self.hidden:
            raise ModuleNotFoundError(f"No module named '{top}'", name=top)
        return load()

    def wrap_import(self, original: Callable[..., ModuleType]) -> Callable[..., ModuleType]:
        def guarded_import(name: str, globals: Mapping[str, Any] | None = None,
                           locals: Mapping[str, Any] | None = None,
                           fromlist: Sequence[str] | None = (), level: int = 0) -> ModuleType:
            top = name.partition(".")[0]
            if level or not self.checked(top):  # the fast path: an import of a loaded module
                return original(name, globals, locals, fromlist, level)
            return self._run(top, sys._getframe(1),
                             lambda: original(name, globals, locals, fromlist, level))

        return guarded_import

    def wrap_import_module(self, original: Callable[..., ModuleType]) -> Callable[..., ModuleType]:
        def import_module(name: str, package: str | None = None) -> ModuleType:
            absolute = importlib.util.resolve_name(name, package) if name[:1] == "." else name
            top = absolute.partition(".")[0]
            if not self.checked(top):
                return original(name, package)
            return self._run(top, sys._getframe(1), lambda: original(name, package))

        return import_module


class _OnBehalfFinder:
    """The worker's site-packages, for top-level imports the hidden modules make themselves."""

    def __init__(self, guard: _Guard, site_dirs: list[str], excluded: frozenset[str]) -> None:
        self.guard = guard
        self.site_dirs = site_dirs
        self.excluded = excluded

    def find_spec(self, name: str, path: Sequence[str] | None = None,
                  target: ModuleType | None = None) -> ModuleSpec | None:
        if path is not None or name in self.excluded or not self.guard.on_behalf():
            return None
        return PathFinder.find_spec(name, self.site_dirs, target)


def _is_stdlib_dir(entry: str) -> bool:
    return (entry.startswith(sys.base_prefix + os.sep)
            and not _SITE_DIRS & set(Path(entry).parts))


def _module_names(folders: Iterable[str]) -> frozenset[str]:
    """The top-level modules importable from these folders."""
    names: set[str] = set()
    for folder in folders:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        names.update(entry.split(".")[0] for entry in entries
                     if not entry.endswith((".dist-info", ".egg-info", ".pth")))
    return frozenset(names)


def _top(finder: object) -> str:
    return str(getattr(finder, "__module__", "") or "").partition(".")[0]


def _top_name(module_globals: Mapping[str, Any]) -> str:
    return str(module_globals.get("__name__") or "").partition(".")[0]
