"""A line of chat and the customer's contracts → the request it makes, or None.

    parse_request("mandami l'ultima fattura", contracts, today)
        → Understanding(DocumentRequest(kind="invoice", latest=True))

Pure: no I/O, no clock (``today`` is given), no store; the only contract ids it returns are
those of ``contracts``. The reading is in ``reading`` (folding, numbers, typos), the period in
``periods``, the contracts named in ``contracts``; this module decides:

1. Nothing, an invoice number ("fattura 2024/000123": the typed-number handler's), or no
   document / contract / communication word (or fee question) → None.
2. A document word wins over the others ("la fattura del contratto 123456"), then a
   communication word, then contracts.
3. A line about how the service works (the FAQ's business: "come scarico le fatture?",
   "le fatture cartacee arrivano ancora?") is no request when it names no concrete document, and
   a request with ``confident=False`` when it does ("non capisco come scaricare la fattura di
   marzo"): the caller then asks which one was meant if the FAQ also has an answer.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from itertools import pairwise
from typing import Literal

from assistant.faq import lexicon
from assistant.requests import vocabulary as vocab
from assistant.requests.contracts import ContractMention, find_contracts, own_words
from assistant.requests.model import (
    CommunicationRequest,
    ContractFacts,
    ContractRequest,
    DocumentKind,
    DocumentRequest,
    Understanding,
)
from assistant.requests.periods import Period, find_period
from assistant.requests.reading import read


def parse_request(
    text: str, contracts: Sequence[ContractFacts], today: date
) -> Understanding | None:
    """The request ``text`` makes about the customer's own data, or None if it makes none."""
    if not isinstance(text, str) or not text.strip() or text.lstrip().startswith("/"):
        return None  # nothing, or a command ("/fatture 2023"): the dispatcher's
    tokens = read(text, own_words(contracts))
    words = set(tokens)
    if not tokens or "#docnum" in words:
        return None
    names_year = any(t.startswith("#year:") for t in tokens)
    if words & vocab.DOCUMENT or (names_year and words & vocab.WHOLE_YEAR_STRONG):
        return _document(tokens, contracts, today)
    if words & vocab.COMMUNICATION:
        return _communication(tokens)
    if words & vocab.CONTRACT or _asks_fee(tokens):
        return _contract(tokens, contracts)
    return None


def _pairs(tokens: list[str]) -> set[tuple[str, str]]:
    """Every two neighbouring tokens ("non", "lette")."""
    return set(pairwise(tokens))


def _asks_fee(tokens: list[str]) -> bool:
    """ "canone", "rata", "quanto pago", "how much do I pay"."""
    words = set(tokens)
    qualified = any(a in vocab.FEE_QUALIFIERS and b in vocab.PAY for a, b in _pairs(tokens))
    how_much = bool(words & vocab.HOW_MUCH and words & vocab.PAY)
    return bool(words & vocab.FEE) or how_much or qualified


def _kind(words: set[str]) -> DocumentKind | None:
    """Invoices, credit notes, or (both or "documenti") either."""
    invoice = bool(words & vocab.INVOICE)
    credit = bool(words & vocab.CREDIT_NOTE)
    if invoice and not credit:
        return "invoice"
    if credit and not invoice:
        return "credit_note"
    return None


def _amount(tokens: list[str], period: Period) -> int | None:
    """Cents of "da 867,50", "€ 867.50", "867,5 euro", or of a plain number after "da"."""
    for i, token in enumerate(tokens):
        if token.startswith("#amount:"):
            return int(token[8:])
        after_da = i > 0 and tokens[i - 1] in {"da", "from"}
        if token.startswith("#int:") and after_da and i not in period.used:
            return int(token[5:]) * 100
    return None


def _latest(tokens: list[str], period: Period) -> bool:
    """ "l'ultima fattura", "the latest invoice" (not "le ultime fatture", not "last month")."""
    for i, token in enumerate(tokens):
        if i in period.used:
            continue
        if token in vocab.LATEST:
            return True
        if token == "piu" and i + 1 < len(tokens) and tokens[i + 1] == "recente":
            return True
        if token == "most" and i + 1 < len(tokens) and tokens[i + 1] == "recent":
            return True
    return False


def _how_to(tokens: list[str], asks: bool) -> bool:
    """A question about how the service works rather than a request ("how much" is not one)."""
    following = [*tokens[1:], ""]
    words = {t for t, after in zip(tokens, following, strict=True) if (t, after) != ("how", "much")}
    return (
        bool(words & vocab.HOW_TO_STRONG)
        or bool(_pairs(tokens) & _ASKING_THE_SERVICE)
        or (not asks and bool(words & vocab.HOW_TO_WEAK))
    )


# "do you show...", "is there...": questions put to the service, not requests for a document
# "what is a...", "cosa vuol dire", "cosa si intende": what a word means, not a request
_ASKING_THE_SERVICE = {
    ("do", "you"),
    ("is", "there"),
    ("are", "there"),
    ("does", "it"),
    ("is", "a"),
    ("is", "an"),
    ("vuol", "dire"),
    ("si", "intende"),
}


def _document(
    tokens: list[str], contracts: Sequence[ContractFacts], today: date
) -> Understanding | None:
    """Invoices / credit notes: the filters said, and how sure it is a request at all."""
    words = set(tokens)
    period = find_period(tokens, today)
    mention = _with_status(find_contracts(tokens, contracts), tokens, contracts)
    amount = _amount(tokens, period)
    latest = _latest(tokens, period)
    concrete = (
        latest
        or period.year is not None
        or period.month is not None
        or bool(mention.ids)
        or mention.not_found
        or amount is not None
    )
    asks = bool(words & (vocab.REQUEST_VERBS | vocab.POSSESSIVE | vocab.RECENT_ONES))
    service_question = (
        bool(words & (vocab.FAQ_TOPICS | vocab.DOCUMENT_ONLY_TOPICS))
        or _how_to(tokens, bool(words & vocab.REQUEST_VERBS))
        or bool(words & vocab.WHEN)
    )
    if service_question and not concrete:
        return None
    if not concrete and not asks and not _bare(tokens, mention) and not _names_a_thing(tokens):
        return None
    request = DocumentRequest(
        kind=_kind(words),
        year=period.year,
        month=period.month,
        contract_ids=mention.ids,
        amount_cents=amount,
        latest=latest,
        whole_year=period.year is not None and bool(words & vocab.WHOLE_YEAR),
        contract_not_found=mention.not_found,
    )
    return Understanding(request, confident=not service_question)


def _with_status(
    mention: ContractMention, tokens: list[str], contracts: Sequence[ContractFacts]
) -> ContractMention:
    """The contracts named, or, for "le fatture dei contratti estinti", those of that status."""
    if mention.ids or mention.not_found or not set(tokens) & vocab.CONTRACT:
        return mention
    status = _status(set(tokens), _pairs(tokens))
    if status is None:
        return mention
    ids = tuple(c.id for c in contracts if c.status == status)
    return ContractMention(ids, not_found=not ids)


def _status(words: set[str], pairs: set[tuple[str, str]]) -> Literal["active", "terminated"] | None:
    """Active ("attivi", "in corso") or terminated ("estinti", "closed"), when said."""
    active = bool(words & vocab.ACTIVE or pairs & set(vocab.ACTIVE_PHRASES))
    terminated = bool(words & vocab.ENDED_OR_STATUS_TERMINATED)
    if active == terminated:  # neither, or both ("attivi ed estinti": all of them)
        return None
    return "active" if active else "terminated"


_OF = frozenset({"del", "della", "dello", "dell", "dei", "degli", "delle", "the"})


def _names_a_thing(tokens: list[str]) -> bool:
    """ "la fattura del Ducato" with no such contract (or none known, as in the mailbox): a
    request all the same, for a thing the parser cannot name."""
    return any(before in _OF and _unknown_thing(word) for before, word in pairwise(tokens))


def _unknown_thing(word: str) -> bool:
    """A word that may name an asset: "muletto", "van", "Q3", a brand the parser never heard of."""
    if word in vocab.ASSET_SYNONYMS:
        return True
    return (
        word.isalnum()
        and not word.isdigit()
        and not word.startswith("#")
        and len(word) >= 2
        and word not in vocab.KEYWORDS
        and word not in vocab.KNOWN
        and word not in vocab.FILLERS
    )


def _bare(tokens: list[str], mention: ContractMention) -> bool:
    """Only document words and courtesy: "fatture", "le note di credito per favore" (but
    "grazie per la fattura" thanks for one, it asks for none)."""
    if any(t in lexicon.THANKS_WORDS for t in tokens):
        return False
    return all(
        t in vocab.DOCUMENT or t in vocab.FILLERS or i in mention.used for i, t in enumerate(tokens)
    )


def _communication(tokens: list[str]) -> Understanding | None:
    """The newest or the unread communications; questions about receiving them are the FAQ's."""
    words = set(tokens)
    pairs = _pairs(tokens)
    if words & vocab.FAQ_TOPICS or words & vocab.HOW_TO_STRONG:
        return None
    unread = bool(words & vocab.UNREAD) or any(
        (a in {"non", "da"} and b in vocab.READ_WORDS) for a, b in pairs
    )
    if unread:
        return Understanding(CommunicationRequest("unread"))
    asks = words & (vocab.REQUEST_VERBS | vocab.POSSESSIVE)
    thanks = any(t in lexicon.THANKS_WORDS for t in tokens)  # "grazie per la comunicazione"
    bare = not thanks and all(t in vocab.COMMUNICATION or t in vocab.FILLERS for t in tokens)
    if _latest(tokens, Period()) or asks or bare:  # "le mie comunicazioni": the newest first
        return Understanding(CommunicationRequest("latest"))
    return None


def _contract(tokens: list[str], contracts: Sequence[ContractFacts]) -> Understanding | None:
    """Fee, start, end or the list; never for questions about contracts in general."""
    words = set(tokens)
    if words & (vocab.FAQ_TOPICS | vocab.CONTRACT_ONLY_TOPICS):
        return None
    if _how_to(tokens, asks=bool(words & vocab.REQUEST_VERBS)):
        return None
    mention = find_contracts(tokens, contracts)
    asks_when = bool(words & vocab.WHEN) or "data" in words or "date" in words
    what: Literal["started", "ended", "fee"]
    if _asks_fee(tokens):
        what = "fee"
    elif words & vocab.STARTED:
        what = "started"
    elif words & vocab.ENDS or (asks_when and words & vocab.ENDED_OR_STATUS_TERMINATED):
        what = "ended"
    else:
        return _contract_list(tokens, mention)
    return Understanding(
        ContractRequest(what, contract_ids=mention.ids, contract_not_found=mention.not_found)
    )


def _contract_list(tokens: list[str], mention: ContractMention) -> Understanding | None:
    """ "quali contratti ho attivi", "contratti estinti", "my active leases"."""
    words = set(tokens)
    pairs = _pairs(tokens)
    if words & vocab.WHEN:
        return None
    status = _status(words, pairs)
    asks = words & (vocab.REQUEST_VERBS | vocab.POSSESSIVE | vocab.LIST_WORDS)
    if status is None and not asks and not _bare_contracts(tokens):
        return None
    request = ContractRequest(
        "list",
        status=status,
        contract_ids=mention.ids,
        contract_not_found=mention.not_found,
    )
    return Understanding(request)


def _bare_contracts(tokens: list[str]) -> bool:
    """Only contract words and courtesy: "contratti", "i contratti per favore"."""
    return all(t in vocab.CONTRACT or t in vocab.FILLERS for t in tokens)
