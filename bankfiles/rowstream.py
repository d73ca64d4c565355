"""Streaming a bank CSV file into the store: batches, line numbers, all or nothing, progress.

``RowStream.apply`` reads the file in chunks of lines (never the whole file). A chunk whose lines
are all in the usual form is checked at once by the file's ``fast`` function (``bankfast``);
any other chunk goes through the csv reader, row by row, and the file's ``parse`` function,
which finds each bad row's reason. Rows whose key already appeared in the file are dropped.
Each batch of good rows goes to a ``prepare`` coroutine (references, PDFs) that returns the
batch's ``Staged`` rows; the store stages them on its database thread while the next batch is
checked. All of it is one unit of work of the store (``store.imports``): the rows are staged
aside, and only a file without a bad row (or with ``skip_invalid``) is then committed and
applied to the live tables, in short transactions that let the chat write in between. The keys
seen are kept, one per row (about 100 bytes each), to find duplicates.
"""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import csv
import gc
import io
import itertools
import logging
from collections.abc import Awaitable, Callable, Iterator
from operator import itemgetter
from pathlib import Path
from typing import Any, NamedTuple, cast

from bankfiles.fast import FastParse
from bankfiles.report import BadLine, ImportReport, Progress
from bankfiles.rows import BadRow
from store.bulk import Staged
from store.imports import ImportRepo, ImportSession
from store.staging import ImportInProgress

logger = logging.getLogger(__name__)

BATCH_ROWS = 50_000  # lines per chunk: bigger batches write the indexes in longer runs


class Batch(NamedTuple):
    """Good rows of the file, and the line each starts on."""

    lines: list[int]
    rows: list[Any]
    fast: bool = False  # the rows are the fast path's groups (its ``encode`` writes them)


Prepare = Callable[[Batch], Awaitable[Staged | None]]  # a batch's rows to stage, or None


class Rollback(Exception):
    """Raised inside the import's session to drop what it staged: nothing is applied."""


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
        at: str,
        skip_invalid: bool,
        notify: bool = False,
        progress: bool = False,
        batch: int = BATCH_ROWS,
    ) -> None:
        """Read and check the whole file, staging its good rows; apply them if it may be.

        ``at`` is the import's time; ``notify``: queue a notice for each document first
        published (see ``store.imports``).
        """
        try:
            handle = self.path.open(encoding="utf-8-sig", errors="replace", newline="")
        except OSError as exc:
            self.report.unusable = f"cannot read the file: {exc.strerror or exc}"
            return
        with handle, _no_cyclic_gc():
            head = cast(io.BufferedReader, handle.buffer).peek(_SNIFF_BYTES)[:_SNIFF_BYTES]
            if wrong := _wrong_encoding(head):
                self.report.unusable = wrong
                return
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
            meter = Progress(self.path, handle, enabled=progress)
            report = self.report
            try:
                async with imports.session(
                    report.table, self.path.name, at=at, notify=notify
                ) as session:
                    report.resumed = session.resumed
                    await self._pipeline(session, handle, prepare, batch, meter)
                    if report.bad and not skip_invalid:
                        raise Rollback
                    await session.commit()
                    report.written = True
                    try:
                        applied = await session.apply(meter.applying)
                    except asyncio.CancelledError:
                        logger.warning(
                            "%s: stopped while its rows were being applied; the next import"
                            " or publication finishes applying them",
                            self.path.name,
                        )
                        raise
                    report.changed, report.notices, report.new = applied
            except Rollback:
                logger.info("%s: %d bad rows, nothing applied", self.path.name, len(report.bad))
            except ImportInProgress as exc:
                report.unusable = str(exc)
            finally:
                meter.done()
        self.report.bad.sort()

    async def _pipeline(
        self, session: ImportSession, handle: Any, prepare: Prepare, size: int, meter: Progress
    ) -> None:
        """Check batch k+1 in this thread while SQLite writes batch k in its own."""
        writing: asyncio.Future[int] | None = None
        try:
            while (batch := self._parse_batch(handle, size)) is not None:
                staged = await prepare(batch) if batch.rows else None
                if writing is not None:
                    await writing
                    writing = None
                if staged is not None:
                    writing = session.stage(staged)  # queued on SQLite's thread at once
                meter.show(self.report.rows)
            if writing is not None:
                await writing
                writing = None
        finally:
            if writing is not None:  # failing or cancelled: the batch in flight ends first
                await asyncio.wait([writing])

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
        return Batch(list(numbers), rows, fast=True)

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


_SNIFF_BYTES = 4096
_OTHER_ENCODINGS = (  # byte-order marks; the 32-bit ones first (FF FE starts both)
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)


def _wrong_encoding(head: bytes) -> str | None:
    """Why a file starting with ``head`` is not UTF-8 text, when that shows at once: the
    byte-order mark of another encoding, or NUL bytes in the header (UTF-16 without a mark)."""
    for mark, name in _OTHER_ENCODINGS:
        if head.startswith(mark):
            return f"the file is {name}: save it as UTF-8"
    if b"\x00" in head.split(b"\n", 1)[0]:
        return "the header holds NUL bytes (the file is UTF-16 or UTF-32?): save it as UTF-8"
    return None


def _default_key(table: str) -> Callable[[Any], Any]:
    if table == "contracts":
        return itemgetter(0, 1)  # contract number, module number
    return itemgetter(0)  # customer code, document number
