"""``import customers|contracts FILE`` and ``publish MANIFEST``: the bank's files into the store.

A file is read as a stream in batches and applied in one transaction: if a row is bad, the
transaction is rolled back (nothing written) unless ``skip_invalid`` keeps the good rows.
Every bad row is reported with its line number and reason. Exit statuses:

    0  every row was good and the file is applied
    1  some rows are bad: nothing written
    2  the file cannot be used at all (missing, wrong header): nothing written
    3  --skip-invalid: the good rows are applied, some rows are bad (listed)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any

from assistant.clock import SystemClock, iso
from assistant.settings import Settings
from bankfiles import rows as bankfiles
from bankfiles.fast import DocumentChunks
from bankfiles.publishing import PdfShelf, pdf_relpath, read_pdf
from bankfiles.references import References
from bankfiles.rowstream import Batch, ImportReport, RowStream
from store import bulk
from store.bulk import Upsert
from store.store import Store

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_BAD_ROWS, EXIT_UNUSABLE, EXIT_SKIPPED = 0, 1, 2, 3
PUBLISH_BATCH_ROWS = 1_000  # each row is also a file to read


async def import_file(
    store: Store,
    what: str,
    path: Path,
    *,
    skip_invalid: bool = False,
    now: datetime,
    progress: bool = False,
) -> ImportReport:
    """Apply a customers, contracts or documents file to the store.

    A documents file is a manifest whose ``file`` column is ignored: the documents are
    recorded as published, without a PDF (the benchmark's metadata import; ``publish_file``
    is the real publication).
    """
    when = iso(now)
    parsers: dict[str, tuple[tuple[str, ...], Callable[[list[str]], Any]]] = {
        "customers": (bankfiles.CUSTOMER_COLUMNS, bankfiles.parse_customer),
        "contracts": (bankfiles.CONTRACT_COLUMNS, bankfiles.parse_contract),
        "documents": (
            bankfiles.MANIFEST_COLUMNS,
            partial(bankfiles.parse_document, need_file=False),
        ),
    }
    if what not in parsers:
        raise ValueError(f"unknown bank file {what!r}")
    fast = DocumentChunks() if what == "documents" else None
    stream = RowStream(path, *parsers[what], what, fast=fast)
    lookups = bulk.Lookups(store.db.path)
    references = References(lookups, stream)

    async def prepare(batch: Batch) -> Upsert:
        if what == "contracts":
            batch = references.customers(batch)
        elif what == "documents":
            batch = references.contracts(batch)
        return Upsert(what, batch.rows, when)

    try:
        await stream.apply(store.db, prepare, skip_invalid=skip_invalid, progress=progress)
    finally:
        lookups.close()
    return stream.report


async def publish_file(
    store: Store,
    manifest: Path,
    data_dir: Path,
    *,
    skip_invalid: bool = False,
    now: datetime,
    notify: bool = True,
    progress: bool = False,
) -> ImportReport:
    """Publish a manifest: store each PDF and its document, queue a notice for each new one.

    A notice is queued once per document, at its first publication (``notify=False``: none,
    for the demo). A re-run changes nothing; a changed row or PDF updates the document.
    """
    when = iso(now)
    stream = RowStream(manifest, bankfiles.MANIFEST_COLUMNS, bankfiles.parse_document, "documents")
    lookups = bulk.Lookups(store.db.path)
    references = References(lookups, stream)
    shelf = PdfShelf(data_dir)
    folder = manifest.parent

    async def prepare(batch: Batch) -> Upsert:
        batch = references.contracts(batch)
        stored = lookups.stored_pdfs([row.number for row in batch.rows])
        rows: list[Any] = []
        for line, row in zip(batch.lines, batch.rows, strict=True):
            try:
                pdf = read_pdf(folder / row.file)
            except bankfiles.BadRow as exc:
                stream.reject(line, exc)
                continue
            known = stored.get(row.number)
            if known and known.pdf_sha256 == pdf.sha256 and shelf.has(known.pdf_path):
                relpath = str(known.pdf_path)
            else:
                relpath = pdf_relpath(row.number, row.issue_date, pdf.sha256)
                shelf.place(pdf.content, relpath)
            rows.append((*row, relpath, pdf.sha256))
        return Upsert("published", rows, when, notify=notify)

    try:
        await stream.apply(
            store.db,
            prepare,
            skip_invalid=skip_invalid,
            progress=progress,
            batch=PUBLISH_BATCH_ROWS,
        )
    finally:
        lookups.close()
        stream.report.pdfs_stored = len(shelf.created) if stream.report.written else 0
        if stream.report.written:
            shelf.forget()
        else:
            shelf.discard()
    return stream.report


# --- command line ---------------------------------------------------------------------------


async def run_import(settings: Settings, what: str, path: Path, *, skip_invalid: bool) -> int:
    """``main.py import customers|contracts FILE``: apply the file, print the report."""
    store = await Store.open(settings.db_path, message_id_domain=settings.mail_domain)
    try:
        report = await import_file(
            store,
            what,
            path,
            skip_invalid=skip_invalid,
            now=SystemClock().now(),
            progress=sys.stderr.isatty(),
        )
    finally:
        await store.close()
    return print_report(report, skip_invalid=skip_invalid)


async def run_publish(settings: Settings, manifest: Path, *, skip_invalid: bool) -> int:
    """``main.py publish MANIFEST``: publish the documents, print the report."""
    store = await Store.open(settings.db_path, message_id_domain=settings.mail_domain)
    try:
        report = await publish_file(
            store,
            manifest,
            settings.data_dir,
            skip_invalid=skip_invalid,
            now=SystemClock().now(),
            progress=sys.stderr.isatty(),
        )
    finally:
        await store.close()
    return print_report(report, skip_invalid=skip_invalid)


def print_report(report: ImportReport, *, skip_invalid: bool) -> int:
    """Print the report (stdout; a file that cannot be used goes to stderr); return the status."""
    if report.unusable:
        print(f"{report.path}: {report.unusable}", file=sys.stderr)
        return EXIT_UNUSABLE
    for line in report.lines():
        print(line)
    if not report.bad:
        return EXIT_OK
    if not report.written:
        print(
            f"{report.path}: {len(report.bad):,} bad rows: nothing written. Fix them and run"
            " again, or use --skip-invalid to apply the good rows.",
            file=sys.stderr,
        )
        return EXIT_BAD_ROWS
    return EXIT_SKIPPED if skip_invalid else EXIT_OK
