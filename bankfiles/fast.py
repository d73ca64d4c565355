"""The fast path of a bank file: a chunk of lines all in the usual form, checked in C.

A chunk qualifies when every one of its lines matches the file's strict pattern (no quotes,
no spaces, upper-case keys, ``1234.56`` amounts, ``YYYY-MM-DD`` dates); its rows are then
exactly what ``bankfiles.parse_*`` would return for those lines (a test compares the two),
built with ``re.findall``, ``zip`` and ``map`` instead of per-row Python code. Any other
chunk returns None and goes through the csv reader and ``bankfiles`` line by line, which
find the reason of each bad row.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from operator import add
from typing import Any

from bankfiles.rows import BadRow, parse_date

logger = logging.getLogger(__name__)

# What a fast chunk gives: the rows' keys (for duplicates) and the rows, one per line.
FastRows = tuple[Sequence[Any], list[tuple[Any, ...]]]
FastParse = Callable[[list[str]], FastRows | None]

_KEY = "[A-Z0-9._-]"  # a code or number that ``normalise_key`` leaves as it is
_NUMBER = "[A-Z0-9./_-]"  # a document number may hold slashes too
_DOCUMENT_LINE = re.compile(
    rf"^({_NUMBER}{{1,300}}),({_KEY}{{1,100}})(?:/({_KEY}{{1,100}}))?,(invoice|credit_note),"
    r"((?:19|20)[0-9]{2}-[0-9]{2}-[0-9]{2}),(-?)([0-9]{1,11})\.([0-9]{2}),([^\s,\"\x00]*)\r?$",
    re.ASCII | re.MULTILINE,
)


class DocumentChunks:
    """The fast path of a documents manifest read for its metadata (``need_file=False``)."""

    def __init__(self) -> None:
        self.good_dates: set[str] = set()  # dates already checked

    def __call__(self, lines: list[str]) -> FastRows | None:
        """The rows of ``lines`` (as ``parse_document(need_file=False)`` makes them), or None."""
        found = _DOCUMENT_LINE.findall("".join(lines))
        if len(found) != len(lines):
            return None
        numbers, contracts, modules, kinds, dates, signs, wholes, fractions, files = zip(
            *found, strict=True
        )
        if not self._dates_ok(dates):
            return None
        if "-" in signs and ("invoice", "-") in set(zip(kinds, signs, strict=True)):
            return None  # a negative invoice: the slow path reports it
        if "" in modules:  # a bare contract number names the contract's only module
            modules = tuple(module or None for module in modules)
        cents = list(map(int, map(add, wholes, fractions)))  # credit notes too: positive
        if 0 in cents:
            return None  # "amount is zero": the slow path reports it
        return numbers, list(
            zip(numbers, contracts, modules, kinds, dates, cents, files, strict=True)
        )

    def _dates_ok(self, dates: Sequence[str]) -> bool:
        new = set(dates) - self.good_dates
        for value in new:
            try:
                parse_date(value, "issue_date")
            except BadRow:
                return False
        self.good_dates |= new
        return True
