"""Which month and year a line names: "febbraio 2021", "marzo", "03/2024", "il mese scorso",
"dell'anno scorso", "last month", "two years ago", "le fatture del 2023".

A month without a year leaves the year None: "la fattura di marzo" is the most recent March with
documents, which only the store knows. Relative periods are counted from ``today``, given by the
caller (the parser reads no clock).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from assistant.requests import vocabulary as vocab

_PRONOUNS = frozenset({"i", "we", "you"})  # "may I have": not the month


@dataclass
class Period:
    """The month and year found, and the token positions they used up."""

    year: int | None = None
    month: int | None = None
    used: set[int] = field(default_factory=set)


def _month_back(today: date, months: int) -> tuple[int, int]:
    """(year, month) ``months`` months before today's."""
    index = today.year * 12 + today.month - 1 - months
    return index // 12, index % 12 + 1


def _count(token: str) -> int | None:
    """The number a token says ("#int:2", "due", "two"), or None."""
    if token.startswith("#int:"):
        return int(token[5:])
    return vocab.NUMBER_WORDS.get(token)


def find_period(tokens: list[str], today: date) -> Period:
    """Year and month named by the tokens (None when not said), relative ones resolved."""
    found = Period()
    for i, token in enumerate(tokens):
        before = tokens[i - 1] if i > 0 else ""
        after = tokens[i + 1] if i + 1 < len(tokens) else ""
        if token in vocab.MONTH_WORD or token in vocab.YEAR_WORD:
            is_month = token in vocab.MONTH_WORD
            singular = token in vocab.SINGULAR_PERIOD  # "anni passati" is no one year
            if singular and (before in vocab.PREVIOUS or after in vocab.PREVIOUS):
                back = 1
            elif singular and (before in vocab.CURRENT or after in vocab.CURRENT):
                back = 0
            elif after in vocab.AGO and _count(before) is not None:
                back = _count(before) or 0
            else:
                continue
            if is_month:
                found.year, found.month = _month_back(today, back)
            else:
                found.year = today.year - back
            found.used |= {i - 1, i, i + 1}
        elif token.startswith("#year:") and found.year is None:
            found.year = int(token[6:])
            found.used.add(i)
        elif token.startswith("#month:") and found.month is None:
            found.month = int(token[7:])
            found.used.add(i)
        elif token in vocab.MONTHS and found.month is None:
            if token == "may" and after in _PRONOUNS:
                continue
            found.month = vocab.MONTHS[token]
            found.used.add(i)
            if after in vocab.PREVIOUS:  # "dicembre scorso": the most recent December
                found.used.add(i + 1)
        elif token in vocab.MONTHS_SHORT and after.startswith("#year:") and found.month is None:
            found.month = vocab.MONTHS_SHORT[token]
            found.used.add(i)
    return found
