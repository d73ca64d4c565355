"""From a line of chat to tokens the parser can reason on: words folded and typo-corrected,
numbers already told apart (a year, an amount, a contract label, a contract number).

Words go through the FAQ's own folding, multi-word phrases and chat shorthand
(``faq.analysis``), so "nota di credito", "x favore" and "e-mail" read the same here as there.
Typos are corrected the way the FAQ corrects them (OSA distance, one edit under 8 letters, two
from 8), against the parser's vocabulary and the words of the customer's own contract
descriptions ("ducatto" → "ducato").

Numbers become tagged tokens so that the word rules never mistake one for another:
``#year:2024``, ``#amount:86750`` (cents), ``#label:123456/001``, ``#contract:123456``,
``#month:3`` (from "03/2024"), ``#int:2``, ``#docnum`` (an invoice number "2024/000123": that
form belongs to the typed-number handler).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from assistant.faq.analysis import fold, join_phrases
from assistant.faq.lexicon import SHORTHAND
from assistant.requests import vocabulary as vocab

MAX_CHARS = 2000  # a long message: its start is what asks

_NUMBER = r"\d{1,3}(?:[.\s]\d{3})+(?:,\d{1,2})?|\d+[.,]\d{1,2}|\d+"
_PIECE = re.compile(
    r"(?P<docnum>\b(?:19|20)\d\d/\d{4,}\b)"
    r"|(?P<monthyear>\b(?P<mm>0?[1-9]|1[0-2])[/.-](?P<yyyy>(?:19|20)\d\d)\b)"
    r"|(?P<label>\b[a-z0-9][a-z0-9.\-]{2,19}/[a-z0-9]{1,10}\b)"  # identifiers.CONTRACT_PATTERN
    rf"|(?:€\s*(?P<euro_before>{_NUMBER}))"
    rf"|(?:(?P<euro_after>{_NUMBER})\s*(?:€|\beuros?\b|\beur\b))"
    r"|(?P<decimal>\b\d{1,3}(?:\.\d{3})+,\d{1,2}\b|\b\d+,\d{1,2}\b|\b\d+\.\d{2}\b)"
    r"|(?P<number>\b\d+\b)"
    r"|(?P<word>[a-z]+\d*[a-z0-9]*)"
)
_REPEATED = re.compile(r"([a-z])\1{2,}")
_YEAR = re.compile(r"(?:19|20)\d\d")
_MAX_EDITS_SHORT = 1  # under 8 letters
_MAX_EDITS_LONG = 2


def cents(number: str) -> int | None:
    """Cents of "867,50", "1.234,56", "867.50", "1 234", "450" (Italian and English forms)."""
    text = number.replace(" ", "")
    if "," in text:
        whole, _, fraction = text.partition(",")
        whole = whole.replace(".", "")
    elif re.fullmatch(r"\d+\.\d{1,2}", text):
        whole, _, fraction = text.partition(".")
    else:
        whole, fraction = text.replace(".", ""), ""
    if not whole.isdigit() or len(whole) > 9:
        return None
    return int(whole) * 100 + int((fraction + "00")[:2])


def raw_tokens(text: str) -> list[str]:
    """Folded words and tagged numbers, before phrases, shorthand and typo correction."""
    tokens: list[str] = []
    folded = _REPEATED.sub(r"\1", fold(text[:MAX_CHARS]))
    for match in _PIECE.finditer(folded):
        kind = match.lastgroup
        if match["label"]:
            tokens.append(f"#label:{match['label']}")
        elif match["docnum"]:
            tokens.append("#docnum")
        elif match["monthyear"]:
            tokens += [f"#month:{int(match['mm'])}", f"#year:{match['yyyy']}"]
        elif match["euro_before"] or match["euro_after"] or match["decimal"]:
            amount = cents(match["euro_before"] or match["euro_after"] or match["decimal"])
            if amount is not None:
                tokens.append(f"#amount:{amount}")
        elif match["number"]:
            digits = match["number"]
            if _YEAR.fullmatch(digits):
                tokens.append(f"#year:{digits}")
            elif 5 <= len(digits) <= 20:  # contract numbers as the bank prints them
                tokens.append(f"#contract:{digits}")
            elif len(digits) <= 4:
                tokens.append(f"#int:{int(digits)}")
        elif kind == "word":
            tokens.append(match["word"])
    return tokens


def _shorthand(tokens: Iterable[str]) -> list[str]:
    """Phrases joined ("nota di credito" → notacredito), chat shorthand expanded ("x" → per)."""
    return [SHORTHAND.get(t, t) for t in join_phrases(list(tokens))]


@lru_cache(maxsize=8192)
def _correct_to_vocabulary(token: str) -> str:
    """The parser's keyword one or two edits away, or the token itself."""
    if token in vocab.KEYWORDS or token in vocab.KNOWN or not _correctable(token):
        return token
    found = process.extractOne(
        token, _CANDIDATES, scorer=OSA.distance, score_cutoff=_max_edits(token)
    )
    return token if found is None else str(found[0])


def _correctable(token: str) -> bool:
    return 4 <= len(token) <= 24 and token.isalpha()


def _max_edits(token: str) -> int:
    return _MAX_EDITS_SHORT if len(token) < 8 else _MAX_EDITS_LONG


_CANDIDATES = sorted(w for w in vocab.KEYWORDS if len(w) >= 4 and w.isalpha())


def correct(tokens: Iterable[str], own_words: frozenset[str]) -> list[str]:
    """Typos corrected: first to the parser's vocabulary, then to the contracts' own words."""
    out: list[str] = []
    candidates = sorted(w for w in own_words if len(w) >= 4 and w.isalpha())
    for token in tokens:
        if token.startswith("#") or token in own_words:
            out.append(token)
            continue
        fixed = _correct_to_vocabulary(token)
        unknown = token not in vocab.KNOWN and token not in vocab.KEYWORDS
        if fixed == token and candidates and unknown and _correctable(token):
            found = process.extractOne(
                token, candidates, scorer=OSA.distance, score_cutoff=_max_edits(token)
            )
            fixed = token if found is None else str(found[0])
        out.append(fixed)
    return out


def read(text: str, own_words: frozenset[str] = frozenset()) -> list[str]:
    """The tokens of one line: folded, numbers tagged, phrases joined, typos corrected."""
    first = _shorthand(raw_tokens(text))
    return _shorthand(correct(first, own_words))


@lru_cache(maxsize=1024)
def description_words(description: str) -> frozenset[str]:
    """The words of a contract's description a customer may call it by ("ducato", "a4")."""
    return frozenset(
        w
        for w in re.findall(r"[a-z]+\d*[a-z0-9]*", fold(description))
        if len(w) >= 2 and w not in vocab.FILLERS and w not in vocab.KEYWORDS
    )
