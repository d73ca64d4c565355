"""``MailLedger``: a whole fetched batch recorded in one transaction, mail after mail."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

from assistant.clock import ManualClock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from mailbox.inbound.batch import PreparedMail, prepare
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.ledger import MailLedger, Recorded
from store.store import Store
from tests.mailbox_support import keyword_answer, mail


def prepared(*raws: bytes) -> list[PreparedMail]:
    """Mails as the worker hands them to the ledger (parsed and triaged, not matched)."""
    fetched = [FetchedMail(n, len(raw), raw, False) for n, raw in enumerate(raws, 1)]
    return prepare(fetched, 10**7, ())


async def record(
    store: Store, settings: Settings, texts: Texts, clock: ManualClock, batch: list[PreparedMail]
) -> list[Recorded]:
    """One batch, one transaction, as the worker runs it."""
    ledger = MailLedger(
        settings, TicketService(store, texts, settings), keyword_answer, lambda point: None
    )
    return await store.inbound.record_batch(ledger.record, 7, batch, clock.now())


async def test_each_acknowledgement_carries_its_own_ticket_and_reads_as_rendered(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    texts = Texts(settings.templates_dir)
    senders = [f"cliente{n}@example.it" for n in range(3)]
    batch = prepared(*(mail(f"domanda {n}", sender=s) for n, s in enumerate(senders)))
    assert [r.outcome for r in await record(store, settings, texts, clock, batch)] == ["ticket"] * 3

    service = TicketService(store, texts, settings)
    tickets = {t.contact: t for t in await store.tickets.recent()}
    replies = {r.recipient: r for r in await store.outbox.list()}
    assert set(tickets) == set(replies) == set(senders)
    for sender in senders:
        ticket, reply = tickets[sender], replies[sender]
        assert reply.body_text == service.mail_body(ticket, "acknowledgement", account_data=False)
        assert ticket.reference in reply.body_text and ticket.reference in reply.subject
        others = [t.reference for t in tickets.values() if t is not ticket]
        assert not any(reference in reply.body_text for reference in others)


async def test_a_template_that_changes_the_reference_is_still_rendered_right(
    store: Store, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    templates = tmp_path / "templates"
    shutil.copytree(settings.templates_dir, templates)
    ack = templates / "it" / "mail" / "acknowledgement.j2"
    ack.write_text("Pratica {{ reference | lower }}.\n", encoding="utf-8")
    settings = dataclasses.replace(settings, templates_dir=templates)
    batch = prepared(mail("prima", sender="a@example.it"), mail("seconda", sender="b@example.it"))
    await record(store, settings, Texts(templates), clock, batch)

    tickets = {t.contact: t for t in await store.tickets.recent()}
    for reply in await store.outbox.list():
        assert reply.body_text == f"Pratica {tickets[reply.recipient].reference.lower()}."


async def test_a_mail_joins_a_ticket_opened_earlier_in_the_same_batch(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    first = mail("la domanda", sender="mario@example.it", message_id="<q1@example.it>")
    again = mail(
        "dimenticavo: il contratto è il 123",
        sender="mario@example.it",
        subject="Re: Problema di accesso",
        in_reply_to="<q1@example.it>",
    )
    recorded = await record(
        store, settings, Texts(settings.templates_dir), clock, prepared(first, again)
    )

    assert [r.outcome for r in recorded] == ["ticket", "reply"]
    [ticket] = await store.tickets.recent()
    messages = await store.tickets.messages(ticket.id)
    assert [m.direction for m in messages] == ["in", "out", "in"]  # no second acknowledgement
    assert len(await store.outbox.list()) == 1
