"""The log of the bank's files applied or refused, with their bad rows, for the staff console."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.values import iso, parse_iso

KEPT_BAD_ROWS = 1_000  # bad rows kept per run; ``ImportRun.bad`` counts them all


@dataclass(frozen=True)
class BadRowRecord:
    line: int
    reason: str  # a short code, e.g. fiscal_code
    detail: str  # the sentence of the report


@dataclass(frozen=True, kw_only=True)
class ImportRun:
    """One file's report, as kept."""

    id: int = 0  # 0 until recorded
    kind: str  # customers | contracts | publish
    file_name: str
    at: datetime
    rows: int
    bad: int
    new: int
    changed: int
    notices: int
    written: bool
    unusable: str | None


class ImportRunRepo:
    """Record an import's report; read the latest."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, run: ImportRun, bad_rows: Sequence[BadRowRecord]) -> int:
        """Keep a run and its first ``KEPT_BAD_ROWS`` bad rows; return its id."""
        async with self.db.transaction():
            return await self.db.run(_insert_run, run, list(bad_rows[:KEPT_BAD_ROWS]))

    async def latest(self, limit: int = 20) -> list[ImportRun]:
        """The newest runs first."""
        rows = await self.db.fetchall(
            "SELECT * FROM import_runs ORDER BY at DESC, id DESC LIMIT ?", (limit,)
        )
        return [run_from_row(r) for r in rows]

    async def bad_rows(self, run_id: int, limit: int = KEPT_BAD_ROWS) -> list[BadRowRecord]:
        """A run's kept bad rows, by line."""
        rows = await self.db.fetchall(
            "SELECT line, reason, detail FROM import_bad_rows WHERE run_id = ?"
            " ORDER BY line, id LIMIT ?",
            (run_id, limit),
        )
        return [BadRowRecord(r[0], r[1], r[2]) for r in rows]


def _insert_run(conn: sqlite3.Connection, run: ImportRun, bad_rows: list[BadRowRecord]) -> int:
    cursor = conn.execute(
        "INSERT INTO import_runs (kind, file_name, at, rows, bad, new, changed, notices,"
        " written, unusable) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.kind, run.file_name, iso(run.at), run.rows, run.bad, run.new, run.changed,
            run.notices, int(run.written), run.unusable,
        ),
    )  # fmt: skip
    run_id = int(cursor.lastrowid or 0)
    conn.executemany(
        "INSERT INTO import_bad_rows (run_id, line, reason, detail) VALUES (?, ?, ?, ?)",
        [(run_id, b.line, b.reason, b.detail) for b in bad_rows],
    ).close()
    return run_id


def run_from_row(row: sqlite3.Row) -> ImportRun:
    """An import run from its row."""
    return ImportRun(
        id=row["id"],
        kind=row["kind"],
        file_name=row["file_name"],
        at=parse_iso(row["at"]),
        rows=row["rows"],
        bad=row["bad"],
        new=row["new"],
        changed=row["changed"],
        notices=row["notices"],
        written=bool(row["written"]),
        unusable=row["unusable"],
    )
