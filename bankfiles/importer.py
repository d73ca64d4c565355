"""The bank's files into the store: customers and contracts (``import_file``), documents
(``publish_file``).

A file is read as a stream in batches, its good rows staged aside (``store.imports``); if a row
is bad nothing is applied, unless ``skip_invalid`` keeps the good rows. Every bad row is reported
with its line number and reason. Exit statuses:

    0  every row was good and the file is applied
    1  some rows are bad: nothing written
    2  the file cannot be used at all (missing, wrong header, wrong encoding, another import
       running): nothing written
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

from assistant.clock import iso
from bankfiles import rows as bankfiles
from bankfiles.fast import DocumentChunks
from bankfiles.publishing import DEFAULT_DOCUMENT_MAX_BYTES, PdfShelf, pdf_relpath
from bankfiles.references import References
from bankfiles.rowstream import Batch, ImportReport, RowStream
from store.bulk import Staged
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
    lookups = store.imports.lookups()
    references = References(lookups, stream)

    async def prepare(batch: Batch) -> Staged:
        if what == "contracts":
            batch = references.customers(batch)
        elif what == "documents":
            batch = references.contracts(batch)
        if fast is not None and batch.fast:
            return Staged(what, encoded=fast.encode(batch.rows))
        return Staged(what, batch.rows)

    try:
        await stream.apply(
            store.imports, prepare, at=when, skip_invalid=skip_invalid, progress=progress
        )
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
    max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES,
) -> ImportReport:
    """Publish a manifest: store each PDF and its document, queue a notice for each new one.

    A notice is queued once per document, at its first publication (``notify=False``: none,
    for the demo). A re-run changes nothing; a changed row or PDF updates the document.
    A ``file`` outside the manifest's folder, not a regular file, or over ``max_bytes``
    (``DOCUMENT_MAX_BYTES``) is a bad row (``bankfiles.publishing``).
    """
    when = iso(now)
    stream = RowStream(manifest, bankfiles.MANIFEST_COLUMNS, bankfiles.parse_document, "documents")
    lookups = store.imports.lookups()
    references = References(lookups, stream)
    shelf = PdfShelf(data_dir, max_bytes=max_bytes)
    folder = manifest.parent

    async def prepare(batch: Batch) -> Staged:
        batch = references.contracts(batch)
        stored = lookups.stored_pdfs([row.number for row in batch.rows])
        rows: list[Any] = []
        for line, row in zip(batch.lines, batch.rows, strict=True):
            try:
                pdf = shelf.receive(folder, row.file)
            except bankfiles.BadRow as exc:
                stream.reject(line, exc)
                continue
            known = stored.get(row.number)
            if known and known.pdf_sha256 == pdf.sha256 and shelf.has(known.pdf_path):
                relpath = str(known.pdf_path)
                shelf.drop(pdf)
            else:
                relpath = pdf_relpath(row.number, row.issue_date, pdf.sha256)
                shelf.place(pdf, relpath)
            rows.append((*row, relpath, pdf.sha256))
        return Staged("published", rows)

    try:
        await stream.apply(
            store.imports,
            prepare,
            at=when,
            notify=notify,
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


# --- the report on a terminal ------------------------------------------------------------


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
