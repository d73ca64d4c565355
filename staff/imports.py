"""``python main.py import customers|contracts FILE`` and ``publish MANIFEST``: the bank's files.

The runners apply a file through ``bankfiles``, keep its report for the staff console
(``keep_report``) and print it; ``main.py`` hands them the open store. Exit statuses are
``bankfiles.importer``'s (0 applied, 1 bad rows, 2 unusable, 3 applied with --skip-invalid
and some bad rows).
"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

from assistant.clock import Clock
from bankfiles.importer import import_file, print_report, publish_file
from bankfiles.rowstream import ImportReport
from store.import_runs import KEPT_BAD_ROWS, BadRowRecord, ImportRun
from store.store import Store


async def run_import(
    store: Store, what: str, path: Path, *, skip_invalid: bool, clock: Clock
) -> int:
    """Apply a customers or contracts file; print the report; return the exit status."""
    report = await import_file(
        store,
        what,
        path,
        skip_invalid=skip_invalid,
        now=clock.now(),
        progress=sys.stderr.isatty(),
    )
    await keep_report(store, what, report, clock.now())
    return print_report(report, skip_invalid=skip_invalid)


async def run_publish(
    store: Store,
    manifest: Path,
    data_dir: Path,
    *,
    skip_invalid: bool,
    max_bytes: int,
    clock: Clock,
) -> int:
    """Publish the documents of a manifest; print the report; return the exit status."""
    report = await publish_file(
        store,
        manifest,
        data_dir,
        skip_invalid=skip_invalid,
        max_bytes=max_bytes,
        now=clock.now(),
        progress=sys.stderr.isatty(),
    )
    await keep_report(store, "publish", report, clock.now())
    return print_report(report, skip_invalid=skip_invalid)


async def keep_report(store: Store, kind: str, report: ImportReport, now: datetime) -> None:
    """Keep the report for the staff console's operations page (with its first bad rows)."""
    run = ImportRun(
        kind=kind,
        file_name=report.path.name,
        at=now,
        rows=report.rows,
        bad=len(report.bad),
        new=report.new,
        changed=report.changed,
        notices=report.notices,
        written=report.written,
        unusable=report.unusable,
    )
    bad = [BadRowRecord(b.line, b.reason, b.detail) for b in report.bad[:KEPT_BAD_ROWS]]
    await store.import_runs.record(run, bad)
