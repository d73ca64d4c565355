"""The dispatcher: menus, commands in both languages, odd input, errors, ordering, registry."""

from __future__ import annotations

import asyncio
import re

from assistant.clock import ManualClock
from assistant.dialogs.context import Context
from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import COMMANDS, Attachment, Incoming
from assistant.dialogs.registry import Registry, command, load_flows
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import Chat, labels, make_assistant, text


async def test_start_shows_welcome_privacy_and_the_logged_out_menu(assistant: Assistant) -> None:
    out = await Chat(assistant).say("/start")
    assert "Benvenuto" in text(out) and "Privacy" in text(out)
    assert [label.split(" ", 1)[1] for label in labels(out)] == [
        "Registrati",
        "Accedi",
        "Password dimenticata",
        "Domande frequenti",
        "Guida",
        "Contatti",
    ]


async def test_english_aliases_reach_the_same_commands(assistant: Assistant) -> None:
    chat = Chat(assistant, language_code="en")
    assert "Technical help" in text(await chat.say("/contacts"))
    assert "log in" in text(await chat.say("/invoices"))
    assert "nothing in progress" in text(await chat.say("/cancel"))


async def test_commands_are_listed_in_both_languages(assistant: Assistant) -> None:
    italian = dict(assistant.command_list("it"))
    english = dict(assistant.command_list("en"))
    assert set(italian) >= {"registrazione", "accedi", "recupero", "fatture", "annulla"}
    assert set(english) >= {"register", "login", "recover", "invoices", "cancel"}
    assert len(italian) == len(english) == 14


async def test_odd_input_gets_a_polite_answer(assistant: Assistant) -> None:
    chat = Chat(assistant)
    assert "solo messaggi di testo" in text(await chat.send_media())
    assert "Non conosco" in text(await chat.say("/boh"))
    assert "troppo lungo" in text(await chat.say("🙂" * 10_000))
    assert "non è più valido" in text(await chat.press("reg:confirm"))
    assert "non è più valido" in text(await chat.press("garbage"))
    assert "Non ho capito" in text(await chat.say("🙂🙂🙂"))


async def test_a_command_in_the_middle_of_a_step_interrupts_it(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    chat = Chat(assistant)
    await chat.say("/registrazione")
    await chat.say(customers.person.contract)
    out = await chat.say("/contatti")
    assert "Ho interrotto la registrazione" in text(out) and "Contatti" in text(out)
    out = await chat.say("/boh")
    assert "Non conosco" in text(out)


async def test_an_unknown_command_mid_step_repeats_the_question(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    chat = Chat(assistant)
    await chat.say("/registrazione")
    out = await chat.say("/boh")
    assert "Non conosco" in text(out) and "numero di contratto" in text(out)


async def test_an_exception_becomes_a_polite_message(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    registry = Registry()
    assert load_flows() is not load_flows()  # each load builds its own registry, not this one

    @registry.command("start")
    async def broken(ctx: Context) -> None:
        raise RuntimeError("boom with secret RSSMRA85T10A562S")

    core = make_assistant(store, settings, clock, registry=registry)
    out = await Chat(core).say("/start")
    assert "qualcosa è andato storto" in text(out)
    assert "boom" not in text(out)


async def test_a_real_registration_replaces_a_placeholder_in_any_order() -> None:
    registry = Registry()

    async def real(ctx: Context) -> None: ...

    async def placeholder(ctx: Context) -> None: ...

    registry.command("fatture", login_required=True)(real)
    registry.command("fatture", login_required=True, placeholder=True)(placeholder)
    assert registry.commands["fatture"].handler is real
    registry.command("contratti", placeholder=True)(placeholder)
    registry.command("contratti")(real)
    assert registry.commands["contratti"].handler is real


async def test_one_chat_in_order_and_chats_side_by_side(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    person = customers.person
    inputs = ["/registrazione", f"{person.contract}/{person.module}", person.fiscal_code]
    results = await asyncio.gather(
        *(
            assistant.handle(Incoming.from_text("telegram", chat_id, value, message_id=n))
            for n, value in enumerate(inputs)
            for chat_id in ("1", "2", "3")
        )
    )
    assert all("indirizzo e-mail" in text(r) for r in results[-3:])


async def test_support_opens_a_ticket_linked_to_the_chat(
    assistant: Assistant, store: Store
) -> None:
    chat = Chat(assistant, chat_id="555")
    out = await chat.say("/assistenza")
    assert "richiesta" in text(out)
    assert "a parole" in text(await chat.send_media())
    out = await chat.say("Non riesco a scaricare la fattura di marzo")
    reference = re.search(r"AC-\d{6}", text(out))
    assert reference
    ticket = await store.tickets.by_reference(reference.group(0))
    assert ticket is not None and (ticket.channel, ticket.contact) == ("telegram", "555")
    (message,) = await store.tickets.messages(ticket.id)
    assert message.body == "Non riesco a scaricare la fattura di marzo"


async def test_the_decorators_only_mark_and_each_load_builds_a_registry() -> None:
    async def handler(ctx: Context) -> None: ...

    assert command("prova", login_required=True)(handler) is handler
    assert "prova" not in load_flows().commands  # marked outside assistant.flows: not loaded
    registry = Registry()
    registry.add(handler)
    assert registry.commands["prova"].handler is handler
    assert registry.commands["prova"].login_required

    first, second = load_flows(), load_flows()
    assert first is not second and first.flows["login"] is not second.flows["login"]
    assert set(first.commands) == set(COMMANDS) - {"annulla"}  # /annulla is the dispatcher's


async def test_document_sent_hooks_are_given_when_the_registry_is_built() -> None:
    seen: list[str] = []

    async def broken(attachment: Attachment, file_id: str) -> None:
        raise RuntimeError("a failing hook does not stop the others")

    async def keep(attachment: Attachment, file_id: str) -> None:
        seen.append(file_id)

    registry = load_flows(document_sent=[broken, keep])
    await registry.document_delivered(Attachment("f.pdf", document_id=1), "FILE-1")
    assert seen == ["FILE-1"]
    assert load_flows().document_sent_hooks == ()
