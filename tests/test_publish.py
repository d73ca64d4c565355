"""``publish MANIFEST``: PDFs copied with their sha256, one notice per new document, re-runs."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fpdf import FPDF

from assistant.clock import ManualClock
from assistant.settings import Settings
from bankfiles.importer import EXIT_BAD_ROWS, EXIT_OK, import_file, publish_file
from store.store import Store
from tests.fixtures.commands import run_publish

MANIFEST_HEADER = "document_number,contract_number,document_type,issue_date,amount,file"


def write(path: Path, header: str, rows: list[str]) -> Path:
    """A bank file: the header, then one line per row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def make_pdf(path: Path, label: str) -> Path:
    """A small real PDF whose bytes depend on ``label``."""
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=12)
    pdf.text(20, 20, f"Documento {label}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(pdf.output()))
    return path


@pytest.fixture
async def bank(store: Store, tmp_path: Path, clock: ManualClock) -> Path:
    """Two customers, three contracts (1000001 has two modules), and a folder of PDFs."""
    folder = tmp_path / "bank"
    customers = write(
        folder / "customers.csv",
        "customer_code,kind,name,fiscal_code",
        ["C1,person,Mario Rossi,RSSMRA85T10A562S", "C2,company,Alfa Srl,00743110157"],
    )
    contracts = write(
        folder / "contracts.csv",
        "contract_number,module_number,customer_code,status,description,start_date,end_date,"
        "periodic_fee",
        [
            "1000001,01,C1,active,Fiat Panda,2020-01-01,,450.00",
            "1000001,02,C1,active,Fiat Punto,2020-01-01,,300.00",
            "2000002,01,C2,active,Iveco Daily,2021-05-01,,1200.00",
        ],
    )
    for what, path in (("customers", customers), ("contracts", contracts)):
        assert (await import_file(store, what, path, now=clock.now())).written
    for name in ("a", "b", "c", "d"):
        make_pdf(folder / "pdf" / f"{name}.pdf", name)
    (folder / "pdf" / "fake.pdf").write_text("not a pdf at all", encoding="utf-8")
    return folder


GOOD_ROWS = [
    "2024/0001,1000001/01,invoice,2024-01-15,450.00,pdf/a.pdf",
    "2024/0002,1000001/02,invoice,2024-01-15,300.00,pdf/b.pdf",
    "2024/0003,2000002,invoice,2024-02-01,1200.00,pdf/c.pdf",  # bare number: one module only
    "2024/0004,2000002/01,credit_note,2024-02-10,-100.00,pdf/d.pdf",
]


async def count_notices(store: Store) -> int:
    """Rows in the notices table."""
    row = await store.db.fetchone("SELECT count(*) FROM notices")
    return int(row[0]) if row else 0


async def test_publish_copies_pdfs_records_them_and_queues_one_notice_each(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    manifest = write(bank / "manifest.csv", MANIFEST_HEADER, GOOD_ROWS)
    report = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert report.written and not report.bad
    assert (report.new, report.pdfs_stored, report.notices) == (4, 4, 4)
    for number, source in (("2024/0001", "a"), ("2024/0003", "c")):
        document = await store.documents.by_number(number)
        assert document is not None and document.pdf_path is not None
        copy = settings.data_dir / document.pdf_path
        assert copy.read_bytes() == (bank / "pdf" / f"{source}.pdf").read_bytes()
        assert document.pdf_sha256 == hashlib.sha256(copy.read_bytes()).hexdigest()
        assert document.published_at == clock.now()
        assert document.pdf_path.startswith("documents/2024/")
    credit = await store.documents.by_number("2024/0004")
    assert credit is not None
    assert (credit.kind, credit.amount_cents, credit.signed_cents) == ("credit_note", 10000, -10000)
    rows = await store.db.fetchall(
        "SELECT n.customer_id, d.number FROM notices n JOIN documents d ON d.id = n.document_id"
        " ORDER BY d.number"
    )
    alfa = await store.customers.by_code("C2")
    assert alfa is not None
    assert [(r[0] == alfa.id, r[1]) for r in rows][2:] == [(True, "2024/0003"), (True, "2024/0004")]


async def test_publishing_again_changes_nothing_and_queues_no_second_notice(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    manifest = write(bank / "manifest.csv", MANIFEST_HEADER, GOOD_ROWS)
    published_at = clock.now()
    await publish_file(store, manifest, settings.data_dir, now=published_at)
    files_before = sorted((settings.data_dir / "documents").rglob("*.pdf"))
    clock.advance(days=1)
    again = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert (again.new, again.changed, again.pdfs_stored, again.notices) == (0, 0, 0, 0)
    assert await count_notices(store) == 4
    assert sorted((settings.data_dir / "documents").rglob("*.pdf")) == files_before
    first = await store.documents.by_number("2024/0001")
    assert first is not None and first.published_at == published_at


async def test_a_corrected_pdf_or_amount_updates_the_document_without_a_new_notice(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    manifest = write(bank / "manifest.csv", MANIFEST_HEADER, GOOD_ROWS)
    await publish_file(store, manifest, settings.data_dir, now=clock.now())
    old = await store.documents.by_number("2024/0001")
    assert old is not None
    await store.documents.set_telegram_file_id(old.id, "telegram-file-1")
    make_pdf(bank / "pdf" / "a.pdf", "a, corrected")
    write(
        manifest,
        MANIFEST_HEADER,
        [*GOOD_ROWS[:2], "2024/0003,2000002,invoice,2024-02-01,1250.00,pdf/c.pdf", GOOD_ROWS[3]],
    )
    report = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert (report.new, report.changed, report.pdfs_stored, report.notices) == (0, 2, 1, 0)
    new = await store.documents.by_number("2024/0001")
    assert new is not None and new.pdf_path != old.pdf_path
    assert new.pdf_sha256 == hashlib.sha256((bank / "pdf" / "a.pdf").read_bytes()).hexdigest()
    assert new.telegram_file_id is None  # Telegram's copy is of the old PDF
    repriced = await store.documents.by_number("2024/0003")
    assert repriced is not None and repriced.amount_cents == 125000
    assert await count_notices(store) == 4


async def test_each_bad_manifest_row_is_listed_and_nothing_is_published(
    store: Store, settings: Settings, bank: Path, clock: ManualClock
) -> None:
    manifest = write(
        bank / "manifest.csv",
        MANIFEST_HEADER,
        [
            *GOOD_ROWS,  # lines 2-5
            "2024/0005,1000001/01,invoice,2024-01-15,450.00,pdf/missing.pdf",  # 6 no file
            "2024/0006,1000001/01,invoice,2024-01-15,450.00,pdf/fake.pdf",  # 7 not a PDF
            "2024/0007,9999999/01,invoice,2024-01-15,450.00,pdf/a.pdf",  # 8 unknown contract
            "2024/0008,1000001,invoice,2024-01-15,450.00,pdf/a.pdf",  # 9 two modules
            "2024/0001,1000001/01,invoice,2024-01-15,450.00,pdf/a.pdf",  # 10 duplicate number
            "2024/0009,1000001/01,receipt,2024-01-15,450.00,pdf/a.pdf",  # 11 unknown type
            "2024/0010,1000001/01,invoice,2024-01-15,-450.00,pdf/a.pdf",  # 12 negative invoice
            "2024/0011,1000001/01,invoice,2024-13-01,450.00,pdf/a.pdf",  # 13 bad date
            "2024/0012,1000001/01,invoice,2024-01-15,0.00,pdf/a.pdf",  # 14 zero
            "2024/0013,1000001/01,invoice,2024-01-15,450.00,",  # 15 no file named
        ],
    )
    report = await publish_file(store, manifest, settings.data_dir, now=clock.now())
    assert [(bad.line, bad.reason) for bad in report.bad] == [
        (6, "missing_file"),
        (7, "not_pdf"),
        (8, "unknown_contract"),
        (9, "ambiguous_contract"),
        (10, "duplicate"),
        (11, "document_type"),
        (12, "amount"),
        (13, "date"),
        (14, "amount"),
        (15, "missing"),
    ]
    assert not report.written
    assert await store.documents.by_number("2024/0001") is None
    assert await count_notices(store) == 0
    assert not list((settings.data_dir / "documents").rglob("*.pdf"))  # copies removed


async def test_skip_invalid_publishes_the_good_rows(
    settings: Settings, store: Store, bank: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad_row = "2024/0006,1000001/01,invoice,2024-01-15,450.00,pdf/fake.pdf"
    manifest = write(bank / "manifest.csv", MANIFEST_HEADER, [*GOOD_ROWS, bad_row])
    assert await run_publish(settings, manifest, skip_invalid=False) == EXIT_BAD_ROWS
    assert await store.documents.by_number("2024/0001") is None
    assert await run_publish(settings, manifest, skip_invalid=True) == 3
    assert await store.documents.by_number("2024/0001") is not None
    assert await count_notices(store) == 4
    write(manifest, MANIFEST_HEADER, GOOD_ROWS)
    assert await run_publish(settings, manifest, skip_invalid=False) == EXIT_OK
    out = capsys.readouterr().out
    assert "line 6: file is not a PDF: fake.pdf [not_pdf]" in out
    assert "4 PDFs stored, 4 notices queued" in out
