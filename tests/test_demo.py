"""``main.py demo``: valid fiscal codes, real PDFs, the same data on every run, no notices."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader
from stdnum.it import codicefiscale, iva

from assistant.settings import Settings
from bankfiles.demodata import FLEET_CONTRACTS, make_customer
from store.store import Store
from tests.fixtures.commands import make_demo

CUSTOMERS = 4


async def all_rows(
    settings: Settings, sql: str, params: tuple[object, ...] = ()
) -> list[tuple[object, ...]]:
    """Rows of one query on the demo database."""
    store = await Store.open(settings.db_target)
    try:
        return [tuple(row) for row in await store.db.fetchall(sql, params)]
    finally:
        await store.close()


async def test_demo_data_is_valid_and_a_second_run_changes_nothing(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await make_demo(settings, customers=CUSTOMERS, seed=7) == 0
    out = capsys.readouterr().out
    assert "Identities to try" in out

    customers = await all_rows(settings, "SELECT kind, fiscal_code FROM customers")
    assert len(customers) == CUSTOMERS
    assert {kind for kind, _ in customers} == {"person", "company"}
    for kind, code in customers:
        valid = codicefiscale.is_valid if kind == "person" else iva.is_valid
        assert valid(str(code)), code
    printed = [line.split(" / ") for line in out.splitlines() if line.startswith("  ")]
    assert len(printed) == CUSTOMERS
    for contract, module, rest in printed:
        code = rest.split()[0]
        assert code in {c for _, c in customers}
        found = await all_rows(
            settings,
            "SELECT 1 FROM contracts k JOIN customers c ON c.id = k.customer_id"
            " WHERE k.contract_number = ? AND k.module_number = ? AND c.fiscal_code = ?",
            (contract.strip(), module, code),
        )
        assert found == [(1,)]

    statuses = await all_rows(settings, "SELECT status, count(*) FROM contracts GROUP BY status")
    assert {status for status, _ in statuses} == {"active", "terminated"}
    fleet = await all_rows(
        settings, "SELECT count(*) FROM contracts GROUP BY customer_id ORDER BY 1 DESC LIMIT 1"
    )
    assert fleet[0][0] == FLEET_CONTRACTS

    documents = await all_rows(
        settings, "SELECT number, kind, issue_date, amount_cents, pdf_path FROM documents"
    )
    years = {str(issue_date)[:4] for _, _, issue_date, _, _ in documents}
    assert "2008" in years and str(date.today().year) in years
    assert {kind for _, kind, _, _, _ in documents} == {"invoice", "credit_note"}
    for number, _, _, cents, pdf_path in documents:
        content = (settings.data_dir / str(pdf_path)).read_bytes()
        text = PdfReader(io.BytesIO(content)).pages[0].extract_text()
        assert str(number) in text
        assert f",{int(str(cents)) % 100:02d} EUR" in text
    assert await all_rows(settings, "SELECT count(*) FROM notices") == [(0,)]

    before = await all_rows(settings, "SELECT * FROM documents ORDER BY id")
    assert await make_demo(settings, customers=CUSTOMERS, seed=7) == 0
    assert await all_rows(settings, "SELECT * FROM documents ORDER BY id") == before
    published = sorted(Path(settings.data_dir, "documents").rglob("*.pdf"))
    assert len(published) == len(documents)


def test_a_customer_depends_only_on_the_seed_and_its_number() -> None:
    today = date(2026, 1, 15)
    assert make_customer(7, 3, today) == make_customer(7, 3, today)
    assert make_customer(7, 3, today) != make_customer(8, 3, today)
    omocodia = make_customer(7, 3, today).fiscal_code
    assert codicefiscale.is_valid(omocodia) and not omocodia[12:15].isdigit()
