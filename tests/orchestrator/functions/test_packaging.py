"""Code archives: the same content gives the same hash; unpacking never writes outside `dest`."""

from __future__ import annotations

import hashlib
import io
import os
import re
import stat
import zipfile
from pathlib import Path

import pytest

from orchestrator.errors import ArchiveError
from orchestrator.functions import packaging
from orchestrator.functions.packaging import code_sha256, unpack_archive, zip_directory


def make_code(folder: Path) -> Path:
    """A small function folder with the clutter a zip must leave out."""
    (folder / "pkg" / "__pycache__").mkdir(parents=True)
    (folder / ".git").mkdir()
    (folder / "app.py").write_text("from pkg import mod\n\ndef handler(e, c):\n    return 1\n")
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / "mod.py").write_text("VALUE = 1\n")
    (folder / "pkg" / "__pycache__" / "mod.cpython-311.pyc").write_bytes(b"\x00compiled")
    (folder / "stale.pyc").write_bytes(b"\x00compiled")
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "bootstrap").write_text("#!/bin/sh\n")
    (folder / "bootstrap").chmod(0o755)
    return folder


def everything_under(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


def hand_made_zip(*members: tuple[zipfile.ZipInfo | str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def symlink_member(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


# zip_directory and code_sha256


def test_same_content_gives_the_same_bytes_and_hash(tmp_path: Path) -> None:
    # Given the same code in two different folders, written at different times
    first = make_code(tmp_path / "first")
    second = make_code(tmp_path / "second")
    # When both are zipped
    blob_a, blob_b = zip_directory(first), zip_directory(second)
    # Then the archives are byte-identical
    assert blob_a == blob_b
    assert code_sha256(blob_a) == code_sha256(blob_b)
    # And the hash is the archive's SHA-256, in lower-case hex
    assert code_sha256(blob_a) == hashlib.sha256(blob_a).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", code_sha256(blob_a))


def test_touching_files_does_not_change_the_hash(tmp_path: Path) -> None:
    # Given a zipped folder
    code = make_code(tmp_path / "code")
    before = code_sha256(zip_directory(code))
    # When every file's modification time changes but no content does
    for path in code.rglob("*"):
        os.utime(path, (1_000_000_000, 1_000_000_000))
    # Then the hash is the same
    assert code_sha256(zip_directory(code)) == before


@pytest.mark.parametrize("change", ["edit", "add", "rename", "chmod"])
def test_changed_content_changes_the_hash(tmp_path: Path, change: str) -> None:
    # Given a zipped folder
    code = make_code(tmp_path / "code")
    before = code_sha256(zip_directory(code))
    # When its content changes
    if change == "edit":
        (code / "pkg" / "mod.py").write_text("VALUE = 2\n")
    elif change == "add":
        (code / "extra.txt").write_text("x")
    elif change == "rename":
        (code / "pkg" / "mod.py").rename(code / "pkg" / "other.py")
    else:
        (code / "app.py").chmod(0o755)
    # Then so does the hash
    assert code_sha256(zip_directory(code)) != before


def test_archive_is_sorted_with_fixed_times_and_modes_and_no_clutter(tmp_path: Path) -> None:
    # Given a folder holding caches, compiled files and a .git folder
    code = make_code(tmp_path / "code")
    # When it is zipped
    with zipfile.ZipFile(io.BytesIO(zip_directory(code))) as archive:
        infos = archive.infolist()
    # Then only the source files are in it, sorted, with fixed times and permissions
    names = [info.filename for info in infos]
    assert names == ["app.py", "bootstrap", "pkg/__init__.py", "pkg/mod.py"]
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    modes = {info.filename: (info.external_attr >> 16) & 0o777 for info in infos}
    assert modes == {"app.py": 0o644, "bootstrap": 0o755, "pkg/__init__.py": 0o644,
                     "pkg/mod.py": 0o644}


def test_symbolic_links_inside_the_folder_are_followed_and_loops_are_not(tmp_path: Path) -> None:
    # Given a folder with a link to a library folder inside it and a link back to itself
    code = tmp_path / "code"
    (code / "lib" / "shared").mkdir(parents=True)
    (code / "lib" / "shared" / "util.py").write_text("X = 1\n")
    (code / "app.py").write_text("")
    (code / "shared").symlink_to(code / "lib" / "shared", target_is_directory=True)
    (code / "loop").symlink_to(code, target_is_directory=True)
    # When it is zipped
    with zipfile.ZipFile(io.BytesIO(zip_directory(code))) as archive:
        names = archive.namelist()
    # Then the linked files are in it as plain files, and the loop ended the walk
    assert names == ["app.py", "lib/shared/util.py", "shared/util.py"]


@pytest.mark.parametrize("link", ["folder", "file"])
def test_a_link_leaving_the_folder_is_refused_naming_it(tmp_path: Path, link: str) -> None:
    # Given a code folder holding a link to a folder (or file) outside it
    outside = tmp_path / "shared"
    outside.mkdir()
    (outside / "util.py").write_text("X = 1\n")
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("")
    target = outside if link == "folder" else outside / "util.py"
    (code / "shared").symlink_to(target, target_is_directory=link == "folder")
    # When it is zipped, Then the error names the link, where it leads, and the folder
    with pytest.raises(ArchiveError) as refused:
        zip_directory(code)
    message = str(refused.value)
    assert f"{code / 'shared'} links to {target}, outside the code folder {code}" in message


def test_a_link_into_a_huge_tree_is_refused_at_once(tmp_path: Path) -> None:
    # Given a code folder with a link to the root of the file system
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text("")
    (code / "everything").symlink_to("/", target_is_directory=True)
    # When it is zipped, Then it is refused at the link, before the walk enters the tree
    with pytest.raises(ArchiveError, match=f"{code / 'everything'} links to /, outside"):
        zip_directory(code)


def test_the_size_limit_stops_the_walk_at_the_file_that_crosses_it(tmp_path: Path) -> None:
    # Given a folder whose (sparse) files pass 250 MB at the second one
    code = tmp_path / "code"
    code.mkdir()
    for name in ("a.bin", "b.bin", "c.bin"):
        with (code / name).open("wb") as part:
            part.truncate(200 * 1024 * 1024)
    # When it is zipped, Then the error names the file where the limit was reached
    with pytest.raises(ArchiveError, match=r"more than 250 MB \(reached at .*b\.bin\)"):
        zip_directory(code)


def test_links_repeating_a_folder_are_bounded_by_the_file_count(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Given folders that each link twice to the next one (2^n empty files) and a small cap
    monkeypatch.setattr(packaging, "MAX_FILES", 100)
    code = tmp_path / "code"
    levels = [code / f"level{index}" for index in range(10)]
    for level in levels:
        level.mkdir(parents=True)
    (levels[-1] / "empty.py").write_text("")
    for upper, lower in zip(levels, levels[1:], strict=False):
        (upper / "left").symlink_to(lower, target_is_directory=True)
        (upper / "right").symlink_to(lower, target_is_directory=True)
    # When it is zipped, Then the walk stops at the cap with an error that says why
    with pytest.raises(ArchiveError, match="more than 100 files"):
        zip_directory(code)


def test_a_folder_over_250_mb_is_refused(tmp_path: Path) -> None:
    # Given a folder holding a (sparse) 251 MB file
    code = tmp_path / "code"
    code.mkdir()
    with (code / "big.bin").open("wb") as big:
        big.truncate(251 * 1024 * 1024)
    # When it is zipped, Then it is refused before being read
    with pytest.raises(ArchiveError, match="250 MB"):
        zip_directory(code)


def test_zipping_a_missing_folder_is_an_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a folder"):
        zip_directory(tmp_path / "missing")


# unpack_archive


def test_unpacking_restores_files_and_executable_bits(tmp_path: Path) -> None:
    # Given a zipped folder
    blob = zip_directory(make_code(tmp_path / "code"))
    dest = tmp_path / "cache" / code_sha256(blob)
    # When it is unpacked
    result = unpack_archive(blob, dest)
    # Then the files are there with their modes, and no staging folder is left beside it
    assert result == dest
    assert (dest / "pkg" / "mod.py").read_text() == "VALUE = 1\n"
    assert os.access(dest / "bootstrap", os.X_OK)
    assert not os.access(dest / "app.py", os.X_OK)
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [dest.name]
    assert zip_directory(dest) == blob


def test_an_existing_destination_is_returned_untouched(tmp_path: Path) -> None:
    # Given a destination already unpacked by someone else
    dest = tmp_path / "cache" / "abc"
    dest.mkdir(parents=True)
    (dest / "marker").write_text("first")
    # When an archive is unpacked there
    result = unpack_archive(hand_made_zip(("app.py", b"x")), dest)
    # Then it is left as it was
    assert result == dest
    assert sorted(path.name for path in dest.iterdir()) == ["marker"]


def test_losing_the_race_to_another_unpacker_is_fine(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    # Given another process that finishes unpacking the same archive while we extract
    blob = hand_made_zip(("app.py", b"x"))
    dest = tmp_path / "cache" / code_sha256(blob)
    real_extract = packaging._extract

    def extract_while_another_process_wins(data: bytes, staging: Path) -> None:
        real_extract(data, staging)
        monkeypatch.setattr(packaging, "_extract", real_extract)
        unpack_archive(data, dest)

    monkeypatch.setattr(packaging, "_extract", extract_while_another_process_wins)
    # When we unpack
    result = unpack_archive(blob, dest)
    # Then we get the winner's folder and leave no staging folder behind
    assert result == dest and (dest / "app.py").read_bytes() == b"x"
    assert [path.name for path in (tmp_path / "cache").iterdir()] == [dest.name]


MALICIOUS = {
    "parent": [("../evil.py", b"pwned")],
    "nested parent": [("ok/../../evil.py", b"pwned")],
    "absolute": [("{tmp_path}/evil.py", b"pwned")],
    "backslash parent": [("..\\evil.py", b"pwned")],
    "drive letter": [("C:/evil.py", b"pwned")],
    "symlink": [symlink_member("link", "/etc")],
    "good then bad": [("app.py", b"fine"), ("../evil.py", b"pwned")],
}


@pytest.mark.parametrize("case", list(MALICIOUS))
def test_zip_slip_archives_are_refused_and_write_nothing(tmp_path: Path, case: str) -> None:
    # Given an archive with a member that would land outside its folder
    members = [(name.format(tmp_path=tmp_path) if isinstance(name, str) else name, data)
               for name, data in MALICIOUS[case]]
    blob = hand_made_zip(*members)
    last = members[-1][0]
    bad_name = last if isinstance(last, str) else last.filename
    with zipfile.ZipFile(io.BytesIO(blob)) as archive:
        assert archive.namelist()[-1] == bad_name  # zipfile kept the hostile name as written
    dest = tmp_path / "cache" / "sha"
    before = everything_under(tmp_path)
    # When it is unpacked
    with pytest.raises(ArchiveError) as caught:
        unpack_archive(blob, dest)
    # Then the error names the member, and nothing was written anywhere
    assert repr(bad_name) in str(caught.value)
    assert not dest.exists()
    assert everything_under(tmp_path) - before <= {tmp_path / "cache"}
    assert list((tmp_path / "cache").iterdir()) == []


def test_an_archive_over_250_mb_unpacked_is_refused(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # Given a lower limit than the archive's unpacked size
    monkeypatch.setattr(packaging, "MAX_UNPACKED_BYTES", 10)
    blob = hand_made_zip(("a.txt", b"x" * 6), ("b.txt", b"y" * 6))
    # When it is unpacked, Then it is refused and nothing is left behind
    with pytest.raises(ArchiveError, match="250 MB"):
        unpack_archive(blob, tmp_path / "cache" / "sha")
    assert list((tmp_path / "cache").iterdir()) == []


def test_garbage_is_an_archive_error(tmp_path: Path) -> None:
    with pytest.raises(ArchiveError, match="not a readable zip"):
        unpack_archive(b"not a zip at all", tmp_path / "cache" / "sha")
    assert list((tmp_path / "cache").iterdir()) == []


# check_archive: the same refusals, for an uploaded archive, before it is stored


@pytest.mark.parametrize("case", list(MALICIOUS))
def test_uploaded_zip_slip_archives_are_refused_before_storing(tmp_path: Path,
                                                               case: str) -> None:
    # Given an uploaded archive with a member that would land outside its folder
    members = [(name.format(tmp_path=tmp_path) if isinstance(name, str) else name, data)
               for name, data in MALICIOUS[case]]
    blob = hand_made_zip(*members)
    before = everything_under(tmp_path)
    # When it is checked
    with pytest.raises(ArchiveError, match="escapes its folder|symbolic link"):
        packaging.check_archive(blob)
    # Then nothing was written
    assert everything_under(tmp_path) == before


def test_checking_a_good_archive_passes_and_garbage_does_not() -> None:
    # Given a well-formed archive and bytes that are no zip
    good = hand_made_zip(("app.py", b"def handler(e, c):\n    return 1\n"))
    # When both are checked, Then the first passes and the second is an archive error
    packaging.check_archive(good)
    with pytest.raises(ArchiveError, match="not a readable zip"):
        packaging.check_archive(b"not a zip at all")
