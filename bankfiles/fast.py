"""The fast path of a bank file: a chunk of lines all in the usual form, checked in C.

A chunk qualifies when every one of its lines matches the file's strict pattern (no quotes,
no spaces, upper-case keys of the identifiers' own shapes, ``1234.56`` amounts, ``YYYY-MM-DD``
dates). Its rows are then the pattern's groups, one tuple per line, and ``encode`` writes them
as the JSON the store stages, with ``str.format`` in C: exactly the values
``bankfiles.parse_*`` gives for those lines, a bare contract's module as ``""`` and the amount
as its digits (a test compares the two). Any other chunk returns None and goes through the csv
reader and ``bankfiles`` line by line, which find the reason of each bad row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from itertools import starmap
from operator import itemgetter
from typing import Any

from assistant.identifiers import CODE_PATTERN, CONTRACT_PATTERN, MODULE_PATTERN
from bankfiles.rows import BadRow, parse_date

logger = logging.getLogger(__name__)

# What a fast chunk gives: the rows' keys (for duplicates) and the rows, one per line.
FastRows = tuple[Sequence[Any], list[tuple[Any, ...]]]
FastParse = Callable[[list[str]], FastRows | None]

# The identifiers as ``normalise_key`` leaves them (the chat's definitions, one place).
_DOCUMENT_LINE = re.compile(
    rf"^({CODE_PATTERN}),({CONTRACT_PATTERN})(?:/({MODULE_PATTERN}))?,(invoice|credit_note),"
    r"((?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}),(-?)([0-9]{1,11})\.([0-9]{2}),([^\s,\"\x00]*)\r?$",
    re.ASCII | re.MULTILINE,
)
# Within lines that all match it, the slow path's other reasons: a zero amount, a negative
# invoice (may also match a contract number "0.00": the slow path then reads that chunk).
_ZERO_AMOUNT = re.compile(r",-?0+\.00,")
_NEGATIVE_INVOICE = re.compile(r",invoice,[^,]*,-")
# number, contract, module ("" when bare), type, date, cents (digits: whole and fraction).
_ROW_JSON = '["{0}","{1}","{2}","{3}","{4}","{6}{7}"]'.format  # the groups need no escaping


class DocumentChunks:
    """The fast path of a documents manifest read for its metadata (``need_file=False``)."""

    def __init__(self) -> None:
        self.good_dates: set[str] = set()  # dates already checked

    def __call__(self, lines: list[str]) -> FastRows | None:
        """The number and groups of each line of ``lines``, or None."""
        text = "".join(lines)
        found = _DOCUMENT_LINE.findall(text)
        if len(found) != len(lines):
            return None
        if not self._dates_ok(set(map(itemgetter(4), found))):
            return None
        if _NEGATIVE_INVOICE.search(text) or _ZERO_AMOUNT.search(text):
            return None  # "negative invoice", "amount is zero": the slow path reports them
        return list(map(itemgetter(0), found)), found

    @staticmethod
    def encode(rows: Iterable[tuple[str, ...]]) -> str:
        """The JSON array the store stages for rows this path gave (``store.bulk.STAGE``)."""
        return f"[{','.join(starmap(_ROW_JSON, rows))}]"

    def _dates_ok(self, dates: set[str]) -> bool:
        new = dates - self.good_dates
        for value in new:
            try:
                parse_date(value, "issue_date")
            except BadRow:
                return False
        self.good_dates |= new
        return True
