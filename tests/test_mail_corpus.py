"""The support mailbox on its corpus of real-looking mail (tests/mail): never a wrong answer,
never a reply to automatic mail.

Every mail of both parts is parsed, triaged and matched in one batch with the real FAQ
matcher, as the worker does, and decided as a new mail. Recall (FAQ-answerable mails answered
with their FAQ) is a figure of ``bench/mail_triage.py``; here it only has a floor well below
what is measured (84% at the time of writing; the floor is 65%), to catch a regression.
"""

from __future__ import annotations

from collections import Counter

import pytest

from assistant.faq import FaqMatcher
from mailbox.inbound.batch import batch_match
from mailbox.inbound.decide import Action
from mailbox.inbound.parse import parse_mail
from mailbox.inbound.triage import triage
from tests.mail.corpus import (
    NONE,
    OWN_ADDRESSES,
    TICKET,
    CorpusMail,
    Outcome,
    read_corpus,
    run_corpus,
)

CORPUS = read_corpus()
RECALL_FLOOR = 0.65
RECEIPTS = {
    "accettazione",
    "avvenuta-consegna",
    "errore-consegna",
    "preavviso-errore-consegna",
    "non-accettazione",
}


@pytest.fixture(scope="module")
def outcomes() -> dict[str, Outcome]:
    """Every corpus mail decided, by name (one batch through the real matcher)."""
    found = run_corpus(CORPUS, batch_match(FaqMatcher.load()))
    return {outcome.mail.name: outcome for outcome in found}


def by_expectation(*kinds: str) -> list[CorpusMail]:
    """The corpus mails expected to end as one of ``kinds`` ("faq" for any FAQ id)."""
    return [m for m in CORPUS if m.expected in kinds or ("faq" in kinds and m.faq_answerable)]


def waiting(mail: CorpusMail) -> object:
    """The mail as a test parameter; strictly expected to fail while it ``waits_for`` work."""
    reason = f"waits for {mail.waits_for}"
    marks = [pytest.mark.xfail(reason=reason, strict=True)] if mail.waits_for else []
    return pytest.param(mail, id=mail.name, marks=marks)


@pytest.mark.parametrize("mail", [waiting(m) for m in CORPUS if m.expected != NONE])
def test_no_mail_gets_a_wrong_automatic_answer(
    mail: CorpusMail, outcomes: dict[str, Outcome]
) -> None:
    outcome = outcomes[mail.name]
    assert not outcome.wrong, (outcome.answered, outcome.requests)
    assert outcome.decision.action in (Action.FAQ, Action.NEW_TICKET)  # a person is heard


@pytest.mark.parametrize("mail", [waiting(m) for m in by_expectation(NONE)])
def test_automatic_mail_is_never_answered(mail: CorpusMail, outcomes: dict[str, Outcome]) -> None:
    outcome = outcomes[mail.name]
    assert outcome.decision.action in (Action.AUTOMATIC, Action.BOUNCE)
    assert not outcome.replied


@pytest.mark.parametrize("mail", [waiting(m) for m in by_expectation(TICKET)])
def test_what_the_faq_does_not_cover_goes_to_a_person(
    mail: CorpusMail, outcomes: dict[str, Outcome]
) -> None:
    outcome = outcomes[mail.name]
    assert outcome.decision.action is Action.NEW_TICKET
    assert outcome.decision.reply == "acknowledgement"


def test_most_faq_questions_are_answered(outcomes: dict[str, Outcome]) -> None:
    answerable = [outcomes[m.name] for m in by_expectation("faq")]
    recall = sum(o.right for o in answerable) / len(answerable)
    assert recall >= RECALL_FLOOR, [o.mail.name for o in answerable if not o.right]


def test_the_corpus_holds_what_the_issue_asks_for() -> None:
    clients = Counter(m.client.split("/")[-1] for m in CORPUS)
    assert len(CORPUS) >= 60
    assert {m.receipt for m in CORPUS} >= RECEIPTS  # every PEC receipt type
    assert len({m.client for m in CORPUS if m.client.startswith("pec-")}) >= 2
    assert all(clients[c] >= 3 for c in ("outlook-html", "iphone", "gmail", "thunderbird"))
    assert {m.language for m in CORPUS if m.faq_answerable} == {"it", "en"}
    assert len(by_expectation("faq")) >= 30 and len(by_expectation(TICKET)) >= 15
    assert {m.part for m in CORPUS} == {"tune", "held-aside"}


def test_a_read_receipt_never_marks_an_address_failing() -> None:
    receipts = [m for m in CORPUS if m.name.startswith("read-receipt-")]
    assert len(receipts) >= 3
    for mail in receipts:
        found = triage(parse_mail(mail.raw), OWN_ADDRESSES)
        assert found.automatic and not found.failure_report, mail.name
