"""The files of an import beside the database: the staging file and the import lock.

``StagingFile`` is ``<db>-staging``: a SQLite file, owner-only, attached to the store's
connection as the ``staging`` schema while an import runs, holding the import's checked rows in
one table (``store.bulk``). It is scratch space, so SQLite keeps no journal for it; ``sync``
puts it on disk before the import that needs it is recorded (``store.imports``), and it is
deleted when its rows are applied or dropped. A crash may leave one: the next import deletes it
or, when its import had been committed, finishes applying it.

``ImportLock`` is an exclusive ``flock`` on ``<db>.import.lock``: one import at a time per
database file. The kernel releases it when the process ends, even by ``kill -9``.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

from store.bulk import create_staging, staged_rows
from store.errors import StoreBusy, StoreError
from store.files import FILE_MODE


class ImportInProgress(StoreBusy):
    """Another import or publication is running on this database."""


class StagingFile:
    """One database's staging file; the methods taking ``conn`` run on the database thread."""

    def __init__(self, database: Path) -> None:
        self.path = _beside(database, "-staging")

    def attach_new(self, conn: sqlite3.Connection, target: str) -> None:
        """Replace any staging file by an empty one for ``target``'s rows, and attach it."""
        self.remove()
        flags = os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
        os.close(os.open(self.path, flags, FILE_MODE))
        os.chmod(self.path, FILE_MODE)  # os.open's mode passed through the umask
        self._attach(conn)
        create_staging(conn, target)

    def attach_existing(self, conn: sqlite3.Connection, staged: int) -> None:
        """Attach the staging file a committed import left; ``StoreError`` or ``OSError``
        unless it holds its ``staged`` rows."""
        if not self.path.is_file():
            raise FileNotFoundError(self.path)
        self._attach(conn)
        try:
            if staged_rows(conn) != staged:
                raise StoreError(f"{self.path.name}: not the rows staged")
        except BaseException:
            detach(conn)
            raise

    def sync(self, conn: sqlite3.Connection) -> None:
        """Put the staged rows on disk."""
        descriptor = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)

    def remove(self) -> None:
        """Delete the file (detached first), if there is one."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def detach(self, conn: sqlite3.Connection) -> None:
        """Detach the staging file (not attached: nothing to do)."""
        detach(conn)

    def discard(self, conn: sqlite3.Connection) -> None:
        """``remove``, on the database thread (after a ``detach`` queued before it)."""
        self.remove()

    def _attach(self, conn: sqlite3.Connection) -> None:
        conn.execute("ATTACH DATABASE ? AS staging", (str(self.path),)).close()
        for pragma in ("journal_mode = OFF", "synchronous = OFF"):  # scratch: see sync()
            conn.execute(f"PRAGMA staging.{pragma}").close()


def detach(conn: sqlite3.Connection) -> None:
    """Detach the staging file (not attached: nothing to do)."""
    with contextlib.suppress(sqlite3.Error):
        conn.execute("DETACH DATABASE staging").close()


class ImportLock:
    """The exclusive lock of the one import running on a database file."""

    def __init__(self, database: Path) -> None:
        self.path = _beside(database, ".import.lock")
        self._database = database
        self._descriptor: int | None = None

    def acquire(self) -> None:
        """Take the lock, or raise ``ImportInProgress``."""
        flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        descriptor = os.open(self.path, flags, FILE_MODE)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            raise ImportInProgress(
                f"{self._database}: another import or publication is running on this"
                " database; run this one when it has finished"
            ) from None
        except BaseException:
            os.close(descriptor)
            raise
        self._descriptor = descriptor

    def release(self) -> None:
        """Let the lock go (the file stays for the next import)."""
        if self._descriptor is not None:
            descriptor, self._descriptor = self._descriptor, None
            os.close(descriptor)  # closing the descriptor releases the flock


def _beside(database: Path, suffix: str) -> Path:
    real = Path(os.path.realpath(database))  # one name whatever link names the file
    return real.with_name(real.name + suffix)
