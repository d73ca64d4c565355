"""Profile: data, paper invoices, Telegram notices, language, e-mail change with a code."""

from __future__ import annotations

import re

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from store.store import Store
from tests.fixtures.customers import KnownCustomer, KnownCustomers
from tests.fixtures.dialogs import (
    Chat,
    button,
    credentials_in,
    login_first_time,
    mails,
    register,
    text,
)


async def logged_in(
    assistant: Assistant, store: Store, customer: KnownCustomer, email: str
) -> Chat:
    """A chat where ``customer`` registered and logged in."""
    chat = Chat(assistant)
    await register(chat, customer, email)
    username, temporary = credentials_in((await mails(store, "temp_password"))[-1].body_text)
    await login_first_time(chat, username, temporary, "Autunno2026x")
    return chat


def code_of(body: str, label: str = "Codice di verifica") -> str:
    """The 6-digit code line of a verification e-mail."""
    match = re.search(rf"^{label}: (\d{{6}})$", body, re.M)
    assert match, body
    return match.group(1)


async def test_profile_shows_data_and_toggles_paper_and_notices(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = await logged_in(assistant, store, customers.person, "mario@example.it")
    out = await chat.say("/profilo")
    shown = text(out)
    assert "Mario Rossi" in shown and "mario@example.it" in shown
    assert "Fatture cartacee per posta: disattivate" in shown
    out = await chat.press(button(out, "Riattiva fatture cartacee"))
    assert "Fatture cartacee per posta: attive" in text(out) and out.callback_answer
    customer = await store.customers.by_code(customers.person.code)
    assert customer is not None and customer.paper_invoices
    out = await chat.press(button(out, "Disattiva avvisi"))
    assert "Avvisi su Telegram di nuove fatture e comunicazioni: disattivati" in text(out)
    account = await store.accounts.by_customer(customer.id)
    assert account is not None and not account.telegram_notices
    events = [e.event for e in await store.audit.list()]
    assert "paper_invoices_on" in events and "telegram_notices_off" in events


async def test_language_switch(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = await logged_in(assistant, store, customers.person, "mario@example.it")
    out = await chat.press("prof:lang")
    out = await chat.press(button(out, "English"))
    assert "Your profile" in text(out)
    assert "What would you like to do?" in text(await chat.say("/menu"))


async def test_email_change_with_a_code(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = await logged_in(assistant, store, customers.person, "mario@example.it")
    await store.inbound.mark_failing("mario@example.it", "<bounced@test>", "5.1.1", clock.now())
    out = await chat.press("prof:email")
    out = await chat.say("not an address")
    assert "non sembra corretto" in text(out)
    out = await chat.say("mario.nuovo@example.it")
    assert "m***@example.it" in text(out)
    (mail,) = await mails(store, "verification_code")
    assert mail.recipient == "mario.nuovo@example.it"
    code = code_of(mail.body_text)
    out = await chat.say("000000" if code != "000000" else "111111")
    assert "non è giusto" in text(out) and out.delete_message_ids == (chat.last_message_id,)
    out = await chat.say(code)
    assert out.delete_message_ids == (chat.last_message_id,)
    assert "mario.nuovo@example.it" in text(out)
    (notice,) = await mails(store, "email_changed")
    assert notice.recipient == "mario@example.it"
    customer = await store.customers.by_code(customers.person.code)
    account = await store.accounts.by_customer(customer.id)  # type: ignore[union-attr]
    assert account is not None and account.email == "mario.nuovo@example.it"
    assert "email_changed" in [e.event for e in await store.audit.list()]
    assert await store.inbound.failing("mario@example.it") is None  # staff need not act now


async def test_email_code_expires_after_15_minutes(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = await logged_in(assistant, store, customers.person, "mario@example.it")
    await chat.press("prof:email")
    await chat.say("mario.nuovo@example.it")
    code = code_of((await mails(store, "verification_code"))[0].body_text)
    clock.advance(minutes=16)
    await chat.say("/menu")  # keeps the session alive, interrupts the change
    await chat.press("prof:email")
    await chat.say("mario.nuovo@example.it")
    clock.advance(minutes=16)
    out = await chat.say(code_of((await mails(store, "verification_code"))[-1].body_text))
    assert "scaduto" in text(out)
    customer = await store.customers.by_code(customers.person.code)
    account = await store.accounts.by_customer(customer.id)  # type: ignore[union-attr]
    assert account is not None and account.email == "mario@example.it"
    assert code  # the first code was never usable after /menu


async def test_company_email_change_needs_a_pec(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = await logged_in(assistant, store, customers.company, "alfa@legalmail.it")
    await chat.press("prof:email")
    out = await chat.say("info@alfa.it")
    assert "PEC" in text(out)
    out = await chat.say("alfa@pec.alfaleasing.it")
    assert "codice" in text(out)
