"""The database's files on disk: owner-only whatever the umask, and the service's lock.

``create_private`` makes the database file ``0600`` (and the folders it creates ``0700``) before
SQLite opens it: SQLite gives the ``-wal`` and ``-shm`` files it creates the database file's
permission bits (it sets them explicitly, so the umask does not matter), so they are ``0600``
too. Folders that exist already are the operator's and are left as they are; the database and
its ``-wal``/``-shm`` are the service's own, so an existing one we own is tightened to ``0600``.

``ServiceLock`` is an exclusive ``flock`` on ``<db>.lock`` beside the database: one running
service per SQLite file. The kernel releases it when the process ends, even by ``kill -9``.
Staff commands do not take it: they are one-shot writers, serialised by SQLite's own locking.

Standard library only (``store/`` imports no other project package).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from pathlib import Path

from store.errors import StoreInUse

FILE_MODE = 0o600
FOLDER_MODE = 0o700
SIDE_FILES = ("-wal", "-shm")  # SQLite's own, named after the database


def private_folder(path: Path) -> None:
    """Create ``path`` and its missing parents ``0700``; an existing folder is left alone."""
    try:
        os.mkdir(path, FOLDER_MODE)
    except FileNotFoundError:
        private_folder(path.parent)
        private_folder(path)
        return
    except FileExistsError:
        if not path.is_dir():
            raise NotADirectoryError(errno.ENOTDIR, "not a folder", str(path)) from None
        return
    os.chmod(path, FOLDER_MODE)  # mkdir's mode passed through the umask


def create_private(path: Path) -> None:
    """The database file (and its folder) owner-only, before SQLite opens it."""
    private_folder(path.parent)
    os.close(_open_private(path, follow=True))  # the operator may point at the file by a link
    real = Path(os.path.realpath(path))  # SQLite names its side files after the real file
    for suffix in SIDE_FILES:  # left by a crash of an earlier version, maybe readable to all
        side = real.with_name(real.name + suffix)
        if side.exists():
            os.close(_open_private(side))


def _open_private(path: Path, *, follow: bool = False) -> int:
    """``path`` opened read-write, created ``0600`` or tightened so when we own it."""
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | (0 if follow else os.O_NOFOLLOW)
    descriptor = os.open(path, flags, FILE_MODE)
    try:
        if os.fstat(descriptor).st_uid == os.geteuid():
            os.fchmod(descriptor, FILE_MODE)  # os.open's mode passed through the umask
    except BaseException:
        os.close(descriptor)
        raise
    return descriptor


class ServiceLock:
    """The exclusive lock of the one service running on a database file."""

    def __init__(self, database: Path) -> None:
        real = Path(os.path.realpath(database))  # one lock whatever link names the file
        self.path = real.with_name(real.name + ".lock")
        self._database = database
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``StoreInUse`` naming the database and the holder's pid."""
        private_folder(self.path.parent)
        descriptor = _open_private(self.path)
        try:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip()
                raise StoreInUse(
                    f"{self._database}: another instance of the service holds it"
                    + (f" (pid {holder})" if holder.isdigit() else "")
                    + f"; stop it first (lock file {self.path})"
                ) from None
            os.ftruncate(descriptor, 0)
            os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor

    def release(self) -> None:
        """Let the lock go (a second call does nothing); the file stays for the next start."""
        if self._descriptor is None:
            return
        descriptor, self._descriptor = self._descriptor, None
        with contextlib.suppress(OSError):
            os.ftruncate(descriptor, 0)
        os.close(descriptor)  # closing the last descriptor releases the flock
