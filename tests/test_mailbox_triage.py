"""``triage`` and ``decide``: pure, over raw .eml fixtures and plain values, no I/O."""

from __future__ import annotations

import json
import pickle
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from assistant.faq.matcher import FaqMatch
from mailbox.inbound.batch import prepare
from mailbox.inbound.decide import Action, MailFacts, decide
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.parse import parse_mail
from mailbox.inbound.question import NO_QUESTION, Question, Request
from mailbox.inbound.triage import Triage, triage
from store.tickets import Ticket
from tests.mailbox_support import mail

DATA = Path(__file__).parent / "data" / "mail"
FIXTURES = sorted(path.stem for path in DATA.glob("*.eml"))
OWN = ("areaclienti@localhost", "areaclienti.ls@bancopopolare.it")
LIMIT = 3


def triaged(name: str) -> tuple[Triage, dict[str, object]]:
    """A fixture's triage and its expected values."""
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return triage(parse_mail((DATA / f"{name}.eml").read_bytes()), OWN), expected


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_triages_to_its_expected_values(name: str) -> None:
    found, expected = triaged(name)
    assert found.automatic == expected["automatic"]
    if found.automatic:
        assert found.question == NO_QUESTION  # automatic mail never reaches the FAQ
    else:
        assert not found.failure_report  # only a machine reports a delivery
    if "failure" in expected:
        assert found.failure_report is expected["failure"]
    if "question" in expected:
        assert " ".join(r.text for r in found.question.requests) == expected["question"]
    for key in ("language", "asks_for_account_data", "sender", "reply_to"):
        if key in expected:
            assert getattr(found, key) == expected[key], key


def test_a_person_asks_a_question_in_italian() -> None:
    found, _ = triaged("plain_it")
    asked = "mi sono registrato ieri ma la password non è mai arrivata. Cosa devo fare?"
    assert [r.text for r in found.question.requests] == [asked]
    assert replace(found, question=NO_QUESTION) == Triage(
        automatic=None,
        failure_report=False,
        too_large=False,
        question=NO_QUESTION,
        needs_person=None,
        language="it",
        asks_for_account_data=False,
        sender="mario.rossi@example.it",
        reply_to="mario.rossi@example.it",
    )


def test_a_failed_delivery_report_is_automatic_and_a_failure() -> None:
    found, _ = triaged("dsn_bounce")
    assert found.automatic == "auto-submitted" and found.failure_report


def test_a_mail_from_our_own_address_is_automatic() -> None:
    found = triage(parse_mail(mail("ciao", sender="areaclienti.ls@bancopopolare.it")), OWN)
    assert found.automatic == "own address" and found.question == NO_QUESTION


def test_a_header_only_mail_is_too_large_and_asks_nothing() -> None:
    raw = (DATA / "plain_it.eml").read_bytes()
    header = raw.split(b"\n\n", 1)[0] + b"\n\n"
    found = triage(parse_mail(header, size=40_000_000, header_only=True), OWN)
    assert found.too_large and found.question == NO_QUESTION and found.automatic is None


def test_prepared_mails_carry_their_triage_and_survive_pickling() -> None:
    raws = [(DATA / f"{name}.eml").read_bytes() for name in ("plain_it", "out_of_office")]
    fetched = [FetchedMail(n, len(raw), raw, False) for n, raw in enumerate(raws, 1)]
    prepared = prepare(fetched, 10**7, OWN)
    assert [ready.triage.automatic if ready.triage else "-" for ready in prepared] == [
        None,
        "auto-submitted",
    ]
    again = pickle.loads(pickle.dumps(prepared))  # as the FAQ child process sends them back
    assert [ready.triage for ready in again] == [ready.triage for ready in prepared]


# --- decide: the triage, the FAQ match and the store's facts --------------------------------

PERSON = Triage(
    automatic=None,
    failure_report=False,
    too_large=False,
    question=Question("come cambio la password?", (Request("come cambio la password?"),)),
    needs_person=None,
    language="it",
    asks_for_account_data=False,
    sender="mario@example.it",
    reply_to="mario@example.it",
)
ANSWER = FaqMatch(kind="answer", faq_id="password", score=0.9, suggestions=(), language="en")
UNSURE = FaqMatch(kind="clarify", faq_id=None, score=0.4, suggestions=("a",), language="en")
MOMENT = datetime(2024, 5, 6, 9, 0, tzinfo=UTC)


def ticket(contact: str = "mario@example.it", channel: str = "email") -> Ticket:
    """An open ticket of the store."""
    return Ticket(1, "AC-000001", channel, contact, None, "Accesso", "it", "open", MOMENT, MOMENT)


def test_automatic_mail_is_never_answered_even_with_an_answer_at_hand() -> None:
    robot = replace(PERSON, automatic="auto-submitted")
    decision = decide(robot, (ANSWER,), MailFacts(), auto_reply_limit=LIMIT)
    assert decision.action is Action.AUTOMATIC and decision.reply is None


def test_a_failure_report_of_our_mail_is_a_bounce() -> None:
    report = replace(PERSON, automatic="delivery report", failure_report=True)
    facts = MailFacts(bounced_recipient="a@example.it", bounced_message_id="<m@x>")
    assert decide(report, (), facts, auto_reply_limit=LIMIT).action is Action.BOUNCE
    delayed = replace(report, failure_report=False)
    assert decide(delayed, (), facts, auto_reply_limit=LIMIT).action is Action.AUTOMATIC


def test_a_duplicate_comes_first() -> None:
    decision = decide(PERSON, (ANSWER,), MailFacts(duplicate=True), auto_reply_limit=LIMIT)
    assert decision.action is Action.DUPLICATE


def test_an_outright_answer_is_sent_in_the_question_s_language() -> None:
    decision = decide(PERSON, (ANSWER,), MailFacts(), auto_reply_limit=LIMIT)
    assert (decision.action, decision.reply, decision.faq_id, decision.language) == (
        Action.FAQ,
        "faq",
        "password",
        "en",
    )


def test_without_an_outright_answer_a_ticket_is_opened_and_acknowledged() -> None:
    decision = decide(PERSON, (UNSURE,), MailFacts(), auto_reply_limit=LIMIT)
    assert (decision.action, decision.reply, decision.language) == (
        Action.NEW_TICKET,
        "acknowledgement",
        "en",
    )
    plain = decide(PERSON, (), MailFacts(), auto_reply_limit=LIMIT)
    assert (plain.action, plain.language) == (Action.NEW_TICKET, "it")


def test_a_reply_joins_its_ticket_and_the_match_is_ignored() -> None:
    facts = MailFacts(ticket_by_thread=ticket())
    decision = decide(PERSON, (ANSWER,), facts, auto_reply_limit=LIMIT)
    assert decision.action is Action.JOIN and decision.reply is None


def test_a_reference_joins_only_from_the_ticket_s_own_address() -> None:
    own = MailFacts(ticket_by_reference=ticket())
    other = MailFacts(ticket_by_reference=ticket(contact="someone@example.it"))
    assert decide(PERSON, (), own, auto_reply_limit=LIMIT).action is Action.JOIN
    assert decide(PERSON, (), other, auto_reply_limit=LIMIT).action is Action.NEW_TICKET


def test_too_large_is_answered_politely_unless_the_loop_guard_holds() -> None:
    large = replace(PERSON, too_large=True, question=NO_QUESTION)
    decision = decide(large, (), MailFacts(), auto_reply_limit=LIMIT)
    assert (decision.action, decision.reply) == (Action.TOO_LARGE, "too_large")
    guarded = decide(large, (), MailFacts(auto_replies_today=LIMIT), auto_reply_limit=LIMIT)
    assert guarded.reply is None and guarded.loop_guarded


def test_no_reply_address_no_answer() -> None:
    nowhere = replace(PERSON, sender="", reply_to="")
    decision = decide(nowhere, (ANSWER,), MailFacts(), auto_reply_limit=LIMIT)
    assert decision.action is Action.FAQ and decision.reply is None
