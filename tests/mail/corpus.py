"""The mail corpus: raw ``.eml`` files paired with what the mailbox must do with each.

``tests/mail/*.eml`` is the tuning part, ``tests/mail/heldout/*.eml`` the held-aside part.
The held-aside mails were written before the rules they test and were run twice while the
rules were made: the first run found a wrong answer (a clause leaning to another FAQ: now a
request's parts may not), the second, on ten more mails written after the first, found
another (two questions in one sentence: now each asking clause is judged alone); the
figures since are on both batches. Each ``NAME.json``
holds ``expected``: a FAQ id (answered automatically with that FAQ), ``ticket`` (a person
answers) or ``none`` (automatic mail: recorded, never answered); ``client`` and ``language``
tell what it is; ``asks`` is words of the customer's question and ``quoted`` words found only
in the quoted history (both for ``tests/test_mail_question.py``); ``receipt`` the type of a
PEC receipt; ``waits_for`` names work outside the question finder that a mail still needs
(none does today).

``run_corpus`` treats the mails as the worker does: parsed, triaged and matched in one batch
(``prepare_and_match``, the matcher's ``match_outright``), then ``decide`` for a new mail (no
duplicate, no ticket it replies to, no loop guard).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mailbox.inbound.batch import BatchMatch, prepare_and_match
from mailbox.inbound.decide import Action, Decision, MailFacts, decide
from mailbox.inbound.imap import FetchedMail

FOLDER = Path(__file__).parent
PARTS = {"tune": FOLDER, "held-aside": FOLDER / "heldout"}
OWN_ADDRESSES = ("areaclienti.ls@bancopopolare.it", "areaclienti.ls@pec.bancobpm.it")
MAX_BYTES = 25 * 1024 * 1024
AUTO_REPLY_LIMIT = 5
TICKET, NONE = "ticket", "none"


@dataclass(frozen=True)
class CorpusMail:
    """One mail of the corpus and what is expected of it."""

    name: str
    part: str  # tune | held-aside
    raw: bytes
    expected: str  # a FAQ id, "ticket" or "none"
    language: str = "it"
    client: str = ""
    asks: str = ""  # words of the customer's question
    quoted: str = ""  # words only in the quoted history
    receipt: str = ""  # a PEC receipt's X-Ricevuta
    waits_for: str = ""  # work it still needs outside the question finder, or ""

    @property
    def faq_answerable(self) -> bool:
        """Whether the right outcome is a FAQ answer."""
        return self.expected not in (TICKET, NONE)


@dataclass(frozen=True)
class Outcome:
    """What the mailbox's rules decided for one mail of the corpus."""

    mail: CorpusMail
    decision: Decision
    requests: tuple[str, ...]  # as written
    judged: int  # texts the matcher judged (requests, their parts, the context)

    @property
    def answered(self) -> str | None:
        """The FAQ id sent automatically, or None."""
        return self.decision.faq_id if self.decision.action is Action.FAQ else None

    @property
    def replied(self) -> bool:
        """Whether any automatic reply (FAQ answer or acknowledgement) would be sent."""
        return self.decision.reply is not None

    @property
    def wrong(self) -> bool:
        """An automatic FAQ answer where another answer, a ticket or silence was expected."""
        return self.answered is not None and self.answered != self.mail.expected

    @property
    def right(self) -> bool:
        """The expected outcome: that FAQ, a ticket with its acknowledgement, or silence."""
        if self.mail.expected == NONE:
            return not self.replied and self.decision.action in (Action.AUTOMATIC, Action.BOUNCE)
        if self.mail.expected == TICKET:
            return self.decision.action is Action.NEW_TICKET
        return self.answered == self.mail.expected


def read_corpus(part: str | None = None) -> list[CorpusMail]:
    """The corpus mails of one part (``tune`` or ``held-aside``), or of both, by name."""
    mails = []
    for name, folder in PARTS.items():
        if part not in (None, name):
            continue
        for path in sorted(folder.glob("*.eml")):
            expected = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
            mails.append(
                CorpusMail(
                    name=path.stem,
                    part=name,
                    raw=path.read_bytes(),
                    expected=expected["expected"],
                    language=expected.get("language", "it"),
                    client=expected.get("client", ""),
                    asks=expected.get("asks", ""),
                    quoted=expected.get("quoted", ""),
                    receipt=expected.get("receipt", ""),
                    waits_for=expected.get("waits_for", ""),
                )
            )
    return mails


def run_corpus(mails: Sequence[CorpusMail], match: BatchMatch) -> list[Outcome]:
    """Each mail prepared and matched in one batch, as the worker does, then decided."""
    fetched = [FetchedMail(n, len(m.raw), m.raw, False) for n, m in enumerate(mails, 1)]
    prepared = prepare_and_match(fetched, MAX_BYTES, OWN_ADDRESSES, match)
    outcomes = []
    for mail, ready in zip(mails, prepared, strict=True):
        if ready.triage is None or ready.error is not None:
            raise AssertionError(f"{mail.name}: not prepared ({ready.error!r})")
        decision = decide(
            ready.triage, ready.faq_matches, MailFacts(), auto_reply_limit=AUTO_REPLY_LIMIT
        )
        question = ready.triage.question
        requests = tuple(r.text for r in question.requests)
        outcomes.append(Outcome(mail, decision, requests, len(question.texts)))
    return outcomes
