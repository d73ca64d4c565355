"""The store's engine on SQLite and on PostgreSQL, side by side: what one unit of work costs.

    .venv/bin/python bench/store_backends.py [--seconds 3] [--rows 100000]

Starts a throwaway PostgreSQL cluster (Debian's postgresql, as the tests do), then for each
backend, through ``Store``: one-statement reads per second (``fetchone`` by key), write
transactions per second (``async with transaction()`` around one INSERT, as a chat turn's
audit line), both from one coroutine and from 8 at once, and a customers file of ``--rows``
rows imported through ``bankfiles.importer.import_file`` (rows/s). No target: the figures
say where the time goes (a hop to a worker thread and a round trip to the server per call on
PostgreSQL, against a call into the SQLite library on the connection's thread).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bankfiles.demodata import make_customer
from bankfiles.importer import import_file
from store.store import Store
from tests.fixtures.postgres import PgServer  # the tests' throwaway cluster

NOW = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


async def rate(work: Callable[[], Awaitable[object]], seconds: float, tasks: int = 1) -> float:
    """Calls of ``work`` per second, from ``tasks`` coroutines at once."""
    done = 0
    deadline = time.perf_counter() + seconds

    async def loop() -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            await work()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(tasks)))
    return done / (time.perf_counter() - started)


def customers_file(path: Path, rows: int) -> Path:
    people = [make_customer(2008, n, date(2026, 1, 5)) for n in range(1, 101)]
    lines = [f"{p.code},{p.kind},{p.name},{p.fiscal_code}\n" for p in people]
    with path.open("w", encoding="utf-8") as out:
        out.write("customer_code,kind,name,fiscal_code\n")
        for n in range(rows // len(lines)):
            out.write("".join(f"X{n:05d}{line}" for line in lines))
    return path


async def measure(target: Path | str, folder: Path, seconds: float, rows: int) -> dict[str, float]:
    store = await Store.open(target)
    try:
        await store.audit.record("bench", NOW)
        row = await store.db.fetchone("SELECT id FROM audit_log LIMIT 1")
        assert row is not None
        key = row[0]

        async def read() -> object:
            return await store.db.fetchone("SELECT * FROM audit_log WHERE id = ?", (key,))

        async def write() -> None:
            async with store.transaction():
                await store.audit.record("bench", NOW, detail="turn")

        figures = {
            "reads/s, 1 task": await rate(read, seconds),
            "reads/s, 8 tasks": await rate(read, seconds, 8),
            "write transactions/s, 1 task": await rate(write, seconds),
            "write transactions/s, 8 tasks": await rate(write, seconds, 8),
        }
        path = customers_file(folder / "customers.csv", rows)
        started = time.perf_counter()
        report = await import_file(store, "customers", path, now=NOW)
        assert report.written, report
        figures["import rows/s"] = rows / (time.perf_counter() - started)
        return figures
    finally:
        await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-store-") as name:
        folder = Path(name)
        sqlite = asyncio.run(measure(folder / "bench.db", folder, args.seconds, args.rows))
        server = PgServer.create(durable=True)  # fsync on, commits not awaited: SQLite's NORMAL
        try:
            server.admin("CREATE DATABASE bench")
            pg = asyncio.run(measure(server.url("bench"), folder, args.seconds, args.rows))
        finally:
            server.stop("immediate")
            shutil.rmtree(server.folder, ignore_errors=True)
    print(f"{'':32}{'SQLite':>12}{'PostgreSQL':>12}{'PG/SQLite':>11}")
    for label, value in sqlite.items():
        print(f"{label:32}{value:12,.0f}{pg[label]:12,.0f}{pg[label] / value:10.2f}x")


if __name__ == "__main__":
    main()
