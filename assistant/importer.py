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
from operator import attrgetter
from pathlib import Path
from typing import Any

from assistant import bankfiles
from assistant.clock import SystemClock, iso
from assistant.publishing import PdfShelf, check_pdf, pdf_relpath
from assistant.rowstream import ImportReport, Parsed, RowStream
from assistant.settings import Settings
from store import bulk
from store.bulk import Upsert
from store.store import Store

logger = logging.getLogger(__name__)

EXIT_OK, EXIT_BAD_ROWS, EXIT_UNUSABLE, EXIT_SKIPPED = 0, 1, 2, 3
PUBLISH_BATCH_ROWS = 1_000  # each row is also a file to read

Batch = list[Parsed]
_CUSTOMER_KEY = attrgetter("customer_code")
_CONTRACT_KEY = attrgetter("contract_number", "module_number")


async def import_file(
    store: Store,
    what: str,
    path: Path,
    *,
    skip_invalid: bool = False,
    now: datetime,
    progress: bool = False,
) -> ImportReport:
    """Apply a customers, contracts or documents (metadata only: no PDF) file to the store."""
    when = iso(now)
    stream: RowStream
    if what == "customers":
        stream = RowStream(path, bankfiles.CUSTOMER_COLUMNS, bankfiles.parse_customer, what)

        async def prepare(batch: Batch) -> Upsert:
            rows: list[Any] = [(r.code, r.kind, r.name, r.fiscal_code, when) for _, r in batch]
            return Upsert("customers", rows)

    elif what == "contracts":
        stream = RowStream(path, bankfiles.CONTRACT_COLUMNS, bankfiles.parse_contract, what)
        customers = _References(store, stream)

        async def prepare(batch: Batch) -> Upsert:
            rows: list[Any] = [
                (
                    r.contract_number,
                    r.module_number,
                    customer_id,
                    r.status,
                    r.description,
                    r.start_date,
                    r.end_date,
                    r.fee_cents,
                    when,
                )
                for customer_id, _, r in await customers.with_customer_ids(batch)
            ]
            return Upsert("contracts", rows)

    elif what == "documents":
        stream = RowStream(path, bankfiles.MANIFEST_COLUMNS, _parse_metadata, what)
        contracts = _References(store, stream)

        async def prepare(batch: Batch) -> Upsert:
            rows: list[Any] = [
                (r.number, contract_id, r.kind, r.issue_date, r.amount_cents, None, None, when)
                for contract_id, _, r in await contracts.with_contract_ids(batch)
            ]
            return Upsert("documents", rows)

    else:
        raise ValueError(f"unknown bank file {what!r}")
    await stream.apply(store.db, prepare, skip_invalid=skip_invalid, progress=progress)
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
    contracts = _References(store, stream)
    shelf = PdfShelf(data_dir)
    folder = manifest.parent

    async def prepare(batch: Batch) -> Upsert:
        checked = []
        for contract_id, line, row in await contracts.with_contract_ids(batch):
            try:
                checked.append((contract_id, row, check_pdf(folder / row.file)))
            except bankfiles.BadRow as exc:
                stream.reject(line, exc)
        stored = await store.db.run(bulk.stored_pdfs, [row.number for _, row, _ in checked])
        rows: list[Any] = []
        for contract_id, row, sha in checked:
            known = stored.get(row.number)
            if known and known.pdf_sha256 == sha and shelf.has(known.pdf_path):
                relpath = str(known.pdf_path)
            else:
                relpath = pdf_relpath(row.number, row.issue_date, sha)
                shelf.place(folder / row.file, relpath)
            metadata = (row.number, contract_id, row.kind, row.issue_date, row.amount_cents)
            rows.append((*metadata, relpath, sha, when))
        return Upsert("documents", rows, published_at=when, notify=notify)

    try:
        await stream.apply(
            store.db,
            prepare,
            skip_invalid=skip_invalid,
            progress=progress,
            batch=PUBLISH_BATCH_ROWS,
        )
    finally:
        stream.report.pdfs_stored = len(shelf.created) if stream.report.written else 0
        if stream.report.written:
            shelf.forget()
        else:
            shelf.discard()
    return stream.report


class _References:
    """Resolves the customers and contracts a file refers to, with a cache across batches."""

    MAX_CACHED = 1_000_000

    def __init__(self, store: Store, stream: RowStream) -> None:
        self.db = store.db
        self.stream = stream
        self.cache: dict[Any, int | bankfiles.BadRow] = {}

    async def with_customer_ids(self, batch: Batch) -> list[tuple[int, int, Any]]:
        """(customer id, line, row) of the rows whose customer exists; rejects the others."""
        missing = {row.customer_code for _, row in batch} - self.cache.keys()
        if missing:
            found = await self.db.run(bulk.customer_ids, missing)
            for code in missing:
                self.cache[code] = found.get(code) or _unknown("customer", code)
        return self._resolve(batch, _CUSTOMER_KEY)

    async def with_contract_ids(self, batch: Batch) -> list[tuple[int, int, Any]]:
        """(contract id, line, row) of the rows naming one existing contract; rejects the others."""
        missing = set(map(_CONTRACT_KEY, (row for _, row in batch))) - self.cache.keys()
        pairs = [key for key in missing if key[1] is not None]
        bare = [number for number, module in missing if module is None]
        if pairs:
            found = await self.db.run(bulk.contract_ids, pairs)
            for key in pairs:
                self.cache[key] = found.get(key) or _unknown("contract", "/".join(key))
        if bare:
            candidates = await self.db.run(bulk.contracts_by_number, bare)
            for number in bare:
                self.cache[(number, None)] = _only(number, candidates.get(number, []))
        return self._resolve(batch, _CONTRACT_KEY)

    def _resolve(self, batch: Batch, key: Callable[[Any], Any]) -> list[tuple[int, int, Any]]:
        cache, reject = self.cache, self.stream.reject
        resolved: list[tuple[int, int, Any]] = []
        for line, row in batch:
            found = cache[key(row)]
            if type(found) is int:
                resolved.append((found, line, row))
            else:
                reject(line, found)  # type: ignore[arg-type]
        if len(cache) > self.MAX_CACHED:
            cache.clear()
        return resolved


def _unknown(what: str, key: str) -> bankfiles.BadRow:
    return bankfiles.BadRow(f"unknown_{what}", f"unknown {what} {key[:40]!r}")


def _only(number: str, candidates: list[tuple[str, int]]) -> int | bankfiles.BadRow:
    if len(candidates) == 1:
        return candidates[0][1]
    if not candidates:
        return _unknown("contract", number)
    return bankfiles.BadRow(
        "ambiguous_contract",
        f"contract {number[:40]!r} has {len(candidates)} modules: write CONTRACT/MODULE",
    )


def _parse_metadata(fields: list[str]) -> bankfiles.DocumentRow:
    return bankfiles.parse_document(fields, need_file=False)


# --- command line ---------------------------------------------------------------------------


async def run_import(settings: Settings, what: str, path: Path, *, skip_invalid: bool) -> int:
    """``main.py import customers|contracts FILE``: apply the file, print the report."""
    store = await Store.open(settings.db_path, message_id_domain=_domain(settings))
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
    store = await Store.open(settings.db_path, message_id_domain=_domain(settings))
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


def _domain(settings: Settings) -> str:
    return settings.mail_from_address.rpartition("@")[2] or "localhost"
