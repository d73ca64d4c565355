"""Login, forced password change, block, recovery, sessions — through the core."""

from __future__ import annotations

import logging

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from store.store import Store
from tests.fixtures.customers import KnownCustomers
from tests.fixtures.dialogs import (
    Chat,
    button,
    credentials_in,
    labels,
    login_first_time,
    mails,
    register,
    text,
)

NEW_PASSWORD = "Primavera2026"


async def registered(chat: Chat, customers: KnownCustomers, store: Store) -> tuple[str, str]:
    """Register the person; return (username, temporary password)."""
    await register(chat, customers.person, "mario@example.it")
    return credentials_in((await mails(store, "temp_password"))[-1].body_text)


async def test_first_login_forces_a_new_password_and_deletes_every_secret(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    await chat.say("/accedi")
    out = await chat.say(username.upper())
    assert "password" in text(out)
    out = await chat.say(temporary)
    assert out.delete_message_ids == (chat.last_message_id,)
    assert "sceglierne una tua" in text(out)
    for weak, reason in (
        ("corta1", "troppo corta"),
        ("soloLettereQui", "lettere sia numeri"),
        (f"x{username}99", "nome utente"),
        (temporary, "diversa da quella temporanea"),
    ):
        out = await chat.say(weak)
        assert out.delete_message_ids == (chat.last_message_id,)
        assert reason in text(out)
    await chat.say(NEW_PASSWORD)
    out = await chat.say("Primavera2027")
    assert "non coincidono" in text(out) and out.delete_message_ids
    await chat.say(NEW_PASSWORD)
    out = await chat.say(NEW_PASSWORD)
    assert out.delete_message_ids == (chat.last_message_id,)
    assert "Password aggiornata" in text(out)
    assert any("Profilo" in label for label in labels(out))
    account = await store.accounts.by_username(username)
    assert account is not None and account.status == "active" and not account.password_temporary
    # the permanent password works from another chat too (several chats per account)
    other = Chat(assistant, chat_id="200")
    await other.say("/login")
    await other.say(username)
    out = await other.say(NEW_PASSWORD)
    assert "Accesso eseguito" in text(out)
    assert "Il tuo profilo" in text(await chat.say("/profilo"))
    assert "Il tuo profilo" in text(await other.say("/profile"))


async def test_three_wrong_passwords_block_even_the_right_one_until_recovery(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    await login_first_time(chat, username, temporary, NEW_PASSWORD)
    await chat.say("/esci")
    await chat.say("/accedi")
    await chat.say(username)
    for attempt in range(3):
        out = await chat.say(f"Sbagliata{attempt}xx")
    assert "Login bloccata" in text(out) and "/recupero" in text(out)
    await chat.say("/accedi")
    await chat.say(username)
    out = await chat.say(NEW_PASSWORD)
    assert "Login bloccata" in text(out)
    events = [e.event for e in await store.audit.list()]
    assert "login_blocked" in events and "login_refused_blocked" in events

    await chat.say("/recupero")
    await chat.say(f"{customers.person.contract}/{customers.person.module}")
    out = await chat.say(customers.person.fiscal_code)
    assert "Se i dati corrispondono" in text(out)
    mail = (await mails(store, "temp_password"))[-1]
    assert mail.recipient == "mario@example.it"
    same_user, fresh = credentials_in(mail.body_text)
    assert same_user == username
    out = await login_first_time(chat, username, fresh, "Estate2026ok")
    assert "Password aggiornata" in text(out)


async def test_recovery_answers_the_same_whether_or_not_it_matched(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    await registered(Chat(assistant, chat_id="1"), customers, store)
    answers = []
    for chat_id, contract in (("2", customers.person.contract), ("3", "7777777")):
        chat = Chat(assistant, chat_id=chat_id)
        await chat.say("/recupero")
        await chat.say(f"{contract}/{customers.person.module}")
        answers.append(text(await chat.say(customers.person.fiscal_code)))
    assert answers[0] == answers[1]
    assert len(await mails(store, "temp_password")) == 2  # registration + one recovery


async def test_recovery_is_limited_per_chat_and_per_customer(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    await registered(Chat(assistant, chat_id="1"), customers, store)
    person = customers.person
    for chat_id in ("2", "3", "4", "5"):
        chat = Chat(assistant, chat_id=chat_id)
        await chat.say("/recupero")
        await chat.say(f"{person.contract}/{person.module}")
        await chat.say(person.fiscal_code)
    assert len(await mails(store, "temp_password")) == 1 + 3  # the fourth was refused silently
    chat = Chat(assistant, chat_id="6")
    for _ in range(6):
        await chat.say("/recupero")
        await chat.say("1234567/01")
        out = await chat.say(person.fiscal_code)
    assert "troppe richieste" in text(out)


async def test_temporary_password_expires(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    clock.advance(hours=73)
    await chat.say("/accedi")
    await chat.say(username)
    out = await chat.say(temporary)
    assert "scaduta" in text(out) and "/recupero" in text(out)


async def test_idle_session_ends_and_old_buttons_ask_to_log_in(
    assistant: Assistant, customers: KnownCustomers, store: Store, clock: ManualClock
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    out = await login_first_time(chat, username, temporary, NEW_PASSWORD)
    profile = await chat.say("/profilo")
    paper = button(profile, "fatture cartacee")
    clock.advance(minutes=31)
    out = await chat.press(paper)
    assert "sessione è scaduta" in text(out)
    out = await chat.say("/fatture")
    assert "accedere" in text(out)
    customer = await store.customers.by_code(customers.person.code)
    assert customer is not None and not customer.paper_invoices
    events = [e.event for e in await store.audit.list()]
    assert "session_expired" in events


async def test_logout_ends_the_session(
    assistant: Assistant, customers: KnownCustomers, store: Store
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    await login_first_time(chat, username, temporary, NEW_PASSWORD)
    out = await chat.say("/esci")
    assert "Sei uscito" in text(out)
    assert "accedere" in text(await chat.say("/contratti"))
    assert "logout" in [e.event for e in await store.audit.list()]


async def test_no_secret_or_personal_data_reaches_the_log(
    assistant: Assistant,
    customers: KnownCustomers,
    store: Store,
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    chat = Chat(assistant)
    username, temporary = await registered(chat, customers, store)
    await login_first_time(chat, username, temporary, NEW_PASSWORD)
    await chat.say("/profilo")
    await chat.press("prof:email")
    await chat.say("nuovo@example.it")
    code_mail = (await mails(store, "verification_code"))[-1]
    code = code_mail.body_text.split("Codice di verifica: ")[1][:6]
    await chat.say(code)
    ours = caplog_all.records
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in ours)
    logged += "\n".join(e.detail for e in await store.audit.list())
    for secret in (temporary, NEW_PASSWORD, code, customers.person.fiscal_code, "mario@example"):
        assert secret not in logged
    assert ours  # something was logged at all
    assert all(r.levelno < logging.ERROR for r in ours)
