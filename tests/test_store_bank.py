"""The customers, contracts and documents repositories, over data imported from bank files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from assistant.clock import ManualClock, iso
from bankfiles.importer import import_file
from store.store import Store

COMPANY_CONTRACTS = 23


def write(path: Path, header: str, rows: list[str]) -> Path:
    """A bank file: the header, then one line per row."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture
async def bank(store: Store, tmp_path: Path, clock: ManualClock) -> None:
    """A person with three contracts, a company with many; documents from 2007 to 2024."""
    customers = [
        "P1,person,Mario Rossi,RSSMRA85T10A562S",
        "K1,company,Alfa Srl,00743110157",
    ]
    contracts = [
        "1000001,01,P1,terminated,Fiat Punto,2010-01-01,2014-01-01,300.00",
        "1000002,01,P1,active,Fiat Panda,2020-01-01,,450.00",
        "1000003,01,P1,active,Vespa,2022-06-01,2026-06-01,90.00",
        *(
            f"{2000000 + k},01,K1,{'active' if k % 3 else 'terminated'},Iveco {k},"
            f"2015-{k % 12 + 1:02d}-01,2030-01-01,1000.00"
            for k in range(COMPANY_CONTRACTS)
        ),
    ]
    documents = [
        "2007/1,1000001/01,invoice,2007-12-31,300.00,",  # before 2008: never listed
        *(f"2012/{m},1000001/01,invoice,2012-{m:02d}-05,300.00," for m in range(1, 13)),
        "2012/NC1,1000001/01,credit_note,2012-03-20,-50.00,",
        *(f"2024/{m},1000002/01,invoice,2024-{m:02d}-05,450.00," for m in range(1, 7)),
        "2023/1,1000003/01,invoice,2023-06-05,90.00,",
    ]
    folder = tmp_path / "bank"
    folder.mkdir()
    files = {
        "customers": write(folder / "c.csv", "customer_code,kind,name,fiscal_code", customers),
        "contracts": write(
            folder / "k.csv",
            "contract_number,module_number,customer_code,status,description,start_date,"
            "end_date,periodic_fee",
            contracts,
        ),
        "documents": write(
            folder / "d.csv",
            "document_number,contract_number,document_type,issue_date,amount,file",
            documents,
        ),
    }
    for what, path in files.items():
        report = await import_file(store, what, path, now=clock.now())
        assert report.written and not report.bad, report.bad


async def ids(store: Store, code: str) -> int:
    """The id of a customer code."""
    customer = await store.customers.by_code(code)
    assert customer is not None
    return customer.id


@pytest.mark.usefixtures("bank")
async def test_contracts_list_active_first_newest_first_in_pages(store: Store) -> None:
    person = await ids(store, "P1")
    listed = await store.contracts.for_customer(person)
    assert [c.label for c in listed] == ["1000003/01", "1000002/01", "1000001/01"]
    assert [c.status for c in listed] == ["active", "active", "terminated"]
    assert await store.contracts.count_for_customer(person, "active") == 2
    assert await store.contracts.counts_by_status(person) == {"active": 2, "terminated": 1}
    company = await ids(store, "K1")
    assert await store.contracts.count_for_customer(company) == COMPANY_CONTRACTS
    pages = [
        await store.contracts.for_customer(company, offset=offset, limit=10)
        for offset in (0, 10, 20)
    ]
    assert [len(page) for page in pages] == [10, 10, 3]
    flat = [c for page in pages for c in page]
    assert len({c.id for c in flat}) == COMPANY_CONTRACTS
    keys = [(c.status, -c.start_date.toordinal()) for c in flat]
    assert keys == sorted(keys)
    terminated = await store.contracts.for_customer(company, status="terminated", limit=100)
    assert {c.status for c in terminated} == {"terminated"} and len(terminated) == 8


@pytest.mark.usefixtures("bank")
@pytest.mark.parametrize(
    ("contract", "module", "fiscal_code", "found"),
    [
        ("1000002", "01", "RSSMRA85T10A562S", True),
        (" 1000002 ", "01", "rssmra 85t10 a562s", True),  # case and spaces do not matter
        ("1000002", "1", "RSSMRA85T10A562S", False),  # the module is compared as written
        ("1000002", "01", "00743110157", False),  # someone else's fiscal code
        ("2000001", "01", "IT00743110157", True),  # a partita IVA with its country prefix
        ("9999999", "01", "RSSMRA85T10A562S", False),
    ],
)
async def test_identifiers_must_name_one_contract_of_the_customer(
    store: Store, contract: str, module: str, fiscal_code: str, found: bool
) -> None:
    match = await store.customers.find_by_identifiers(contract, module, fiscal_code)
    assert (match is not None) == found
    if match:
        customer, leased = match
        assert leased.customer_id == customer.id
        assert leased.contract_number == contract.strip()


@pytest.mark.usefixtures("bank")
async def test_documents_by_year_newest_first_from_2008(store: Store) -> None:
    old = await store.contracts.by_number("1000001", "01")
    assert old is not None
    assert await store.documents.years_for_contract(old.id) == [2012]
    page = await store.documents.for_contract_year(old.id, 2012, limit=5)
    assert [d.number for d in page] == ["2012/12", "2012/11", "2012/10", "2012/9", "2012/8"]
    middle = await store.documents.for_contract_year(old.id, 2012, offset=8, limit=3)
    assert [d.number for d in middle] == ["2012/4", "2012/NC1", "2012/3"]
    assert middle[1].kind == "credit_note" and middle[1].signed_cents == -5000
    assert await store.documents.count_for_contract_year(old.id, 2012) == 13
    rest = await store.documents.for_contract_year(old.id, 2012, offset=10, limit=5)
    assert [d.issue_date for d in rest] == [date(2012, 3, 5), date(2012, 2, 5), date(2012, 1, 5)]
    person = await ids(store, "P1")
    assert await store.documents.years_for_customer(person) == [2024, 2023, 2012]
    assert await store.documents.count_for_customer_year(person, 2024) == 6
    latest = await store.documents.for_customer_year(person, 2024, limit=2)
    assert [d.number for d in latest] == ["2024/6", "2024/5"]
    assert await store.documents.years_for_customer(await ids(store, "K1")) == []


@pytest.mark.usefixtures("bank")
async def test_an_unpublished_document_is_not_listed(store: Store, clock: ManualClock) -> None:
    contract = await store.contracts.by_number("1000003", "01")
    assert contract is not None
    async with store.db.transaction():
        await store.db.execute(
            "INSERT INTO documents (number, contract_id, kind, issue_date, amount_cents)"
            " VALUES ('2025/1', ?, 'invoice', '2025-01-05', 9000)",
            (contract.id,),
        )
    assert await store.documents.years_for_contract(contract.id) == [2023]
    assert await store.documents.count_for_contract_year(contract.id, 2025) == 0
    hidden = await store.documents.by_number("2025/1")
    assert hidden is not None and hidden.published_at is None
    assert iso(clock.now())  # the published ones carry the import time


@pytest.mark.usefixtures("bank")
async def test_telegram_file_id_and_paper_invoices_are_remembered(store: Store) -> None:
    document = await store.documents.by_number("2023/1")
    assert document is not None and document.telegram_file_id is None
    await store.documents.set_telegram_file_id(document.id, "BQACAgQAAx")
    again = await store.documents.get(document.id)
    assert again is not None and again.telegram_file_id == "BQACAgQAAx"
    person = await ids(store, "P1")
    customer = await store.customers.get(person)
    assert customer is not None and customer.paper_invoices is True
    await store.customers.set_paper_invoices(person, False)
    customer = await store.customers.get(person)
    assert customer is not None and customer.paper_invoices is False
