"""How the store writes values: moments as ISO 8601 text in UTC, codes and numbers normalised.

A leaf module (the standard library and python-stdnum only): the rest of the project imports
these from here, so the store and the code that prepares its rows agree on one form.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from stdnum.it import codicefiscale


@functools.lru_cache(maxsize=64)  # a batch of writes shares one moment: convert it once
def iso(moment: datetime) -> str:
    """The store's text form of a moment: ISO 8601 in UTC."""
    return moment.astimezone(UTC).isoformat()


def parse_iso(text: str) -> datetime:
    """The inverse of ``iso``."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def normalise_key(text: str) -> str:
    """Codes and numbers as the store keeps them: no spaces, upper case."""
    return "".join(text.split()).upper()


def compact_fiscal_code(text: str) -> str:
    """A codice fiscale or partita IVA without spaces or separators, upper case, no ``IT``."""
    code = codicefiscale.compact(text)
    if len(code) == 13 and code.startswith("IT") and code[2:].isdigit():
        code = code[2:]
    return code
