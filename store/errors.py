"""The store's errors: what code outside ``store/`` catches instead of the database driver's.

    StoreError       the database failed (disk, lock, constraint, corruption): the work was not done
    ├── StoreBusy    another connection kept the write lock past the busy timeout: try again later
    └── StoreInUse   another service holds the database's lock file (``store.files.ServiceLock``)

The driver's own exception stays attached as ``__cause__``. Add a subclass only when a caller
handles it differently.
"""

from __future__ import annotations

import sqlite3

_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)


class StoreError(Exception):
    """The database could not do what was asked; nothing of it was written."""


class StoreBusy(StoreError):
    """The database was locked by another connection for longer than the busy timeout."""


class StoreInUse(StoreError):
    """Another running service holds the database: a second one may not start beside it."""


def store_error(exc: sqlite3.Error) -> StoreError:
    """The store's error for one of the driver's, with the driver's error as its cause."""
    message = str(exc)
    busy = isinstance(exc, sqlite3.OperationalError) and (
        (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in _BUSY_CODES
        or "locked" in message
        or "busy" in message
    )
    error = (StoreBusy if busy else StoreError)(message)
    error.__cause__ = exc
    return error
