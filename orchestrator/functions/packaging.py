"""Function code as deterministic zip archives, and their safe unpacking.

An archive's bytes depend only on the files' relative paths, contents and executable bits:
entries are sorted, timestamps and permissions fixed, so its hash names the code.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat
import tempfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from orchestrator.errors import ArchiveError

MAX_UNPACKED_BYTES = 250 * 1024 * 1024  # Lambda's limit for unzipped code
# Not Lambda's (it counts bytes only) but a walk's: links between folders inside the code can
# repeat a tree exponentially with empty files that the byte count never notices.
MAX_FILES = 200_000
_SKIPPED_NAMES = {"__pycache__", ".git"}
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
_UNIX = 3  # zip "made by" system; fixed so archives built on any OS are byte-identical


def zip_directory(path: Path) -> bytes:
    """Zip a code folder so that the same content always gives the same bytes (and hash)."""
    if not path.is_dir():
        raise ArchiveError(f"{path} is not a folder")
    files = sorted(_code_files(path), key=lambda pair: pair[0])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, file in files:
            info = zipfile.ZipInfo(name, _FIXED_TIME)
            info.create_system = _UNIX
            mode = 0o755 if os.access(file, os.X_OK) else 0o644
            info.external_attr = (stat.S_IFREG | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, file.read_bytes())
    return buffer.getvalue()


def _code_files(root: Path) -> list[tuple[str, Path]]:
    """(archive name, file) for every file to ship, counted as the walk goes so that a folder
    over Lambda's 250 MB stops it at once. Links are followed within the folder (a loop is
    not); a link that leaves it is refused: it could pull in a whole disk, and Lambda would
    only get what the folder holds."""
    found: list[tuple[str, Path]] = []
    real_root = os.path.realpath(root)
    total = 0
    # The real folders above each walked folder: a link back to one of them is a loop.
    above = {str(root): frozenset({real_root})}
    for folder, dirs, names in os.walk(root, followlinks=True, onerror=_unreadable):
        chain = above.pop(folder)
        kept = []
        for name in sorted(dirs):
            sub = os.path.join(folder, name)
            real = _inside(root, real_root, sub)
            if name not in _SKIPPED_NAMES and real not in chain:
                above[sub] = chain | {real}
                kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            if name in _SKIPPED_NAMES or name.endswith(".pyc"):
                continue
            file = Path(folder, name)
            _inside(root, real_root, str(file))
            try:
                total += file.stat().st_size
            except OSError as error:
                raise ArchiveError(f"cannot read {file}: {error.strerror or error}") from None
            if total > MAX_UNPACKED_BYTES:
                raise ArchiveError(f"{root} holds more than 250 MB (reached at {file}); Lambda "
                                   "allows 250 MB unzipped: leave large data out of the code "
                                   "folder (S3 is the place for it)")
            found.append((file.relative_to(root).as_posix(), file))
            if len(found) > MAX_FILES:
                raise ArchiveError(f"{root} holds more than {MAX_FILES:,} files (reached at "
                                   f"{file}): is a link inside it repeating a folder?")
    return found


def _inside(root: Path, real_root: str, entry: str) -> str:
    """The real path of `entry`, which must stay in the code folder."""
    real = os.path.realpath(entry)
    if real != real_root and not real.startswith(real_root.rstrip(os.sep) + os.sep):
        raise ArchiveError(f"{entry} links to {real}, outside the code folder {root}: copy "
                           "what the function needs into the folder (a Lambda package holds "
                           "only its own files)")
    return real


def _unreadable(error: OSError) -> None:
    raise ArchiveError(f"cannot read {error.filename}: {error.strerror or error}")


def code_sha256(blob: bytes) -> str:
    """The archive's SHA-256 in hex, which names the code everywhere."""
    return hashlib.sha256(blob).hexdigest()


def unpack_archive(blob: bytes, dest: Path) -> Path:
    """Unpack into `dest` atomically, refusing any member that would land outside it.

    An existing `dest` is returned untouched: archives are stored by hash, so whoever unpacked
    it first unpacked the same content.
    """
    if dest.is_dir():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        _extract(blob, staging)
        staging.chmod(0o755)
        try:
            staging.rename(dest)
        except OSError:
            if not dest.is_dir():
                raise
            shutil.rmtree(staging, ignore_errors=True)  # another process unpacked it first
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return dest


def _extract(blob: bytes, staging: Path) -> None:
    root = staging.resolve()
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = archive.infolist()
            # Every member is checked before anything is written.
            for member in members:
                _check_member(member, root)
            declared = sum(member.file_size for member in members)
            if declared > MAX_UNPACKED_BYTES:
                raise ArchiveError(f"archive unpacks to {declared / 2**20:.0f} MB; Lambda "
                                   "allows 250 MB")
            for member in members:
                target = Path(archive.extract(member, root))
                mode = (member.external_attr >> 16) & 0o777
                if mode and not member.is_dir():
                    target.chmod(mode | 0o400)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise ArchiveError(f"not a readable zip archive: {error}") from None


def _check_member(member: zipfile.ZipInfo, root: Path) -> None:
    name = member.filename
    posix = name.replace("\\", "/")
    parts = PurePosixPath(posix).parts
    if posix.startswith("/") or (len(name) > 1 and name[1] == ":") or ".." in parts:
        raise ArchiveError(f"archive member {name!r} escapes its folder")
    if stat.S_ISLNK(member.external_attr >> 16):
        raise ArchiveError(f"archive member {name!r} is a symbolic link")
    if not (root / posix).resolve().is_relative_to(root):
        raise ArchiveError(f"archive member {name!r} escapes its folder")


def check_archive(blob: bytes) -> None:
    """Refuse an uploaded archive that could not be unpacked safely (a member outside its
    folder, a link, over 250 MB unpacked, not a zip), before it is stored: the same checks
    `unpack_archive` makes, without writing anything."""
    root = Path(tempfile.gettempdir()).resolve() / "ripple-archive-check"
    try:
        with zipfile.ZipFile(io.BytesIO(blob)) as archive:
            members = archive.infolist()
            for member in members:
                _check_member(member, root)
            declared = sum(member.file_size for member in members)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise ArchiveError(f"not a readable zip archive: {error}") from None
    if declared > MAX_UNPACKED_BYTES:
        raise ArchiveError(f"archive unpacks to {declared / 2**20:.0f} MB; Lambda allows 250 MB")
