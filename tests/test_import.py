"""``import customers|contracts``: every bad-row reason with its line, all or nothing, re-runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from bankfiles.importer import (
    EXIT_BAD_ROWS,
    EXIT_OK,
    EXIT_SKIPPED,
    EXIT_UNUSABLE,
    import_file,
)
from store.store import Store
from tests.fixtures.commands import run_import

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS_HEADER = "customer_code,kind,name,fiscal_code"
CONTRACTS_HEADER = (
    "contract_number,module_number,customer_code,status,description,start_date,end_date,"
    "periodic_fee"
)
GOOD_CUSTOMERS = [
    "C1,person,Mario Rossi,RSSMRA85T10A562S",
    "C2,company,Alfa Leasing Srl,00743110157",
    'C3,person,"D\'Angelo,  Zoë",rssmra85t10a56nh',  # omocodia, lower case
]
GOOD_CONTRACTS = [
    "1000001,01,C1,active,Fiat Panda,2020-01-01,,450.00",
    "1000001,02,C1,terminated,Fiat Punto,2010-01-01,2014-01-01,300",
    "2000002,01,C2,active,Iveco Daily,2021-05-01,2026-05-01,1200.5",
]


def write(path: Path, header: str, rows: list[str], *, encoding: str = "utf-8") -> Path:
    """A bank file: the header, then one line per row."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding=encoding)
    return path


def reasons(report: object) -> list[tuple[int, str]]:
    """(line, reason) of every bad row."""
    return [(bad.line, bad.reason) for bad in report.bad]  # type: ignore[attr-defined]


async def test_each_bad_customer_row_is_listed_with_its_line_and_nothing_is_written(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [
            *GOOD_CUSTOMERS,  # lines 2-4
            "C4,person,Bad Check,RSSMRA85T10A562X",  # 5 wrong check character
            "C5,person,Eleven Digits,00743110157",  # 6 a person needs 16 characters
            "C6,alien,Who,RSSMRA85T10A562S",  # 7 unknown kind
            "C7,company,Bad Iva,00743110158",  # 8 wrong partita IVA
            "C1,person,Again,RSSMRA85T10A562S",  # 9 same code as line 2
            "C8,person,Too,Many,RSSMRA85T10A562S",  # 10 five columns
            ",person,No Code,RSSMRA85T10A562S",  # 11 empty code
            "",  # 12 blank: ignored
            "C9,company,Sole Trader,RSSMRA85T10A562S",  # 13 a company may have a 16-char code
        ],
    )
    report = await import_file(store, "customers", path, now=clock.now())
    assert reasons(report) == [
        (5, "fiscal_code"),
        (6, "fiscal_code"),
        (7, "kind"),
        (8, "fiscal_code"),
        (9, "duplicate"),
        (10, "columns"),
        (11, "missing"),
    ]
    assert "line 2" in report.bad[4].detail
    assert not report.written
    assert await store.customers.count() == 0


async def test_each_bad_contract_row_is_listed_with_its_line(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    customers = write(tmp_path / "customers.csv", CUSTOMERS_HEADER, GOOD_CUSTOMERS)
    assert (await import_file(store, "customers", customers, now=clock.now())).written
    path = write(
        tmp_path / "contracts.csv",
        CONTRACTS_HEADER,
        [
            *GOOD_CONTRACTS,  # lines 2-4
            "3000003,01,C99,active,X,2020-01-01,,1.00",  # 5 unknown customer
            "3000004,01,C1,expired,X,2020-01-01,,1.00",  # 6 unknown status
            "3000005,01,C1,active,X,2020-02-30,,1.00",  # 7 no such day
            "3000006,01,C1,terminated,X,2020-01-01,,1.00",  # 8 terminated without an end
            "3000007,01,C1,terminated,X,2020-01-01,2019-12-31,1.00",  # 9 ends before it starts
            '3000008,01,C1,active,X,2020-01-01,,"1.234,00"',  # 10 Italian decimal comma
            "3000009,01,C1,active,X,01/02/2020,,1.00",  # 11 not ISO
            "1000001,01,C2,active,Y,2020-01-01,,1.00",  # 12 same contract/module as line 2
            "3000010,01,C1,active,X,2020-01-01,,12.345",  # 13 three decimals
        ],
    )
    report = await import_file(store, "contracts", path, now=clock.now())
    assert reasons(report) == [
        (5, "unknown_customer"),
        (6, "status"),
        (7, "date"),
        (8, "end_date"),
        (9, "end_before_start"),
        (10, "amount"),
        (11, "date"),
        (12, "duplicate"),
        (13, "amount"),
    ]
    assert not report.written
    customer = await store.customers.by_code("C1")
    assert customer is not None
    assert await store.contracts.count_for_customer(customer.id) == 0


async def test_skip_invalid_imports_the_good_rows_and_still_lists_the_bad(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [*GOOD_CUSTOMERS, "C4,person,Bad Check,RSSMRA85T10A562X"],
    )
    report = await import_file(store, "customers", path, now=clock.now(), skip_invalid=True)
    assert report.written
    assert reasons(report) == [(5, "fiscal_code")]
    assert (report.new, report.changed) == (3, 3)
    omocodia = await store.customers.by_code("c3")
    assert omocodia is not None
    assert (omocodia.name, omocodia.fiscal_code) == ("D'Angelo, Zoë", "RSSMRA85T10A56NH")
    assert await store.customers.by_code("C4") is None


async def test_rerunning_a_file_changes_nothing_and_a_changed_row_updates_its_record(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    customers = write(tmp_path / "customers.csv", CUSTOMERS_HEADER, GOOD_CUSTOMERS)
    contracts = write(tmp_path / "contracts.csv", CONTRACTS_HEADER, GOOD_CONTRACTS)
    await import_file(store, "customers", customers, now=clock.now())
    first = await import_file(store, "contracts", contracts, now=clock.now())
    assert (first.new, first.changed) == (3, 3)
    mario = await store.customers.by_code("C1")
    assert mario is not None
    await store.customers.set_paper_invoices(mario.id, False)

    again = await import_file(store, "customers", customers, now=clock.now())
    assert (again.new, again.changed, again.good) == (0, 0, 3)
    assert "3 unchanged" in again.lines()[0]

    write(
        customers,
        CUSTOMERS_HEADER,
        ["C1,person,Mario Rossi Bianchi,RSSMRA85T10A562S", *GOOD_CUSTOMERS[1:]],
    )
    write(
        contracts,
        CONTRACTS_HEADER,
        ["1000001,01,C1,terminated,Fiat Panda,2020-01-01,2025-12-31,450.00", *GOOD_CONTRACTS[1:]],
    )
    changed = await import_file(store, "customers", customers, now=clock.now())
    assert (changed.new, changed.changed) == (0, 1)
    renamed = await store.customers.get(mario.id)
    assert renamed is not None
    assert renamed.name == "Mario Rossi Bianchi"
    assert renamed.paper_invoices is False  # the customer's choice survives the bank's file
    updated = await import_file(store, "contracts", contracts, now=clock.now())
    assert (updated.new, updated.changed) == (0, 1)
    contract = await store.contracts.by_number("1000001", "01")
    assert contract is not None
    assert contract.status == "terminated"
    assert str(contract.end_date) == "2025-12-31"


async def test_a_bom_and_loose_header_spacing_are_accepted(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = write(
        tmp_path / "customers.csv",
        "customer_code, kind, name, fiscal_code",
        GOOD_CUSTOMERS,
        encoding="utf-8-sig",
    )
    report = await import_file(store, "customers", path, now=clock.now())
    assert report.written and report.new == 3


async def test_bytes_that_are_not_utf8_are_a_bad_row(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = tmp_path / "customers.csv"
    path.write_bytes(
        f"{CUSTOMERS_HEADER}\n{GOOD_CUSTOMERS[0]}\nC2,person,Nicol\xf2,RSSMRA85T10A562S\n".encode(
            "latin-1"
        )
    )
    report = await import_file(store, "customers", path, now=clock.now())
    assert reasons(report) == [(3, "encoding")]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("customer_code,kind,name\nC1,person,Mario\n", "expected the columns"),
        ("", "found nothing"),
    ],
)
async def test_a_file_with_the_wrong_header_is_refused_whole(
    settings: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    problem: str,
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(content, encoding="utf-8")
    status = await run_import(settings, "customers", path, skip_invalid=True)
    assert status == EXIT_UNUSABLE
    assert problem in capsys.readouterr().err


async def test_exit_statuses_of_the_command(
    settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = write(tmp_path / "bad.csv", CUSTOMERS_HEADER, ["C1,person,Bad,RSSMRA85T10A562X"])
    good = write(tmp_path / "good.csv", CUSTOMERS_HEADER, GOOD_CUSTOMERS)
    assert await run_import(settings, "customers", bad, skip_invalid=False) == EXIT_BAD_ROWS
    assert await run_import(settings, "customers", bad, skip_invalid=True) == EXIT_SKIPPED
    assert await run_import(settings, "customers", good, skip_invalid=False) == EXIT_OK
    missing = tmp_path / "missing.csv"
    assert await run_import(settings, "customers", missing, skip_invalid=False) == EXIT_UNUSABLE
    out = capsys.readouterr().out
    assert "line 2: invalid codice fiscale" in out
    assert "3 new" in out


def test_main_py_import_lists_bad_rows_and_fails(tmp_path: Path) -> None:
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [*GOOD_CUSTOMERS, "C4,person,Bad Check,RSSMRA85T10A562X"],
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AREACLIENTI_DB": str(tmp_path / "db.sqlite"),
        "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import", "customers", str(path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_BAD_ROWS
    assert "line 5: invalid codice fiscale: wrong check character" in done.stdout
    assert "nothing written" in done.stderr
    assert "RSSMRA85T10A562X" not in done.stdout + done.stderr  # no fiscal code echoed


def test_progress_is_shown_on_a_terminal_only(tmp_path: Path) -> None:
    import pty

    path = write(tmp_path / "customers.csv", CUSTOMERS_HEADER, GOOD_CUSTOMERS)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AREACLIENTI_DB": str(tmp_path / "db.sqlite"),
        "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
    }
    command = [sys.executable, str(ROOT / "main.py"), "import", "customers", str(path)]
    main_fd, terminal_fd = pty.openpty()
    try:
        done = subprocess.run(
            command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=terminal_fd, timeout=60
        )
        os.close(terminal_fd)
        shown = b""
        while True:
            try:
                chunk = os.read(main_fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(main_fd)
    assert done.returncode == EXIT_OK
    assert b"customers.csv: 3 rows (100%)" in shown
    assert b"rows (" not in done.stdout


async def test_unreadable_rows_and_control_characters_are_bad_rows(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    huge = "x" * 200_000  # beyond the CSV reader's field limit
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [
            GOOD_CUSTOMERS[0],
            "C5,person,Nul\x00Byte,RSSMRA85T10A562S",  # line 3
            f'C6,person,"{huge}",RSSMRA85T10A562S',  # line 4
            '"C7\x07",person,Bell,RSSMRA85T10A562S',  # line 5
            'C8,person,"Maria\n  Rossi",RSSMRA85T10A562S',  # lines 6-7: a quoted line break
            *GOOD_CUSTOMERS[1:],  # lines 8-9
        ],
    )
    report = await import_file(store, "customers", path, now=clock.now(), skip_invalid=True)
    assert reasons(report) == [(3, "control"), (4, "csv"), (5, "control")]
    assert report.new == 4
    maria = await store.customers.by_code("C8")
    assert maria is not None and maria.name == "Maria Rossi"
