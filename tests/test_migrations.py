"""A database made by an older version upgrades in place and keeps its data."""

from __future__ import annotations

from pathlib import Path

from store.db import Database, migrations
from store.store import Store


async def test_a_first_version_database_upgrades_in_place_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    path = tmp_path / "old.db"
    old = await Database.open(path, upto=1)
    assert await old.schema_version() == 1
    async with old.transaction():
        customer = await old.execute(
            "INSERT INTO customers (code, kind, name, fiscal_code, paper_invoices, updated_at)"
            " VALUES ('C1', 'person', 'Mario Rossi', 'RSSMRA85T10A562S', 0, '2020-01-01')"
        )
        contract = await old.execute(
            "INSERT INTO contracts (contract_number, module_number, customer_id, status,"
            " description, start_date, end_date, periodic_fee_cents, updated_at)"
            " VALUES ('1000001', '01', ?, 'active', 'Fiat Panda', '2020-01-01', NULL, 45000,"
            " '2020-01-01')",
            (customer,),
        )
        await old.execute(
            "INSERT INTO documents (number, contract_id, kind, issue_date, amount_cents,"
            " pdf_path, pdf_sha256, published_at)"
            " VALUES ('2024/1', ?, 'invoice', '2024-01-05', 45000, 'documents/2024/a.pdf',"
            " 'abc', '2024-01-06T00:00:00+00:00')",
            (contract,),
        )
    await old.close()

    store = await Store.open(path)
    try:
        assert await store.db.schema_version() == migrations()[-1][0]
        found = await store.customers.find_by_identifiers("1000001", "01", "RSSMRA85T10A562S")
        assert found is not None
        customer_record, contract_record = found
        assert customer_record.paper_invoices is False
        assert contract_record.periodic_fee_cents == 45000
        assert await store.documents.years_for_contract(contract_record.id) == [2024]
        document = await store.documents.by_number("2024/1")
        assert document is not None and document.pdf_path == "documents/2024/a.pdf"
    finally:
        await store.close()


async def test_every_intermediate_version_upgrades_to_the_latest(tmp_path: Path) -> None:
    latest = migrations()[-1][0]
    for number, _ in migrations():
        path = tmp_path / f"v{number}.db"
        db = await Database.open(path, upto=number)
        assert await db.schema_version() == number
        await db.close()
        db = await Database.open(path)
        assert await db.schema_version() == latest
        assert await db.migrate() == []  # nothing left to apply
        await db.close()
