"""The fast path of a documents file stages exactly what the row-by-row check gives."""

from __future__ import annotations

import csv
import json
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
    "A-1.B_2,X.Y-Z1/M2,invoice,1900-12-31,99999999999.99,doc/x.pdf",
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
    # Identifiers the chat could never take (issue 14): the one definition refuses them both ways.
    "2024/000027,00000001/01/02,invoice,2024-01-05,1.00,",  # module 01/02
    f"2024/000028,{'1' * 21}/01,invoice,2024-01-05,1.00,",  # a 21-character contract number
    f"2024/000029,{'1' * 20}/{'2' * 11},invoice,2024-01-05,1.00,",  # an 11-character module
    "2024/000030,00000001/0_1,invoice,2024-01-05,1.00,",  # "_" in a module
    "2024/000031,0000_0001/01,invoice,2024-01-05,1.00,",  # "_" in a contract number
    "2024/000032\u200b,00000001/01,invoice,2024-01-05,1.00,",  # a zero-width space
    "2024/000033,00000001\ufeff/01,invoice,2024-01-05,1.00,",  # a byte-order mark inside
    f"{'9' * 41},00000001/01,invoice,2024-01-05,1.00,",  # a 41-character document number
    ".2024/000034,00000001/01,invoice,2024-01-05,1.00,",  # not a letter or digit first
    "2024/000035,0.00,invoice,2024-01-05,1.00,",  # good, but looks like a zero amount
    "2024/000036,00000001/01,invoice,2024-01-05,10.00,-a.pdf",  # good, a file named "-a.pdf"
    "",
]


def slow(line: str) -> tuple[Any, ...] | None:
    """The row ``bankfiles`` makes of one line, or None when it is bad."""
    try:
        fields = next(csv.reader([line]), [])
        return tuple(bankfiles.parse_document(fields, need_file=False)) if fields else None
    except (bankfiles.BadRow, csv.Error):
        return None


def staged(rows: list[Any], *, fast: bool) -> list[tuple[Any, ...]]:
    """The values the store stages from a batch's rows (``store.bulk.STAGE``: a module ""
    is a bare contract number's, the amount's digits are its cents; the file is not staged)."""
    if not fast:
        return [tuple(row[:6]) for row in rows]
    decoded = json.loads(DocumentChunks.encode(rows))
    return [(n, c, m or None, k, d, int(cents)) for n, c, m, k, d, cents in decoded]


def test_a_fast_chunk_gives_the_rows_of_the_row_by_row_check_and_any_bad_line_refuses_it() -> None:
    fast = DocumentChunks()
    for number, variant in enumerate(VARIANTS):
        line = variant if variant.endswith("\r") else variant + "\n"
        expected = slow(variant)
        got = fast([GOOD + "\n", line])
        if number < 6:  # the usual forms: the fast path takes them
            assert got is not None, variant
            assert expected is not None, variant
        if got is not None:  # so a bad line (expected None) refuses its whole chunk
            assert expected is not None, variant
            want = staged([slow(GOOD), expected], fast=False)
            assert staged(got[1], fast=True) == want, variant
            assert got[0] == [GOOD.split(",")[0], expected[0]], variant


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
            got.extend(zip(batch.lines, staged(batch.rows, fast=batch.fast), strict=True))

        await stream.apply(store.imports, prepare, at="2026-01-01", skip_invalid=True, batch=4)
        return got, stream.report.bad, stream.report.rows

    with_fast, without = await run(DocumentChunks()), await run(None)
    assert with_fast == without
    got, bad, rows_read = with_fast
    assert [(b.line, b.reason) for b in bad] == [(9, "duplicate"), (14, "date")]
    assert rows_read == 28  # the blank line is not a row
    assert (21, ("2024/Q", "00000001", "01", "invoice", "2024-01-05", 100)) in got
    assert got[-1][0] == 31
