"""Streaming a bank CSV file into the store: batches, line numbers, one transaction, progress.

``RowStream.apply`` reads the file in chunks of lines (never the whole file). A chunk whose lines
are all in the usual form is checked at once by the file's ``fast`` function (``bankfast``);
any other chunk goes through the csv reader, row by row, and the file's ``parse`` function,
which finds each bad row's reason. Rows whose key already appeared in the file are dropped.
Each batch of good rows goes to a ``prepare`` coroutine (references, PDFs) that returns the
batch's ``Upsert``; the store writes it on its database thread while the next batch is checked.
All of it is one unit of work of the store (``store.imports``): one transaction, rolled back
when a row was bad (unless ``skip_invalid``). The keys seen are kept, one per row (about 100
bytes each), to find duplicates.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import gc
import itertools
import logging
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple

from bankfiles.fast import FastParse
from bankfiles.rows import BadRow
from store.bulk import Upsert, Written
from store.imports import ImportRepo, ImportSession

logger = logging.getLogger(__name__)

BATCH_ROWS = 50_000  # lines per chunk: bigger batches write the indexes in longer runs
PROGRESS_EVERY_SECONDS = 0.25


class Batch(NamedTuple):
    """Good rows of the file, and the line each starts on."""

    lines: list[int]
    rows: list[Any]


Prepare = Callable[[Batch], Awaitable[Upsert | None]]  # a batch's write, or None


class BadLine(NamedTuple):
    line: int
    reason: str
    detail: str


class Rollback(Exception):
    """Raised inside the import's transaction to discard everything it wrote."""


@dataclass
class ImportReport:
    """What one file did to the store."""

    path: Path
    table: str
    rows: int = 0  # data rows read (blank lines not counted)
    bad: list[BadLine] = field(default_factory=list)
    changed: int = 0  # rows inserted or updated
    new: int = 0  # rows inserted
    notices: int = 0  # publication notices queued
    pdfs_stored: int = 0  # PDF copies added to the data folder
    written: bool = False  # the transaction committed
    unusable: str | None = None  # why the file could not be read at all

    @property
    def good(self) -> int:
        """Rows without a problem."""
        return self.rows - len(self.bad)

    def lines(self) -> list[str]:
        """The report as printed: a summary, then one line per bad row."""
        head = f"{self.path}: {self.rows:,} rows, {self.good:,} good, {len(self.bad):,} bad"
        if self.written:
            updated, unchanged = self.changed - self.new, self.good - self.changed
            head += (
                f"; {self.table}: {self.new:,} new, {updated:,} updated, {unchanged:,} unchanged"
            )
            if self.table == "documents" and (self.pdfs_stored or self.notices):
                head += f"; {self.pdfs_stored:,} PDFs stored, {self.notices:,} notices queued"
        else:
            head += "; nothing written"
        return [head] + [f"  line {b.line}: {b.detail} [{b.reason}]" for b in self.bad]


class RowStream:
    """One bank file being applied: its columns, its row parser, its report."""

    def __init__(
        self,
        path: Path,
        columns: tuple[str, ...],
        parse: Callable[[list[str]], Any],
        table: str,
        key: Callable[[Any], Any] | None = None,
        fast: FastParse | None = None,
    ) -> None:
        self.path = path
        self.columns = columns
        self.parse = parse
        self.key = key or _default_key(table)
        self.fast = fast  # rows of a chunk in the usual form, or None (see bankfast)
        self.report = ImportReport(path=path, table=table)
        self.seen: dict[Any, int] = {}  # key -> line of its first row
        self.previous_line = 0  # line number of the last row read

    def reject(self, line: int, problem: BadRow) -> None:
        """Record a bad row found while writing (unknown reference, missing file...)."""
        self.report.bad.append(BadLine(line, problem.reason, problem.detail))

    async def apply(
        self,
        imports: ImportRepo,
        prepare: Prepare,
        *,
        skip_invalid: bool,
        progress: bool = False,
        batch: int = BATCH_ROWS,
    ) -> None:
        """Read, check and write the whole file in one transaction (see the module doc)."""
        try:
            handle = self.path.open(encoding="utf-8-sig", errors="replace", newline="")
        except OSError as exc:
            self.report.unusable = f"cannot read the file: {exc.strerror or exc}"
            return
        with handle, _no_cyclic_gc():
            reader = csv.reader(handle)
            try:
                header = next(reader, None)
            except csv.Error as exc:
                self.report.unusable = f"unreadable header: {exc}"
                return
            if header is None or [h.strip().lower() for h in header] != list(self.columns):
                found = "nothing" if header is None else ",".join(header)[:200]
                expected = ",".join(self.columns)
                self.report.unusable = f"expected the columns {expected}, found {found}"
                return
            self.previous_line = reader.line_num
            meter = _Progress(self.path, handle, enabled=progress)
            try:
                async with imports.session(self.report.table) as session:
                    await self._pipeline(session, handle, prepare, batch, meter)
                    if self.report.bad and not skip_invalid:
                        raise Rollback
                    self.report.new = await session.inserted()
                    self.report.written = True
            except Rollback:
                logger.info("%s: %d bad rows, rolled back", self.path.name, len(self.report.bad))
            finally:
                meter.done()
        self.report.bad.sort()

    async def _pipeline(
        self, session: ImportSession, handle: Any, prepare: Prepare, size: int, meter: _Progress
    ) -> None:
        """Check batch k+1 in this thread while SQLite writes batch k in its own."""
        writing: asyncio.Future[Written] | None = None
        try:
            while (batch := self._parse_batch(handle, size)) is not None:
                upsert = await prepare(batch) if batch.rows else None
                if writing is not None:
                    self._count(await writing)
                    writing = None
                if upsert is not None:
                    writing = session.write(upsert)  # queued on SQLite's thread at once
                meter.show(self.report.rows)
            if writing is not None:
                self._count(await writing)
                writing = None
        finally:
            if writing is not None:  # failing or cancelled: the batch in flight ends first
                await asyncio.wait([writing])

    def _count(self, written: Written) -> None:
        self.report.changed += written.changed
        self.report.notices += written.notices

    def _parse_batch(self, handle: Any, size: int) -> Batch | None:
        """The good rows of the next ``size`` lines or so (possibly none); None at the end."""
        lines = list(itertools.islice(handle, size))
        if not lines:
            return None
        if self.fast and (batch := self._fast_batch(self.fast, lines)):
            return batch
        return self._checked_batch(lines, handle)

    def _fast_batch(self, fast: FastParse, lines: list[str]) -> Batch | None:
        """The batch of a chunk in the usual form, one row per line, no duplicate; else None."""
        if (parsed := fast(lines)) is None:
            return None
        keys, rows = parsed
        count, seen = len(rows), self.seen
        if len(set(keys)) != count or not seen.keys().isdisjoint(keys):
            return None  # a duplicate: the checked path reports it
        first = self.previous_line + 1
        numbers = range(first, first + count)
        seen.update(zip(keys, numbers, strict=True))
        self.previous_line += count
        self.report.rows += count
        return Batch(list(numbers), rows)

    def _checked_batch(self, lines: list[str], handle: Any) -> Batch:
        """The good rows of ``lines``, read row by row with the csv reader; a row that goes
        on past the last line (a quoted newline) is read to its end from ``handle``."""
        parse, key, seen, bad = self.parse, self.key, self.seen, self.report.bad
        reader = csv.reader(itertools.chain(lines, handle))
        base = previous = self.previous_line
        end = len(lines)
        good_lines: list[int] = []
        rows: list[Any] = []
        count = 0
        while reader.line_num < end:
            try:
                for fields in reader:
                    line, previous = previous + 1, base + reader.line_num
                    if fields:  # not a blank line
                        count += 1
                        try:
                            row = parse(fields)
                        except BadRow as exc:
                            bad.append(BadLine(line, exc.reason, exc.detail))
                        else:
                            first = seen.setdefault(key(row), line)
                            if first == line:
                                good_lines.append(line)
                                rows.append(row)
                            else:
                                bad.append(BadLine(line, "duplicate", f"same key as line {first}"))
                    if reader.line_num >= end:
                        break
                else:
                    break  # the file ended
            except csv.Error as exc:
                line, previous = previous + 1, base + reader.line_num
                count += 1
                bad.append(BadLine(line, "csv", f"unreadable CSV row: {exc}"))
        self.previous_line = previous
        self.report.rows += count
        return Batch(good_lines, rows)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector: an import allocates millions of small tuples that
    cannot form cycles, and the collector would rescan them over and over."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _default_key(table: str) -> Callable[[Any], Any]:
    if table == "contracts":
        return itemgetter(0, 1)  # contract number, module number
    return itemgetter(0)  # customer code, document number


class _Progress:
    """``rows (percent)`` on stderr, rewritten in place, when stderr is a terminal."""

    def __init__(self, path: Path, handle: Any, *, enabled: bool) -> None:
        self.name = path.name
        self.handle = handle
        self.enabled = enabled
        self.size = max(path.stat().st_size, 1) if enabled else 1
        self.last = 0.0
        self.shown = 0  # the longest progress line written

    def show(self, rows: int) -> None:
        """Rewrite the progress line, at most a few times a second."""
        now = time.monotonic()
        if not self.enabled or now - self.last < PROGRESS_EVERY_SECONDS:
            return
        self.last = now
        percent = min(100, 100 * self.handle.buffer.tell() // self.size)
        line = f"{self.name}: {rows:,} rows ({percent}%)"
        sys.stderr.write(f"\r{line}")
        sys.stderr.flush()
        self.shown = max(self.shown, len(line))

    def done(self) -> None:
        """Clear the progress line."""
        if self.shown:  # blanks, not an escape sequence: staff output is escaped
            sys.stderr.write("\r" + " " * self.shown + "\r")
            sys.stderr.flush()
