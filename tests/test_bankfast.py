"""The fast path of a documents file gives exactly what the row-by-row check gives."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from bankfiles import rows as bankfiles
from bankfiles.fast import DocumentChunks
from bankfiles.rowstream import Batch, RowStream
from store.store import Store

HEADER = ",".join(bankfiles.MANIFEST_COLUMNS)
GOOD = "2024/000001,00000001/01,invoice,2024-01-05,100.00,"
VARIANTS = [
    GOOD,
    "2024/000002,00000001/01,credit_note,2024-02-29,0012.50,a.pdf",
    "A-1.B_2,X.Y_Z-1/M-2,invoice,1900-12-31,99999999999.99,doc/x.pdf",
    "2024/000003,00000001/01,invoice,2024-01-05,100.00,\r",
    "2024/000007,00000001/01,credit_note,2024-01-05,-1.00,",  # negative credit note
    "2024/000008,00000001,invoice,2024-01-05,1.00,",  # bare contract number
    "2024/000004,00000001/01,invoice,2023-02-29,100.00,",  # no such day
    "2024/000005,00000001/01,invoice,2024-01-05,0.00,",  # zero
    "2024/000006,00000001/01,invoice,2024-01-05,-1.00,",  # negative invoice
    "2024/000026,00000001/01,credit_note,2024-01-05,-0.00,",  # zero credit note
    "2024/000009,00000001/,invoice,2024-01-05,1.00,",  # no module
    "2024/00001o,00000001/01,invoice,2024-01-05,1.00,",  # lower case
    " 2024/000011,00000001/01,invoice,2024-01-05,1.00,",  # spaces
    "2024/000012,00000001/01,Invoice,2024-01-05,1.00,",
    "2024/000013,00000001/01,invoice,2024-1-05,1.00,",
    "2024/000014,00000001/01,invoice,2024-01-05,1.5,",
    "2024/000015,00000001/01,invoice,2024-01-05,1,000.00,",
    "2024/000016,00000001/01,invoice,2024-01-05,1.00,x,y",
    "2024/000017,00000001/01,invoice,2024-01-05,1.00",
    '2024/000018,00000001/01,invoice,2024-01-05,1.00,"q"',
    "2024/000019,00000001/01,invoice,2024-01-05,1.00,a b",
    "2024/000020,00000001/01,invoice,2024-01-05,1\u0663.00,",  # an Arabic-Indic digit
    "2024/000021,00000001/01,invoice,2024-01-05,1.00,\ufffd",
    "2024/000022,0000\ufffd/01,invoice,2024-01-05,1.00,",
    "2024/000023,00000001/01,invoice,2024-01-05,1.00,nul\x00",
    "2024/000024,A/B/C,invoice,2024-01-05,1.00,",
    "2024/000025,00000001/01,invoice,2199-01-05,1.00,",
    "",
]


def slow(line: str) -> tuple[Any, ...] | None:
    """The row ``bankfiles`` makes of one line, or None when it is bad."""
    try:
        fields = next(csv.reader([line]), [])
        return tuple(bankfiles.parse_document(fields, need_file=False)) if fields else None
    except (bankfiles.BadRow, csv.Error):
        return None


def test_a_fast_chunk_gives_the_rows_of_the_row_by_row_check_and_any_bad_line_refuses_it() -> None:
    fast = DocumentChunks()
    for number, variant in enumerate(VARIANTS):
        line = variant if variant.endswith("\r") else variant + "\n"
        expected = slow(variant)
        got = fast([GOOD + "\n", line])
        if number < 6:  # the usual forms: the fast path takes them
            assert got is not None, variant
        if got is not None:  # so a bad line (expected None) refuses its whole chunk
            assert got[1] == [slow(GOOD), expected], variant


async def test_a_file_read_in_small_chunks_gives_the_same_report_with_and_without_the_fast_path(
    store: Store, tmp_path: Path
) -> None:
    rows = [f"2024/{i:06d},00000001/01,invoice,2024-01-05,1{i}.00," for i in range(1, 30)]
    rows[7] = rows[2]  # a duplicate in another chunk (line 9 repeats line 4)
    rows[12] = "2024/X,00000001/01,invoice,2024-02-30,1.00,"  # line 14: no such day
    rows[15] = ""  # line 17: blank
    rows[19] = '2024/Q,00000001/01,invoice,2024-01-05,1.00,"a\nb"'  # lines 21-22: quoted newline
    path = tmp_path / "documents.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")

    async def run(fast: DocumentChunks | None) -> tuple[list[Any], list[Any], int]:
        stream = RowStream(
            path,
            bankfiles.MANIFEST_COLUMNS,
            lambda fields: bankfiles.parse_document(fields, need_file=False),
            "documents",
            fast=fast,
        )
        got: list[tuple[int, tuple[Any, ...]]] = []

        async def prepare(batch: Batch) -> None:
            got.extend(zip(batch.lines, map(tuple, batch.rows), strict=True))

        await stream.apply(store.imports, prepare, skip_invalid=True, batch=4)
        return got, stream.report.bad, stream.report.rows

    with_fast, without = await run(DocumentChunks()), await run(None)
    assert with_fast == without
    got, bad, rows_read = with_fast
    assert [(b.line, b.reason) for b in bad] == [(9, "duplicate"), (14, "date")]
    assert rows_read == 28  # the blank line is not a row
    assert (21, ("2024/Q", "00000001", "01", "invoice", "2024-01-05", 100, "a\nb")) in got
    assert got[-1][0] == 31
