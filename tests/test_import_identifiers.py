"""The bank's files and the chat share one definition of each identifier (issue 14, point 14):
the import refuses what a customer could never type, control and invisible characters in every
identifier, and a file in another encoding as a whole, saying which."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import identifiers
from assistant.clock import ManualClock
from assistant.errors import ValidationError
from bankfiles.importer import EXIT_UNUSABLE, import_file
from store.store import Store

ROOT = Path(__file__).resolve().parent.parent
CUSTOMERS_HEADER = "customer_code,kind,name,fiscal_code"
CONTRACTS_HEADER = (
    "contract_number,module_number,customer_code,status,description,start_date,end_date,"
    "periodic_fee"
)
FISCAL_CODE = "RSSMRA85T10A562S"


def write(path: Path, header: str, rows: list[str]) -> Path:
    """A bank file: the header, then one line per row."""
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def reasons(report: object) -> list[tuple[int, str]]:
    """(line, reason) of every bad row."""
    return [(bad.line, bad.reason) for bad in report.bad]  # type: ignore[attr-defined]


async def test_invisible_and_control_characters_never_make_a_second_customer(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [
            f"T1,person,Mario Rossi,{FISCAL_CODE}",  # line 2
            f"T1\u200b,person,Mario Rossi,{FISCAL_CODE}",  # 3 a zero-width space
            f"T\ufeff1,person,Mario Rossi,{FISCAL_CODE}",  # 4 a byte-order mark inside
            f"\u202eT2,person,Mario Rossi,{FISCAL_CODE}",  # 5 a bidirectional override
            f"T\x1f3,person,Mario Rossi,{FISCAL_CODE}",  # 6 a control character (was dropped)
            "T4,person,Mario Rossi,RSSMRA85T10A\u200b562S",  # 7 in the fiscal code too
            f"T\u20285,person,Mario Rossi,{FISCAL_CODE}",  # 8 a line separator inside
            f"{'T' * 41},person,Mario Rossi,{FISCAL_CODE}",  # 9 longer than a code may be
        ],
    )
    report = await import_file(store, "customers", path, now=clock.now(), skip_invalid=True)
    assert reasons(report) == [
        (3, "invisible"),
        (4, "invisible"),
        (5, "invisible"),
        (6, "control"),
        (7, "invisible"),
        (8, "invisible"),
        (9, "customer_code"),
    ]
    assert "U+200B" in report.bad[0].detail and "U+001F" in report.bad[3].detail
    assert await store.customers.count() == 1  # T1 only: no look-alike beside it


async def test_contract_and_module_numbers_are_what_a_customer_can_type(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    customers = write(tmp_path / "c.csv", CUSTOMERS_HEADER, [f"C1,person,Mario,{FISCAL_CODE}"])
    assert (await import_file(store, "customers", customers, now=clock.now())).written
    contract = "1000001,{},C1,active,Fiat Panda,2020-01-01,,450.00"
    path = write(
        tmp_path / "contracts.csv",
        CONTRACTS_HEADER,
        [
            contract.format("01"),  # line 2: good
            "1000002,01/02,C1,active,Fiat Panda,2020-01-01,,450.00",  # 3 a module 01/02
            f"{'1' * 300},01,C1,active,Fiat Panda,2020-01-01,,450.00",  # 4 300 characters
            f"{'2' * 21},01,C1,active,Fiat Panda,2020-01-01,,450.00",  # 5 21 characters
            f"{'3' * 20},{'4' * 11},C1,active,Fiat Panda,2020-01-01,,450.00",  # 6 a long module
            "1000_003,01,C1,active,Fiat Panda,2020-01-01,,450.00",  # 7 "_" is not typeable
            "1000004,0\u200b1,C1,active,Fiat Panda,2020-01-01,,450.00",  # 8 invisible
            f"{'5' * 20},{'6' * 10},C1,active,Fiat Panda,2020-01-01,,450.00",  # 9 longest: good
        ],
    )
    report = await import_file(store, "contracts", path, now=clock.now(), skip_invalid=True)
    assert reasons(report) == [
        (3, "module_number"),
        (4, "contract_number"),
        (5, "contract_number"),
        (6, "module_number"),
        (7, "contract_number"),
        (8, "invisible"),
    ]
    for number, module in (("1000001", "01"), ("5" * 20, "6" * 10)):
        stored = await store.contracts.by_number(number, module)
        assert stored is not None
        typed = identifiers.contract_and_module(f"{stored.contract_number}/{stored.module_number}")
        assert typed == (number, module)  # the chat takes what the bank loaded
    for refused in ("1000002/01/02", "1" * 300):
        with pytest.raises(ValidationError):
            identifiers.contract_and_module(refused)  # and refuses what the bank refused


@pytest.mark.parametrize(
    ("encoding", "named"),
    [
        ("utf-16", "UTF-16"),  # with its byte-order mark, as Excel's "Unicode text" saves it
        ("utf-16-be", "UTF-16 or UTF-32"),  # without one: NUL bytes in the header
        ("utf-16-le", "UTF-16 or UTF-32"),
        ("utf-32", "UTF-32"),
    ],
)
def test_a_file_in_another_encoding_is_refused_naming_it(
    tmp_path: Path, encoding: str, named: str
) -> None:
    path = tmp_path / "customers.csv"
    path.write_text(f"{CUSTOMERS_HEADER}\nC1,person,Mario,{FISCAL_CODE}\n", encoding=encoding)
    env = {
        "PATH": os.environ.get("PATH", ""),
        "AREACLIENTI_DB": str(tmp_path / "db.sqlite"),
        "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
    }
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "import", "customers", str(path)],
        cwd=tmp_path, env=env, capture_output=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == EXIT_UNUSABLE
    err = done.stderr.decode()
    assert f"customers.csv: the {'header holds NUL bytes' if ' or ' in named else 'file is'}" in err
    assert named in err and "save it as UTF-8" in err
    assert b"\x00" not in done.stdout + done.stderr and "\\x00" not in err
    assert "expected the columns" not in err  # not reported as a wrong header


async def test_a_nul_byte_inside_a_row_is_still_a_bad_row(
    store: Store, tmp_path: Path, clock: ManualClock
) -> None:
    path = write(
        tmp_path / "customers.csv",
        CUSTOMERS_HEADER,
        [f"C1,person,Mario,{FISCAL_CODE}", f"C2,person,Nul\x00Byte,{FISCAL_CODE}"],
    )
    report = await import_file(store, "customers", path, now=clock.now(), skip_invalid=True)
    assert reasons(report) == [(3, "control")]
    assert report.new == 1
