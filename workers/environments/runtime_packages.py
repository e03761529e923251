"""The packages an execution environment may import besides its own code: what Lambda's Python
runtime has in /var/runtime (boto3 and the runtime interface client, with their dependencies),
not the worker's virtualenv.

The folder is built once per worker process under the data dir: one symlink per top-level
module and `.dist-info` of those distributions, pointing into the worker's site-packages. It is
the environment's PYTHONPATH (and LAMBDA_RUNTIME_DIR, as on Lambda), so `import boto3` works in a
handler and `import celery`, `import redis` or `import pydantic` fail there as they do on Lambda.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
from importlib import metadata
from pathlib import Path

# What Lambda's Python runtime brings; their dependencies (botocore, s3transfer, jmespath,
# python-dateutil, six, urllib3, simplejson, snapshot-restore-py) follow from their metadata.
RUNTIME_DISTRIBUTIONS = ("awslambdaric", "boto3")
_REQUIREMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_built: dict[Path, Path] = {}
_lock = threading.Lock()


def runtime_directory(data_dir: Path) -> Path:
    """The folder of the runtime's packages under `data_dir`, built on first use."""
    root = (data_dir / "runtime").resolve()
    with _lock:
        built = _built.get(root)
        if built is None or not built.is_dir():
            built = _built[root] = _build(root, _distributions())
        return built


def _distributions() -> list[metadata.Distribution]:
    """The runtime's distributions and everything they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    pending = list(RUNTIME_DISTRIBUTIONS)
    while pending:
        name = _canonical(pending.pop())
        if name in found:
            continue
        try:
            found[name] = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue  # an optional dependency this platform does not install
        for requirement in found[name].requires or ():
            marker = requirement.partition(";")[2]
            match = _REQUIREMENT_NAME.match(requirement)
            if match and "extra" not in marker:
                pending.append(match.group())
    return sorted(found.values(), key=lambda dist: _canonical(dist.metadata["Name"]))


def _top_level_entries(dist: metadata.Distribution) -> set[Path]:
    """The distribution's top-level files and folders in its site-packages."""
    entries = set()
    for file in dist.files or ():
        first = file.parts[0]
        if first not in ("..", "__pycache__") and not first.endswith(".pth"):
            entries.add(Path(str(dist.locate_file(first))))
    return entries


def _build(root: Path, distributions: list[metadata.Distribution]) -> Path:
    """Link the distributions' entries into a folder named after their versions; several workers
    may build it at once, and the first to rename its copy into place wins."""
    entries = sorted(set().union(*(_top_level_entries(dist) for dist in distributions)))
    versions = ",".join(f"{dist.metadata['Name']}={dist.version}" for dist in distributions)
    digest = hashlib.sha256(f"{sys.prefix}|{versions}".encode()).hexdigest()[:16]
    final = root / f"python{sys.version_info[0]}.{sys.version_info[1]}-{digest}"
    if final.is_dir():
        return final
    root.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".building-", dir=root))
    try:
        for entry in entries:
            if entry.exists():
                os.symlink(entry, building / entry.name)
        os.chmod(building, 0o755)
        with contextlib.suppress(OSError):  # another worker renamed its copy first
            os.rename(building, final)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    return final


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
