"""Store at scale: import speed of the bank's files and listing latency on a big database.

    .venv/bin/python bench/store_scale.py [--customers 100000] [--contracts 200000]
                                          [--documents 5000000] [--picks 10000]
                                          [--scale 1.0]

``--scale 0.1`` multiplies the three row counts (and the picks) for a quicker run; the
targets are for the default scale.

Generates the three bank files (customers, contracts, documents metadata, no PDFs) in a
temporary folder, imports them through ``bankfiles.importer.import_file``, then times 10,000
random listings through the repositories (one customer's contracts; one contract's documents
of one year). Finally it inserts the same rows with a bare ``sqlite3`` ``executemany`` into a
fresh database with the same schema and connection settings, and prints the ratio.
Targets: import >= 100,000 rows/s, listing p99 < 2 ms, import / bare >= 0.5.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from assistant.clock import iso
from bankfiles import demodata
from bankfiles.importer import import_file
from bankfiles.rowstream import BATCH_ROWS
from store import bulk
from store.db import Database
from store.store import Store

FIRST_MONTH = date(2008, 1, 1)
MONTHS = 216  # 2008-01 .. 2025-12
NOW = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
TARGET_ROWS_PER_S, TARGET_P99_MS, TARGET_RATIO = 100_000, 2.0, 0.5


def month(index: int, day: int = 1) -> str:
    """ISO date of the ``index``-th month from January 2008."""
    return f"{FIRST_MONTH.year + index // 12:04d}-{index % 12 + 1:02d}-{day:02d}"


class Dataset:
    """The generated bank data; every generator yields the same rows each time."""

    def __init__(self, customers: int, contracts: int, documents: int, seed: int = 7) -> None:
        self.customers, self.contracts, self.seed = customers, contracts, seed
        self.span = max(1, documents // contracts)  # months of invoices per contract
        rng = random.Random(seed)
        self.start = [rng.randrange(0, MONTHS - self.span + 1) for _ in range(contracts)]
        self.owner = [rng.randrange(customers) + 1 for _ in range(contracts)]
        self.documents = self.span * contracts

    def customer_rows(self) -> Iterator[tuple[str, str, str, str]]:
        """(code, kind, name, fiscal code)."""
        rng = random.Random(self.seed + 1)
        for i in range(1, self.customers + 1):
            if rng.random() < 0.2:
                yield (f"B{i:07d}", "company", *demodata.company_identity(rng))
            else:
                yield (f"B{i:07d}", "person", *demodata.person(rng))

    def contract_rows(self) -> Iterator[tuple[str, str, int, str, str, str, str, int]]:
        """(number, module, customer index, status, description, start, end, fee cents)."""
        for j in range(1, self.contracts + 1):
            first = self.start[j - 1]
            end = first + self.span
            status = "terminated" if end <= MONTHS else "active"
            fee = 20_000 + (j * 7919) % 180_000
            owner = self.owner[j - 1]
            yield f"{j:08d}", "01", owner, status, "Autovettura", month(first), month(end), fee

    def document_rows(self) -> Iterator[tuple[str, int, str, str, int]]:
        """(number, contract index, kind, issue date, cents), month by month like the bank."""
        by_start: dict[int, list[int]] = {}
        for j, first in enumerate(self.start, start=1):
            by_start.setdefault(first, []).append(j)
        active: list[int] = []
        sequence = 0
        for m in range(MONTHS):
            active = [j for j in active if self.start[j - 1] + self.span > m]
            active += by_start.get(m, [])
            issued = month(m, 5)
            for j in active:
                sequence += 1
                kind = "credit_note" if sequence % 50 == 0 else "invoice"
                yield f"{issued[:4]}/{sequence:09d}", j, kind, issued, 10_000 + sequence % 90_000


def write_files(data: Dataset, folder: Path) -> dict[str, Path]:
    """The three CSV files the import reads."""
    paths = {name: folder / f"{name}.csv" for name in ("customers", "contracts", "documents")}
    with paths["customers"].open("w", encoding="utf-8") as out:
        out.write("customer_code,kind,name,fiscal_code\n")
        out.writelines(f"{c},{k},{n},{f}\n" for c, k, n, f in data.customer_rows())
    with paths["contracts"].open("w", encoding="utf-8") as out:
        out.write(
            "contract_number,module_number,customer_code,status,description,start_date,"
            "end_date,periodic_fee\n"
        )
        for num, mod, owner, status, desc, start, end, fee in data.contract_rows():
            out.write(f"{num},{mod},B{owner:07d},{status},{desc},{start},{end},{fee / 100:.2f}\n")
    with paths["documents"].open("w", encoding="utf-8") as out:
        out.write("document_number,contract_number,document_type,issue_date,amount,file\n")
        for number, j, kind, issued, cents in data.document_rows():
            out.write(f"{number},{j:08d}/01,{kind},{issued},{cents / 100:.2f},\n")
    return paths


async def run_imports(store: Store, paths: dict[str, Path]) -> list[tuple[str, int, float]]:
    """Import the three files; (name, rows, seconds) of each."""
    timings = []
    for name, path in paths.items():
        started = time.perf_counter()
        report = await import_file(store, name, path, now=NOW)
        elapsed = time.perf_counter() - started
        assert report.written and not report.bad, report.bad[:5]
        timings.append((name, report.rows, elapsed))
    return timings


async def time_listings(store: Store, data: Dataset, picks: int) -> dict[str, list[float]]:
    """Milliseconds of each random listing."""
    rng = random.Random(11)
    times: dict[str, list[float]] = {"contracts": [], "documents": []}
    for _ in range(picks):
        customer = rng.randrange(data.customers) + 1
        started = time.perf_counter()
        await store.contracts.for_customer(customer, limit=10)
        times["contracts"].append((time.perf_counter() - started) * 1000)
        contract = rng.randrange(data.contracts) + 1
        first = data.start[contract - 1]
        year = int(month(rng.randrange(first, first + data.span))[:4])
        started = time.perf_counter()
        found = await store.documents.for_contract_year(contract, year, limit=12)
        times["documents"].append((time.perf_counter() - started) * 1000)
        assert found, (contract, year)
    return times


def bare_insert(data: Dataset, path: Path) -> tuple[int, float]:
    """Rows and seconds of plain ``executemany`` INSERTs of the same rows (building the rows
    is not timed), with the import's connection settings, in one transaction."""
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode = WAL", "synchronous = NORMAL", "foreign_keys = ON"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute(f"PRAGMA cache_size = {-bulk.BULK_CACHE_KIB}")
    now = iso(NOW)
    tables = {
        "customers": (
            "INSERT INTO customers (code, kind, name, fiscal_code, updated_at) VALUES (?,?,?,?,?)",
            ((*row, now) for row in data.customer_rows()),
        ),
        "contracts": (
            "INSERT INTO contracts (contract_number, module_number, customer_id, status,"
            " description, start_date, end_date, periodic_fee_cents, updated_at)"
            " VALUES (?,?,?,?,?,?,?,?,?)",
            ((*row, now) for row in data.contract_rows()),
        ),
        "documents": (
            "INSERT INTO documents (number, contract_id, kind, issue_date, amount_cents,"
            " pdf_path, pdf_sha256, published_at) VALUES (?,?,?,?,?,?,?,?)",
            ((*row, None, None, now) for row in data.document_rows()),
        ),
    }
    rows, elapsed = 0, 0.0
    conn.execute("BEGIN IMMEDIATE")
    for sql, source in tables.values():
        while batch := [row for _, row in zip(range(BATCH_ROWS), source, strict=False)]:
            started = time.perf_counter()
            conn.executemany(sql, batch)
            elapsed += time.perf_counter() - started
            rows += len(batch)
    started = time.perf_counter()
    conn.execute("COMMIT")
    elapsed += time.perf_counter() - started
    conn.close()
    return rows, elapsed


async def _create_schema(path: Path) -> None:
    db = await Database.open(path)
    await db.close()


def quantile(values: list[float], q: float) -> float:
    """The ``q`` quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def verdict(ok: bool) -> str:
    """How a figure compares with its target."""
    return "ok" if ok else "MISSED"


async def main_async(args: argparse.Namespace, folder: Path) -> None:
    """Generate, import, list, compare; print every figure."""
    started = time.perf_counter()
    data = Dataset(args.customers, args.contracts, args.documents)
    paths = write_files(data, folder)
    print(
        f"dataset: {data.customers:,} customers, {data.contracts:,} contracts,"
        f" {data.documents:,} documents (files written in {time.perf_counter() - started:.1f} s)"
    )
    store = await Store.open(folder / "import.db")
    try:
        timings = await run_imports(store, paths)
        for name, rows, seconds in timings:
            rate = rows / seconds
            print(f"import {name:9s}: {rows:>10,} rows in {seconds:6.1f} s = {rate:>9,.0f} rows/s")
        total_rows = sum(rows for _, rows, _ in timings)
        total_seconds = sum(seconds for _, _, seconds in timings)
        import_rate = total_rows / total_seconds
        print(
            f"import total    : {total_rows:>10,} rows in {total_seconds:6.1f} s ="
            f" {import_rate:>9,.0f} rows/s  (target >= {TARGET_ROWS_PER_S:,}:"
            f" {verdict(import_rate >= TARGET_ROWS_PER_S)})"
        )
        times = await time_listings(store, data, args.picks)
    finally:
        await store.close()
    for name, label in (
        ("contracts", "one customer's contracts"),
        ("documents", "one contract-year's documents"),
    ):
        p50, p99 = quantile(times[name], 0.5), quantile(times[name], 0.99)
        print(
            f"listing {label:29s}: p50 {p50:.3f} ms, p99 {p99:.3f} ms over {args.picks:,} picks"
            f"  (target p99 < {TARGET_P99_MS} ms: {verdict(p99 < TARGET_P99_MS)})"
        )
    for suffix in ("", "-wal", "-shm"):
        (folder / f"import.db{suffix}").unlink(missing_ok=True)
    await _create_schema(folder / "bare.db")
    rows, seconds = bare_insert(data, folder / "bare.db")
    bare_rate = rows / seconds
    ratio = import_rate / bare_rate
    print(f"bare executemany: {rows:>10,} rows in {seconds:6.1f} s = {bare_rate:>9,.0f} rows/s")
    ok = verdict(ratio >= TARGET_RATIO)
    print(f"ratio import / bare: {ratio:.2f}  (target >= {TARGET_RATIO}: {ok})")
    print(f"total bench time: {time.perf_counter() - started:.0f} s")


def main() -> int:
    """Parse the scale, run in a temporary folder."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--contracts", type=int, default=200_000)
    parser.add_argument("--documents", type=int, default=5_000_000)
    parser.add_argument("--picks", type=int, default=10_000)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply the counts")
    args = parser.parse_args()
    if args.scale <= 0:
        parser.error("--scale must be positive")
    for name in ("customers", "contracts", "documents", "picks"):
        setattr(args, name, max(1, round(getattr(args, name) * args.scale)))
    with tempfile.TemporaryDirectory(prefix="store_scale-") as folder:
        asyncio.run(main_async(args, Path(folder)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
