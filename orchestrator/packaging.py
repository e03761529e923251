"""Function code as deterministic zip archives, and their safe unpacking."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from orchestrator.errors import ArchiveError

MAX_UNPACKED_BYTES = 250 * 1024 * 1024
_SKIP_DIRS = {"__pycache__", ".git"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)


def zip_directory(path: Path) -> bytes:
    """Zip a code folder so that the same content always gives the same bytes (and hash)."""
    if not path.is_dir():
        raise ArchiveError(f"{path} is not a directory")
    files = []
    for root, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        files += [Path(root) / name for name in names if not name.endswith(".pyc")]
    total = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for file in sorted(files, key=lambda f: f.relative_to(path).as_posix()):
            data = file.read_bytes()
            total += len(data)
            if total > MAX_UNPACKED_BYTES:
                raise ArchiveError(f"{path} holds over 250 MB, Lambda's unzipped limit")
            info = zipfile.ZipInfo(file.relative_to(path).as_posix(), _FIXED_TIME)
            mode = 0o755 if os.access(file, os.X_OK) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buffer.getvalue()


def code_sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def unpack_archive(blob: bytes, dest: Path) -> Path:
    """Unpack into `dest` atomically; members that would land outside it are refused."""
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            total = 0
            for member in archive.infolist():
                _check_member(member)
                total += member.file_size
                if total > MAX_UNPACKED_BYTES:
                    raise ArchiveError("archive unpacks to over 250 MB")
                target = staging / member.filename
                if not target.resolve().is_relative_to(staging.resolve()):
                    raise ArchiveError(f"archive member {member.filename!r} escapes its folder")
                archive.extract(member, staging)
                mode = (member.external_attr >> 16) & 0o777
                if mode and not member.is_dir():
                    target.chmod(mode | 0o400)
        try:
            staging.rename(dest)
        except OSError:
            if not dest.is_dir():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process unpacked it first
    except zipfile.BadZipFile as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ArchiveError(f"not a zip archive: {error}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _check_member(member: zipfile.ZipInfo) -> None:
    name = member.filename
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise ArchiveError(f"archive member {name!r} escapes its folder")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise ArchiveError(f"archive member {name!r} is a symbolic link")
