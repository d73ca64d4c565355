"""``main.py demo``: a deterministic demo dataset, written as the bank's files and imported.

The files (customers.csv, contracts.csv, manifest.csv and one PDF per document) go to
``<data dir>/demo``; they are applied with the same import and publication code as the bank's.
Customer ``n`` depends only on the seed and ``n`` (a bigger ``--customers`` adds customers and
keeps the others), and a second run changes nothing. Demo documents queue no publication
notices: they are the history customers find when they register, not news.

Customer 1 is a person with a contract invoiced every month since 2008; customer 2 a company
with 150 contracts (pagination); customer 3 a person whose codice fiscale has omocodia;
every fourth customer is a company; a few contracts have two modules.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from assistant.clock import Clock
from assistant.private_files import private_folder
from bankfiles import pdfs
from bankfiles.demodata import (
    CREDIT_NOTE_RATE,
    FLEET_CONTRACTS,
    DemoContract,
    DemoCustomer,
    add_months,
    make_customer,
)
from bankfiles.importer import import_file, print_report, publish_file
from store.store import Store

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoFiles:
    folder: Path
    customers: Path
    contracts: Path
    manifest: Path
    counts: tuple[int, int, int]  # customers, contracts, documents


def write_files(customers: list[DemoCustomer], folder: Path, today: date) -> DemoFiles:
    """The three bank files and the PDFs, as the bank would deliver them."""
    private_folder(folder)
    customer_lines = ["customer_code,kind,name,fiscal_code"]
    contract_lines = [
        "contract_number,module_number,customer_code,status,description,start_date,end_date,"
        "periodic_fee"
    ]
    manifest_lines = ["document_number,contract_number,document_type,issue_date,amount,file"]
    for customer in customers:
        customer_lines.append(
            _csv(customer.code, customer.kind, customer.name, customer.fiscal_code)
        )
        for contract in customer.contracts:
            end = contract.end()
            status = "active" if end > today else "terminated"
            shown_end = "" if status == "active" and contract.open_ended else end.isoformat()
            contract_lines.append(
                _csv(
                    contract.number,
                    contract.module,
                    customer.code,
                    status,
                    contract.description,
                    contract.start.isoformat(),
                    shown_end,
                    f"{contract.fee_cents / 100:.2f}",
                )
            )
            for document in _documents(customer, contract, today):
                relpath = f"pdf/{document.issue_date.year}/{document.number}.pdf"
                target = folder / relpath
                _write_if_changed(target, pdfs.render(document))
                amount = f"{document.amount_cents / 100:.2f}"
                manifest_lines.append(
                    _csv(
                        document.number,
                        document.contract_label,
                        document.kind,
                        document.issue_date.isoformat(),
                        amount,
                        relpath,
                    )
                )
    files = DemoFiles(
        folder,
        folder / "customers.csv",
        folder / "contracts.csv",
        folder / "manifest.csv",
        (len(customer_lines) - 1, len(contract_lines) - 1, len(manifest_lines) - 1),
    )
    for path, lines in (
        (files.customers, customer_lines),
        (files.contracts, contract_lines),
        (files.manifest, manifest_lines),
    ):
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return files


def _documents(
    customer: DemoCustomer, contract: DemoContract, today: date
) -> list[pdfs.PdfDocument]:
    """Monthly invoices from the start to today (or the end), and a few credit notes."""
    rng = random.Random(f"areaclienti-demo-{contract.number}-{contract.module}")
    label = f"{contract.number}/{contract.module}"
    found = []
    for month in range(contract.months):
        issued = add_months(contract.start, month)
        if issued > today:
            break
        found.append(_document(customer, contract, "invoice", issued, contract.fee_cents))
        if rng.random() < CREDIT_NOTE_RATE:
            credited = round(contract.fee_cents * rng.choice((0.1, 0.25, 0.5, 1.0)))
            credit_day = date(issued.year, issued.month, min(issued.day + 10, 28))
            if credit_day <= today:
                found.append(_document(customer, contract, "credit_note", credit_day, credited))
    assert all(document.contract_label == label for document in found)
    return found


def _document(
    customer: DemoCustomer, contract: DemoContract, kind: str, issued: date, cents: int
) -> pdfs.PdfDocument:
    prefix = "FT" if kind == "invoice" else "NC"
    return pdfs.PdfDocument(
        kind=kind,
        number=f"{prefix}-{contract.number}-{contract.module}-{issued:%Y%m}",
        issue_date=issued,
        customer_name=customer.name,
        customer_code=customer.code,
        fiscal_code=customer.fiscal_code,
        contract_label=f"{contract.number}/{contract.module}",
        asset=contract.description,
        period=f"Canone {issued:%m/%Y}" if kind == "invoice" else f"Storno canone {issued:%m/%Y}",
        amount_cents=cents,
    )


def _write_if_changed(path: Path, content: bytes) -> None:
    """Write a file unless it already holds ``content`` (creating files is the slow part)."""
    try:
        if path.read_bytes() == content:
            return
    except FileNotFoundError:
        private_folder(path.parent)
    path.write_bytes(content)


def _csv(*values: str) -> str:
    """One CSV line (RFC 4180 quoting)."""
    quoted = (
        '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\n') else v for v in values
    )
    return ",".join(quoted)


async def make_demo(
    store: Store, data_dir: Path, *, customers: int, seed: int, clock: Clock
) -> int:
    """``main.py demo``: write the demo bank files, import and publish them, print identities."""
    started = time.monotonic()
    now = clock.now()
    today = now.date()
    people = [make_customer(seed, n, today) for n in range(1, customers + 1)]
    files = write_files(people, data_dir / "demo", today)
    reports = [
        await import_file(store, "customers", files.customers, now=now),
        await import_file(store, "contracts", files.contracts, now=now),
        await publish_file(store, files.manifest, data_dir, now=now, notify=False),
    ]
    if any(report.bad or not report.written for report in reports):
        for report in reports:
            print_report(report, skip_invalid=False)
        return 1
    count_customers, count_contracts, count_documents = files.counts
    print(
        f"Demo data: {count_customers} customers, {count_contracts} contracts,"
        f" {count_documents} documents (bank files in {files.folder}),"
        f" ready in {time.monotonic() - started:.1f} s."
    )
    print("Identities to try (contract number / module number / codice fiscale):")
    for line in identities(people):
        print(f"  {line}")
    return 0


def identities(people: list[DemoCustomer]) -> list[str]:
    """A few customers worth trying, one line each."""
    notes = {
        "D00001": "person, invoices every month since 2008",
        "D00002": f"company with {FLEET_CONTRACTS} contracts, registers with a PEC address",
        "D00003": "person, codice fiscale with omocodia",
        "D00004": "company, registers with a PEC address",
    }
    lines = []
    for customer in people:
        note = notes.get(customer.code)
        if note and customer.contracts:
            contract = customer.contracts[0]
            lines.append(
                f"{contract.number} / {contract.module} / {customer.fiscal_code}"
                f"  {customer.name} ({note})"
            )
    return lines
