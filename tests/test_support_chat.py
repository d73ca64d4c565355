"""A customer answers a staff reply in the same ticket, from the chat that opened it."""

from __future__ import annotations

import io
import re

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import Outcome, Reply
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from store.store import Store
from store.tickets import Ticket
from tests.fixtures.commands import run_tickets
from tests.fixtures.dialogs import Chat, RecordingNotifier, button, labels, text
from tests.fixtures.telegram import TelegramHarness


async def open_ticket(chat: Chat, store: Store, request: str) -> Ticket:
    """/assistenza and the request, as the customer types them; returns the new ticket."""
    await chat.say("/assistenza")
    out = await chat.say(request)
    reference = re.search(r"AC-\d{6}", text(out))
    assert reference, text(out)
    ticket = await store.tickets.by_reference(reference.group(0))
    assert ticket is not None
    return ticket


async def answered(assistant: Assistant, ticket: Ticket, body: str) -> Reply:
    """Staff answer ``ticket``; returns the message the customer's chat got."""
    notifier = RecordingNotifier()
    service = TicketService(assistant.store, assistant.texts, assistant.settings, notifier=notifier)
    await service.staff_reply(ticket, body, assistant.clock.now())
    [(chat_id, reply)] = notifier.sent
    assert chat_id == ticket.contact
    return reply


def reply_button(reply: Reply) -> str:
    """The data of the reply's "Rispondi" / "Reply" button."""
    return button(Outcome((reply,)), "✍️")


async def shown_to_staff(settings: Settings, reference: str) -> str:
    """What ``tickets show <reference>`` prints."""
    from main import build_parser

    out = io.StringIO()
    args = build_parser().parse_args(["tickets", "show", reference])
    assert await run_tickets(settings, args, out=out) == 0
    return out.getvalue()


async def test_the_customer_answers_a_staff_reply_in_the_same_ticket(
    assistant: Assistant, store: Store, settings: Settings, clock: ManualClock
) -> None:
    chat = Chat(assistant, chat_id="555")
    ticket = await open_ticket(chat, store, "Non riesco a scaricare la fattura di marzo")
    reply = await answered(assistant, ticket, "Riprova ora, abbiamo corretto.")
    assert "Riprova ora" in reply.text and reply_button(reply) == f"tkt:r:{ticket.id}"

    clock.advance(minutes=30)
    out = await chat.press(reply_button(reply))
    assert ticket.reference in text(out) and "/annulla" in text(out)
    out = await chat.send_media()  # a polite answer, and the question again
    assert "solo messaggi di testo" in text(out) and ticket.reference in text(out)
    out = await chat.say("Ancora niente, il PDF è vuoto.")

    assert "ho aggiunto il tuo messaggio" in text(out) and ticket.reference in text(out)
    assert [t.id for t in await store.tickets.recent()] == [ticket.id]  # no second ticket
    reopened = await store.tickets.get(ticket.id)
    assert reopened is not None and reopened.status == "open"
    messages = await store.tickets.messages(ticket.id)
    assert [(m.direction, m.author) for m in messages] == [
        ("in", "customer"),
        ("out", "staff"),
        ("in", "customer"),
    ]
    assert "Ancora niente, il PDF è vuoto." in await shown_to_staff(settings, ticket.reference)


async def test_a_closed_ticket_opens_again_when_the_customer_answers(
    assistant: Assistant, store: Store
) -> None:
    chat = Chat(assistant, chat_id="556", language_code="en")
    ticket = await open_ticket(chat, store, "I can't see my contract")
    reply = await answered(assistant, ticket, "Fixed.")
    assert labels(Outcome((reply,))) == ["✍️ Reply"]
    service = TicketService(store, assistant.texts, assistant.settings)
    await service.close(ticket, assistant.clock.now())

    await chat.press(reply_button(reply))
    out = await chat.say("No")  # a follow-up may be that short

    assert "added your message" in text(out)
    reopened = await store.tickets.get(ticket.id)
    assert reopened is not None and reopened.status == "open"


async def test_a_reply_button_of_another_chat_is_refused_and_changes_nothing(
    assistant: Assistant, store: Store
) -> None:
    owner = Chat(assistant, chat_id="555")
    ticket = await open_ticket(owner, store, "Non vedo le comunicazioni")
    reply = await answered(assistant, ticket, "Ora dovresti vederle.")
    intruder = Chat(assistant, chat_id="666")

    out = await intruder.press(reply_button(reply))
    assert "non riguarda una richiesta aperta da questa chat" in text(out)
    out = await intruder.press("tkt:r:nonsense")
    assert "non riguarda" in text(out)
    await intruder.say("Mettilo nel ticket degli altri")  # no flow started: not added

    assert len(await store.audit.list("forged_button")) == 2
    assert len(await store.tickets.messages(ticket.id)) == 2
    unchanged = await store.tickets.get(ticket.id)
    assert unchanged is not None and unchanged.status == "answered"


async def test_cancel_in_the_reply_step_writes_nothing(assistant: Assistant, store: Store) -> None:
    chat = Chat(assistant, chat_id="555")
    ticket = await open_ticket(chat, store, "Domanda sulla rata")
    reply = await answered(assistant, ticket, "La rata è corretta.")

    await chat.press(reply_button(reply))
    out = await chat.say("/annulla")
    assert "non ho salvato nulla" in text(out)
    await chat.say("Ho cambiato idea, scrivo questo")  # after /annulla: not for the ticket

    assert len(await store.tickets.messages(ticket.id)) == 2
    unchanged = await store.tickets.get(ticket.id)
    assert unchanged is not None and unchanged.status == "answered"


async def test_support_with_an_open_ticket_offers_to_add_or_start_anew(
    assistant: Assistant, store: Store
) -> None:
    chat = Chat(assistant, chat_id="555")
    first = await open_ticket(chat, store, "Non riesco ad accedere")

    out = await chat.say("/assistenza")
    assert first.reference in text(out) and "Non riesco ad accedere" in text(out)
    assert "scegli" in text(await chat.say("Ecco il mio problema"))  # choose first
    await chat.press(button(out, f"Aggiungi a {first.reference}"))
    out = await chat.say("Dimenticavo: uso l'app dal telefono.")
    assert "ho aggiunto" in text(out) and first.reference in text(out)
    assert len(await store.tickets.messages(first.id)) == 2

    out = await chat.say("/assistenza")
    await chat.press(button(out, "Nuova richiesta"))
    out = await chat.say("Vorrei anche cambiare l'IBAN")
    assert "ho aperto la richiesta" in text(out) and first.reference not in text(out)
    assert len(await store.tickets.recent()) == 2
    assert len(await store.tickets.messages(first.id)) == 2

    out = await Chat(assistant, chat_id="777").say("/assistenza")  # another chat: no choice
    assert "Scrivi in un unico messaggio" in text(out) and not labels(out)


async def test_reply_button_through_the_bot_api(telegram: TelegramHarness) -> None:
    assert telegram.store is not None and telegram.assistant is not None
    await telegram.send(4242, "/assistenza")
    opened = await telegram.send(4242, "Il bot non mi manda le fatture")
    reference = re.search(r"AC-\d{6}", opened.text)
    assert reference
    ticket = await telegram.store.tickets.by_reference(reference.group(0))
    assert ticket is not None
    service = TicketService(
        telegram.store,
        Texts(telegram.settings.templates_dir),
        telegram.settings,
        notifier=telegram.notifier,
    )

    await service.staff_reply(ticket, "Ora arrivano.", telegram.clock.now())
    staff_message = telegram.api.sent(4242)[-1]
    assert "Ora arrivano." in (staff_message.text or "")
    assert staff_message.buttons == [("✍️ Rispondi", f"tkt:r:{ticket.id}")]

    await telegram.press(4242, f"tkt:r:{ticket.id}")
    answer = await telegram.send(4242, "Confermo, grazie!")
    assert "ho aggiunto il tuo messaggio" in answer.text
    messages = await telegram.store.tickets.messages(ticket.id)
    assert messages[-1].body == "Confermo, grazie!"
