"""Function code fetched from Redis by hash and unpacked once per machine."""

from __future__ import annotations

from pathlib import Path

from orchestrator.errors import ArchiveError
from orchestrator.functions.config import FunctionConfig
from orchestrator.functions.packaging import unpack_archive
from orchestrator.functions.registry import Registry


class CodeCache:
    def __init__(self, registry: Registry, root: Path) -> None:
        self.registry = registry
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def path_for(self, function: FunctionConfig) -> Path:
        """The unpacked code folder for the function's code hash, fetched if not here yet."""
        dest = self.root / function.code_sha256
        if dest.is_dir():
            return dest
        blob = self.registry.get_code(function.code_sha256)
        if blob is None:
            raise ArchiveError(f"code {function.code_sha256} of {function.name} is not in Redis")
        return unpack_archive(blob, dest)
