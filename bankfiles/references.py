"""The customers and contracts a bank file refers to: rows naming unknown ones are rejected.

Checked per batch on the distinct references only (a file names the same contract many times),
with the answers cached across batches. The rows that pass keep their codes and numbers: the
store joins them to ids as it writes (``store.bulk``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from bankfiles.rows import BadRow
from bankfiles.rowstream import Batch, RowStream
from store.bulk import Lookups

logger = logging.getLogger(__name__)

MAX_CACHED = 1_000_000
Check = Callable[[Iterable[Any]], dict[Any, BadRow | None]]


class References:
    """Checks a stream's references through the store's read-only ``Lookups``."""

    def __init__(self, lookups: Lookups, stream: RowStream) -> None:
        self.lookups = lookups
        self.stream = stream
        self.checked: set[Any] = set()  # references looked up already, good or bad
        self.bad: dict[Any, BadRow] = {}  # the bad ones and why

    def customers(self, batch: Batch) -> Batch:
        """The rows whose customer code exists; the others are rejected."""
        return self._keep(batch, _CUSTOMER, self._check_customers)

    def contracts(self, batch: Batch) -> Batch:
        """The rows naming exactly one existing contract; the others are rejected."""
        return self._keep(batch, _CONTRACT, self._check_contracts)

    def _keep(self, batch: Batch, key: Callable[[Any], Any], check: Check) -> Batch:
        wanted = set(map(key, batch.rows))
        unchecked = wanted - self.checked
        if unchecked:
            if len(self.checked) > MAX_CACHED:
                self.checked.clear()
            self.checked |= unchecked
            self.bad.update((ref, bad) for ref, bad in check(unchecked).items() if bad)
        if not self.bad or wanted.isdisjoint(self.bad):
            return batch
        kept = Batch([], [], batch.fast)
        for line, row in zip(batch.lines, batch.rows, strict=True):
            problem = self.bad.get(key(row))
            if problem is None:
                kept.lines.append(line)
                kept.rows.append(row)
            else:
                self.stream.reject(line, problem)
        return kept

    def _check_customers(self, codes: Iterable[str]) -> dict[Any, BadRow | None]:
        codes = list(codes)
        found = self.lookups.customer_ids(codes)
        return {code: None if code in found else _unknown("customer", code) for code in codes}

    def _check_contracts(
        self, references: Iterable[tuple[str, str | None]]
    ) -> dict[Any, BadRow | None]:
        references = list(references)  # a bare number's module is None, or "" (the fast path)
        pairs = [(number, module) for number, module in references if module]
        bare = [reference for reference in references if not reference[1]]
        found = self.lookups.contract_ids(pairs) if pairs else {}
        modules = self.lookups.contracts_by_number([n for n, _ in bare]) if bare else {}
        checked: dict[Any, BadRow | None] = {
            pair: None if pair in found else _unknown("contract", "/".join(pair)) for pair in pairs
        }
        for reference in bare:
            checked[reference] = _only(reference[0], len(modules.get(reference[0], [])))
        return checked


def _unknown(what: str, key: str) -> BadRow:
    return BadRow(f"unknown_{what}", f"unknown {what} {key[:40]!r}")


def _only(number: str, modules: int) -> BadRow | None:
    if modules == 1:
        return None
    if not modules:
        return _unknown("contract", number)
    return BadRow(
        "ambiguous_contract",
        f"contract {number[:40]!r} has {modules} modules: write CONTRACT/MODULE",
    )


# By position: rows are NamedTuples (ContractRow, DocumentRow) or tuples with the same first
# fields (the fast path's groups: number, contract, module).
_CUSTOMER = itemgetter(2)  # ContractRow.customer_code
_CONTRACT = itemgetter(1, 2)  # DocumentRow.contract_number, module_number
