"""Owner-only files and folders whatever the umask (issue 14, point 2): the helper and the
``.eml`` files of the file transport with their folder."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.private_files import private_folder, private_temporary_file
from mailbox.outbound.compose import write_eml


def mode(path: Path) -> int:
    """The permission bits of ``path``."""
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask022", "umask000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """The process's umask for the test (restored after)."""
    previous = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(previous)


def test_eml_files_and_the_outbox_folders_are_owner_only(tmp_path: Path, umask: int) -> None:
    outbox = tmp_path / "var" / "outbox"
    written = write_eml(outbox, "000001-test.eml", b"Subject: x\n\nbody\n")
    assert written.read_bytes() == b"Subject: x\n\nbody\n"
    assert mode(written) == 0o600
    assert mode(outbox) == 0o700 and mode(outbox.parent) == 0o700


def test_private_folder_creates_missing_parents_and_keeps_existing_folders(
    tmp_path: Path, umask: int
) -> None:
    existing = tmp_path / "existing"
    existing.mkdir()
    existing.chmod(0o755)
    made = private_folder(existing / "a" / "b")
    assert made == existing / "a" / "b"
    assert mode(made) == 0o700 and mode(made.parent) == 0o700
    assert mode(existing) == 0o755  # the operator's folder is left as it is
    assert private_folder(made) == made  # again: nothing to do


def test_private_folder_refuses_a_file_in_the_way(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError):
        private_folder(tmp_path / "file")
    with pytest.raises(NotADirectoryError):
        private_folder(tmp_path / "file" / "sub")


def test_private_temporary_file_is_owner_only(tmp_path: Path, umask: int) -> None:
    descriptor, path = private_temporary_file(tmp_path / "intake", ".x-", ".part")
    os.close(descriptor)
    assert path.parent == tmp_path / "intake"
    assert mode(path) == 0o600 and mode(path.parent) == 0o700
