"""Which of the customer's contracts a line names: by label ("123456/001"), by number ("123456":
all its modules), or by words of the description ("del Ducato", "del tornio", "the van").

Only ids from the ``contracts`` given can come out of here: a label or number that is not among
them (another customer's, a typo) is reported as "named but not found", never looked up further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.requests import vocabulary as vocab
from assistant.requests.model import ContractFacts
from assistant.requests.reading import description_words


@dataclass(frozen=True)
class ContractMention:
    """The contracts the words named, and whether a named one was not the customer's."""

    ids: tuple[int, ...] = ()
    not_found: bool = False
    used: frozenset[int] = frozenset()  # token positions that named them


def own_words(contracts: Sequence[ContractFacts]) -> frozenset[str]:
    """Every word of the customer's contract descriptions (typo correction aims at these too)."""
    found: set[str] = set()
    for contract in contracts:
        found |= description_words(contract.description)
    return frozenset(found)


def find_contracts(tokens: list[str], contracts: Sequence[ContractFacts]) -> ContractMention:
    """The customer's contracts named by label, number or description words."""
    named: list[int] = []
    used: set[int] = set()
    not_found = False
    by_words = [(c.id, description_words(c.description)) for c in contracts]
    hits: dict[int, int] = {}  # contract id → description words named
    for i, token in enumerate(tokens):
        if token.startswith("#label:"):
            ids = [c.id for c in contracts if c.label.lower() == token[7:]]
        elif token.startswith("#contract:"):
            ids = [c.id for c in contracts if c.label.split("/")[0].lower() == token[10:]]
        else:
            word = vocab.ASSET_SYNONYMS.get(token, token)
            if word in vocab.FILLERS:
                continue
            matched = [cid for cid, words in by_words if word in words]
            for cid in matched:
                hits[cid] = hits.get(cid, 0) + 1
            if matched:
                used.add(i)
            continue
        if ids:
            named += [cid for cid in ids if cid not in named]
            used.add(i)
        else:
            not_found = True
    if hits:  # "Audi A4": the contracts that match most of the words named
        best = max(hits.values())
        named += [cid for cid, n in hits.items() if n == best and cid not in named]
    ordered = tuple(c.id for c in contracts if c.id in named)  # as the caller listed them
    return ContractMention(ordered, not_found and not named, frozenset(used))
