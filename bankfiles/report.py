"""What a bank file did, as the staff read it: the report and the progress line.

``ImportReport`` is filled while a file is applied (``bankfiles.rowstream``) and printed by
``bankfiles.importer.print_report``; ``Progress`` rewrites one line on a terminal while the file
is read and then applied.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from store.imports import Resumed

PROGRESS_EVERY_SECONDS = 0.25


class BadLine(NamedTuple):
    line: int
    reason: str
    detail: str


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
    written: bool = False  # the file was committed: it is applied (or, interrupted, will be)
    unusable: str | None = None  # why the file could not be read at all
    resumed: list[Resumed] = field(default_factory=list)  # interrupted imports finished first

    @property
    def good(self) -> int:
        """Rows without a problem."""
        return self.rows - len(self.bad)

    def lines(self) -> list[str]:
        """The report as printed: interrupted imports finished first, a summary, then one line
        per bad row."""
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
        bad = [f"  line {b.line}: {b.detail} [{b.reason}]" for b in self.bad]
        return [*map(_resumed_line, self.resumed), head, *bad]


def _resumed_line(resumed: Resumed) -> str:
    """What the staff read about an import a crash interrupted while it was being applied."""
    if resumed.finished:
        return (
            f"{resumed.source}: its import was interrupted while being applied and has now been"
            f" finished ({resumed.staged:,} rows)"
        )
    return (
        f"{resumed.source}: its import was interrupted while being applied and cannot be"
        f" finished (its staged rows are gone): {resumed.applied:,} of {resumed.staged:,} rows"
        " were applied; import that file again"
    )


class Progress:
    """``rows (percent)`` on stderr, rewritten in place, when stderr is a terminal."""

    def __init__(self, path: Path, handle: Any, *, enabled: bool) -> None:
        self.name = path.name
        self.handle = handle
        self.enabled = enabled
        self.size = max(path.stat().st_size, 1) if enabled else 1
        self.last = 0.0
        self.shown = 0  # the longest progress line written
        self.applied = False  # a slice of staged rows was applied

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

    def applying(self, done: int, total: int) -> None:
        """Rewrite the progress line while the staged rows are applied."""
        now = time.monotonic()
        first, self.applied = not self.applied, True  # the first slice is always shown
        if not self.enabled or (now - self.last < PROGRESS_EVERY_SECONDS and not first):
            return
        self.last = now
        line = f"{self.name}: applying {done:,} of {total:,} rows ({100 * done // total}%)"
        sys.stderr.write(f"\r{line}")
        sys.stderr.flush()
        self.shown = max(self.shown, len(line))

    def done(self) -> None:
        """Clear the progress line."""
        if self.shown:  # blanks, not an escape sequence: staff output is escaped
            sys.stderr.write("\r" + " " * self.shown + "\r")
            sys.stderr.flush()
