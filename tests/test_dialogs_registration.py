"""Registration through the core (no front-end): checks, summary, mismatch, PEC, 60 minutes."""

from __future__ import annotations

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import (
    Chat,
    button,
    credentials_in,
    mails,
    make_assistant,
    register,
    text,
)


async def test_registration_creates_a_pending_account_and_one_mail(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    person = customers.person
    out = await chat.say("/registrazione")
    assert "numero di contratto" in text(out)
    out = await chat.say(person.contract)
    assert "modulo" in text(out)
    out = await chat.say(person.module)
    assert "codice fiscale" in text(out)
    out = await chat.say(person.fiscal_code.lower())
    assert "e-mail" in text(out)
    out = await chat.say("mario.rossi@example.it")
    summary = text(out)
    assert f"{person.contract}/{person.module}" in summary
    assert person.fiscal_code in summary and "mario.rossi@example.it" in summary
    out = await chat.press(button(out, "Conferma"))
    assert "m***@example.it" in text(out)

    sent = await mails(store)
    assert len(sent) == 1 and sent[0].recipient == "mario.rossi@example.it"
    username, password = credentials_in(sent[0].body_text)
    customer = await store.customers.by_code(person.code)
    assert customer is not None and not customer.paper_invoices
    account = await store.accounts.by_customer(customer.id)
    assert account is not None and account.status == "pending"
    assert account.username == username and password not in account.password_hash
    events = [e.event for e in await store.audit.list()]
    assert "registration" in events and "paper_invoices_off" in events


async def test_contract_and_module_typed_together_skip_the_module_question(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    chat = Chat(assistant)
    await chat.say("/register")
    out = await chat.say(f" {customers.person.contract} / {customers.person.module} ")
    assert "codice fiscale" in text(out)


async def test_wrong_answers_are_asked_again_with_the_reason(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    chat = Chat(assistant)
    await chat.say("/registrazione")
    out = await chat.say("12345😀")
    assert "non sembra un numero di contratto" in text(out)
    out = await chat.say("x" * 10_000)
    assert "troppo lungo" in text(out) and "numero di contratto" in text(out)
    out = await chat.send_media()
    assert "solo messaggi di testo" in text(out) and "numero di contratto" in text(out)
    await chat.say(f"{customers.person.contract}/{customers.person.module}")
    out = await chat.say("RSSMRA85T10A562X")
    assert "non è valido" in text(out)
    out = await chat.say("RSSMRA85T10")
    assert "16 caratteri" in text(out)
    await chat.say(customers.person.fiscal_code)
    out = await chat.say("mario.rossi@@example")
    assert "non sembra corretto" in text(out)


async def test_omocodia_codice_fiscale_is_accepted(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    out = await register(Chat(assistant), customers.omocodia, "maria@example.it")
    assert "m***@example.it" in text(out)
    assert len(await mails(store)) == 1


async def test_a_mismatch_does_not_say_which_field_was_wrong(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    person = customers.person
    answers = []
    for contract, fiscal_code in (
        ("9999999", person.fiscal_code),
        (person.contract, customers.omocodia.fiscal_code),
    ):
        chat = Chat(assistant, chat_id=f"chat-{contract}")
        await chat.say("/registrazione")
        await chat.say(f"{contract}/{person.module}")
        await chat.say(fiscal_code)
        out = await chat.say("a@example.it")
        answers.append(text(await chat.press(button(out, "Conferma"))))
    assert answers[0] == answers[1]
    assert "Non trovo un contratto" in answers[0]
    assert await mails(store) == []


async def test_a_company_must_give_a_pec_address(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    company = customers.company
    await chat.say("/registrazione")
    await chat.say(f"{company.contract}/{company.module}")
    await chat.say(company.fiscal_code)
    out = await chat.say("amministrazione@alfa.it")
    assert "PEC" in text(out)
    out = await chat.say("alfa@pec.alfaleasing.it")
    out = await chat.press(button(out, "Conferma"))
    assert "a***@pec.alfaleasing.it" in text(out)
    assert [m.recipient for m in await mails(store)] == ["alfa@pec.alfaleasing.it"]


async def test_edit_from_the_summary_changes_one_field(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    person = customers.person
    await chat.say("/registrazione")
    await chat.say(f"{person.contract}/{person.module}")
    await chat.say(person.fiscal_code)
    out = await chat.say("wrong@example.it")
    out = await chat.press(button(out, "Modifica"))
    out = await chat.press(button(out, "E-mail"))
    out = await chat.say("right@example.it")
    assert "right@example.it" in text(out) and "wrong@example.it" not in text(out)
    await chat.press(button(out, "Conferma"))
    assert [m.recipient for m in await mails(store)] == ["right@example.it"]


async def test_sixty_minute_rule_then_replacement(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = Chat(assistant)
    await register(chat, customers.person, "typo@exampel.it")
    clock.advance(minutes=30)
    out = await register(chat, customers.person, "mario@example.it")
    assert "potrai registrarti di nuovo dalle 11:00 del 15/01/2026" in text(out)
    assert len(await mails(store)) == 1
    clock.advance(minutes=31)
    out = await register(chat, customers.person, "mario@example.it")
    assert "m***@example.it" in text(out)
    first, second = await mails(store)
    old_user, old_password = credentials_in(first.body_text)
    new_user, new_password = credentials_in(second.body_text)
    assert second.recipient == "mario@example.it" and new_user == old_user
    assert new_password != old_password
    await chat.say("/accedi")
    await chat.say(new_user)
    out = await chat.say(old_password)
    assert "non corretti" in text(out)


async def test_an_active_customer_is_sent_to_recovery(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = Chat(assistant)
    await register(chat, customers.person, "mario@example.it")
    account = await store.accounts.by_username(credentials_in((await mails(store))[0].body_text)[0])
    assert account is not None
    await store.accounts.set_password(account.id, "x", clock.now())
    out = await register(chat, customers.person, "mario@example.it")
    assert "/recupero" in text(out)
    assert len(await mails(store)) == 1


@pytest.mark.parametrize("steps", [0, 1, 2, 3, 4, 5])
async def test_cancel_in_each_step_leaves_nothing(
    assistant: Assistant, customers: KnownCustomers, store: Store, steps: int
) -> None:
    chat = Chat(assistant)
    person = customers.person
    inputs = [person.contract, person.module, person.fiscal_code, "mario@example.it"]
    out = await chat.say("/registrazione")
    for value in inputs[:steps]:
        out = await chat.say(value)
    if steps == 5:
        out = await chat.press(button(out, "Modifica"))
    out = await chat.say("/annulla")
    assert "non ho salvato nulla" in text(out)
    assert await mails(store) == []
    customer = await store.customers.by_code(person.code)
    assert customer is not None and await store.accounts.by_customer(customer.id) is None
    chat_state = await store.chats.get("telegram", "100")
    assert chat_state is not None and chat_state.flow is None
    out = await chat.say("mario@example.it")  # no longer an answer: goes to the FAQ
    assert "Non ho capito" in text(out)


async def test_a_restart_continues_the_registration(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    settings: Settings,
    clock: ManualClock,
) -> None:
    person = customers.person
    chat = Chat(assistant)
    await chat.say("/registrazione")
    await chat.say(f"{person.contract}/{person.module}")
    reopened = await Store.open(settings.db_target)
    try:
        fresh = make_assistant(reopened, settings, clock)
        chat = Chat(fresh)
        out = await chat.say(person.fiscal_code)
        assert "e-mail" in text(out)
        out = await chat.say("mario@example.it")
        out = await chat.press(button(out, "Conferma"))
        assert "m***@example.it" in text(out)
    finally:
        await reopened.close()


async def test_english_chat_gets_english_texts_and_mail(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant, language_code="en-GB")
    out = await chat.say("/register")
    assert "contract number" in text(out)
    await chat.say(f"{customers.person.contract}/{customers.person.module}")
    await chat.say(customers.person.fiscal_code)
    out = await chat.say("mario@example.it")
    await chat.press(button(out, "Confirm"))
    (mail,) = await mails(store)
    credentials_in(mail.body_text, "en")
