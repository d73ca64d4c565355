"""A psycopg connection that looks, to the units of work, like the sqlite3 connection they expect.

The repositories' units of work are synchronous functions ``fn(conn, *args)`` written against
``sqlite3.Connection``. ``Connection`` wraps one pooled, synchronous psycopg connection (in
autocommit: ``BEGIN``/``COMMIT`` are sent by ``store.postgres``) and offers what they use:
``execute``/``executemany`` returning a ``Cursor`` (``fetchone``, ``fetchall``, iteration,
``rowcount``, ``lastrowid``, ``close``), ``in_transaction`` and ``total_changes``. Each statement
is translated once (``store.postgres_sql``). Rows are ``Row``: by index, by name, ``keys()``,
``dict(row)``, like ``sqlite3.Row``; numeric results (``sum()``, ``avg()``) come back as int or
float, and Python booleans are sent as 0/1, as SQLite has them.

``execute_async(conn, sql, params, tables_with_id)`` runs one statement the same way on an
asynchronous psycopg connection, from the event loop (``Result``: its rows, ``rowcount``,
``lastrowid``), for the statements a chat's turn sends on its lock's connection
(``store.chat_locks``).

A failed statement raises the store's error (``store_error``: lock, statement and serialization
timeouts are ``StoreBusy``), already inside the unit of work: the code there that tells "the
store is in trouble" (``StoreError``) from a bad input sees the same on both backends.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import psycopg
from psycopg import errors as pg_errors
from psycopg import pq
from psycopg.adapt import Dumper, Loader
from psycopg.types.numeric import IntDumper

from store.errors import StoreBusy, StoreError
from store.postgres_sql import translate

_BUSY = (
    pg_errors.LockNotAvailable,
    pg_errors.QueryCanceled,  # statement_timeout
    pg_errors.SerializationFailure,
    pg_errors.DeadlockDetected,
)
_CHANGES = ("INSERT", "UPDATE", "DELETE", "MERGE", "COPY")


class Row(tuple[Any, ...]):
    """A result row like ``sqlite3.Row``: by index or column name, ``keys()``, ``dict(row)``."""

    _names: dict[str, int]
    _keys: list[str]

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            try:
                return tuple.__getitem__(self, self._names[key.lower()])
            except KeyError:
                raise IndexError(f"No item with that key: {key}") from None
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._keys)


def _row_factory(cursor: psycopg.Cursor[Any] | psycopg.AsyncCursor[Any]) -> Any:
    """psycopg's row factory: ``Row``s named after the cursor's columns."""
    cls = _row_class(tuple(column.name for column in cursor.description or ()))
    return cls


@functools.lru_cache(maxsize=1024)
def _row_class(keys: tuple[str, ...]) -> type[Row]:
    """One ``Row`` class per list of column names (the same query gets the same class)."""
    names = {name.lower(): i for i, name in reversed(list(enumerate(keys)))}
    return type("Row", (Row,), {"_names": names, "_keys": list(keys), "__slots__": ()})


class _NumberLoader(Loader):
    """numeric as int when whole, else float (SQLite's ``sum()`` gives int, ``avg()`` float)."""

    def load(self, data: Any) -> int | float:
        text = bytes(data).decode("ascii")
        return float(text) if "." in text or "N" in text or "e" in text else int(text)


class _BoolDumper(IntDumper):
    """Python booleans as 0/1: the schema keeps flags in INTEGER columns, as SQLite has them."""

    def dump(self, obj: Any) -> bytes:
        return b"1" if obj else b"0"


def configure(conn: psycopg.Connection[Any] | psycopg.AsyncConnection[Any]) -> None:
    """Adapters for a new connection of the pool."""
    conn.adapters.register_loader("numeric", _NumberLoader)
    dumper: type[Dumper] = _BoolDumper
    conn.adapters.register_dumper(bool, dumper)


def store_error(exc: psycopg.Error) -> StoreError:
    """The store's error for one of psycopg's, with psycopg's error as its cause."""
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    error = (StoreBusy if isinstance(exc, _BUSY) else StoreError)(message)
    error.__cause__ = exc
    return error


class Cursor:
    """The result of one statement, read like sqlite3's cursor."""

    def __init__(self, cursor: psycopg.Cursor[Any], returning_id: bool) -> None:
        self._cursor = cursor
        self.rowcount = cursor.rowcount
        self.lastrowid: int | None = None
        self._rows: list[Any] | None = None
        if returning_id:  # the ids an INSERT returned for lastrowid, not the caller's rows
            ids = cursor.fetchall() if cursor.description else []
            self.lastrowid = int(ids[-1][0]) if ids else None
            self._rows = []

    def fetchone(self) -> Any:
        """The next row, or None."""
        if self._rows is not None:
            return self._rows.pop(0) if self._rows else None
        return self._cursor.fetchone() if self._cursor.description else None

    def fetchall(self) -> list[Any]:
        """The remaining rows."""
        if self._rows is not None:
            rows, self._rows = self._rows, []
            return rows
        return self._cursor.fetchall() if self._cursor.description else []

    def fetchmany(self, size: int = 1) -> list[Any]:
        """Up to ``size`` more rows."""
        if self._rows is not None:
            rows, self._rows = self._rows[:size], self._rows[size:]
            return rows
        return self._cursor.fetchmany(size) if self._cursor.description else []

    def __iter__(self) -> Iterator[Any]:
        while (row := self.fetchone()) is not None:
            yield row

    def close(self) -> None:
        """Let the result go."""
        self._cursor.close()


class Connection:
    """One pooled psycopg connection, behaving like the sqlite3 connection units of work use."""

    def __init__(
        self,
        conn: psycopg.Connection[Any],
        tables_with_id: frozenset[str],
        opening: tuple[str, ...] = (),
    ) -> None:
        self._raw = conn
        self._tables_with_id = tables_with_id
        self._opening = opening  # statements that open the transaction, not sent yet
        self.total_changes = 0  # rows changed through this wrapper, like sqlite3's counter

    @property
    def raw(self) -> psycopg.Connection[Any]:
        """The psycopg connection, for what only PostgreSQL has (COPY); the transaction is
        opened first if it was not yet."""
        if self._opening:
            opening, self._opening = self._opening, ()
            self._raw.execute("; ".join(opening))  # no parameters: one round trip
        return self._raw

    def detach(self) -> psycopg.Connection[Any]:
        """The psycopg connection as it is, to end the transaction (opening statements not
        sent yet are dropped: nothing was begun)."""
        self._opening = ()
        return self._raw

    @property
    def opened(self) -> bool:
        """Whether the opening statements were sent (a transaction that ran none has
        nothing to commit)."""
        return not self._opening

    @property
    def in_transaction(self) -> bool:
        """Whether a transaction is open here (or will be, at the first statement)."""
        return bool(self._opening) or self._raw.info.transaction_status != pq.TransactionStatus.IDLE

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Cursor:
        """Run one statement (translated), as sqlite3's ``Connection.execute``; the first of
        a transaction goes in one round trip with the statements opening it (pipeline mode)."""
        translated = translate(sql, self._tables_with_id)
        cursor = self._raw.cursor(row_factory=_row_factory)
        try:
            if self._opening:
                opening, self._opening = self._opening, ()
                with self._raw.pipeline():
                    for statement in opening:
                        self._raw.execute(statement)
                    cursor.execute(translated.sql, translated.params(params))
            else:
                cursor.execute(translated.sql, translated.params(params))
        except psycopg.Error as exc:
            cursor.close()
            raise store_error(exc) from exc
        except BaseException:
            cursor.close()
            raise
        self._count(cursor)
        return Cursor(cursor, translated.returning_id)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Cursor:
        """Run one statement for many parameter rows."""
        translated = translate(sql, frozenset())  # no RETURNING: executemany keeps no ids
        cursor = self.raw.cursor(row_factory=_row_factory)
        try:
            cursor.executemany(translated.sql, [translated.params(r) for r in rows])
        except psycopg.Error as exc:
            cursor.close()
            raise store_error(exc) from exc
        except BaseException:
            cursor.close()
            raise
        self._count(cursor)
        return Cursor(cursor, False)

    def close(self) -> None:
        """Nothing: the pool owns the connection."""

    def _count(self, cursor: psycopg.Cursor[Any]) -> None:
        status = (cursor.statusmessage or "").split(" ", 1)[0]
        if status in _CHANGES and cursor.rowcount > 0:
            self.total_changes += cursor.rowcount


class Result:
    """What one statement run by ``execute_async`` gave: its rows (all, or the first only),
    the rows it changed and, for an INSERT given ``RETURNING id``, the new row's id."""

    __slots__ = ("lastrowid", "rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int, lastrowid: int | None) -> None:
        self.rows, self.rowcount, self.lastrowid = rows, rowcount, lastrowid


async def execute_async(
    conn: psycopg.AsyncConnection[Any],
    sql: str,
    params: Sequence[Any],
    tables_with_id: frozenset[str],
    *,
    first_only: bool = False,
) -> Result:
    """Run one statement (translated) on an asynchronous connection in autocommit."""
    translated = translate(sql, tables_with_id)
    try:
        cursor: psycopg.AsyncCursor[Any]
        async with conn.cursor(row_factory=_row_factory) as cursor:
            await cursor.execute(translated.sql, translated.params(params))
            rows: list[Any] = []
            if cursor.description:
                if first_only and not translated.returning_id:
                    row = await cursor.fetchone()
                    rows = [] if row is None else [row]
                else:
                    rows = await cursor.fetchall()
            rowcount = cursor.rowcount
    except psycopg.Error as exc:
        raise store_error(exc) from exc
    if translated.returning_id:
        return Result([], rowcount, int(rows[-1][0]) if rows else None)
    return Result(rows, rowcount, None)
