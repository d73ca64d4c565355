"""A button or command that needs a session, pressed logged out, runs once after the login."""

from __future__ import annotations

from datetime import timedelta

from assistant import credentials
from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import Outcome
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, text

PASSWORD = "Primavera2026"
TEMPORARY = "Tmp4Login77x"


async def customer_with_document(area: AreaData, number: str) -> tuple[int, int]:
    """A customer with one published document; returns (customer id, document id)."""
    customer = await area.customer()
    contract = await area.contract(customer)
    return customer, await area.document(contract, number=number)


async def account_with_password(
    area: AreaData, store: Store, customer: int, *, temporary: bool = False
) -> str:
    """An account whose password is known (or a temporary one); returns the username."""
    account_id = await area.account(customer, active=not temporary)
    now = area.clock.now()
    if temporary:
        hashed = await credentials.hash_password(TEMPORARY)
        await store.accounts.reset_password(account_id, hashed, now + timedelta(hours=24), now)
    else:
        await store.accounts.set_password(
            account_id, await credentials.hash_password(PASSWORD), now
        )
    return f"user{customer}"


async def log_in(chat: Chat, username: str, password: str = PASSWORD) -> Outcome:
    """Type /accedi, the username and the password."""
    await chat.say("/accedi")
    await chat.say(username)
    return await chat.say(password)


def documents(outcome: Outcome) -> list[str]:
    """File names of the documents in the outcome."""
    return [r.document.filename for r in outcome.replies if r.document is not None]


async def test_a_document_button_pressed_logged_out_is_sent_after_the_login(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer, document = await customer_with_document(area, "2024/000123")
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant)

    out = await chat.press(f"doc:{document}")
    assert "devi prima accedere" in text(out) and not documents(out)
    out = await log_in(chat, username)

    assert "Accesso eseguito" in text(out)
    assert documents(out) == ["2024-000123.pdf"]
    assert "2024/000123" in text(out)
    again = await chat.say("/menu")  # it ran once: nothing more arrives
    assert not documents(again)


async def test_a_forged_button_pressed_logged_out_is_refused_after_the_login(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer, _ = await customer_with_document(area, "2024/000001")
    _, someone_elses = await customer_with_document(area, "2024/000002")
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant)

    await chat.press(f"doc:{someone_elses}")
    out = await log_in(chat, username)

    assert "Accesso eseguito" in text(out)
    assert "non è disponibile nel tuo profilo" in text(out)
    assert not documents(out) and "2024/000002" not in text(out)
    assert [e.event for e in await store.audit.list("forged_button")] == ["forged_button"]


async def test_the_request_runs_after_the_forced_change_of_a_temporary_password(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer, _ = await customer_with_document(area, "2024/000077")
    username = await account_with_password(area, store, customer, temporary=True)
    chat = Chat(assistant)

    await chat.say("/fatture 2024/000077")  # a command, with its argument
    out = await log_in(chat, username, TEMPORARY)
    assert not documents(out)  # not yet: the new password comes first
    await chat.say(PASSWORD)
    out = await chat.say(PASSWORD)

    assert "Password aggiornata" in text(out)
    assert documents(out) == ["2024-000077.pdf"]


async def test_cancel_logout_and_time_forget_the_request(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    customer, document = await customer_with_document(area, "2024/000099")
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant)

    for forget in ("/annulla", "/esci"):
        await chat.press(f"doc:{document}")
        await chat.say(forget)
        out = await log_in(chat, username)
        assert "Accesso eseguito" in text(out) and not documents(out), forget
        await chat.say("/esci")

    await chat.press(f"doc:{document}")
    clock.advance(minutes=16)
    out = await log_in(chat, username)
    assert "Accesso eseguito" in text(out) and not documents(out)

    state = await store.chats.get("telegram", chat.chat_id)
    assert state is not None and state.pending_action is None and state.pending_at is None


async def test_a_document_number_typed_logged_out_is_sent_after_the_login(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer, _ = await customer_with_document(area, "2024/000321")
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant)

    out = await chat.say("fattura 2024/000321")
    assert "devi prima accedere" in text(out) and "riprendo da qui" in text(out)
    assert not documents(out)
    out = await log_in(chat, username)

    assert documents(out) == ["2024-000321.pdf"]


async def test_a_question_typed_logged_out_is_not_kept_for_after_the_login(
    assistant: Assistant, area: AreaData, store: Store
) -> None:
    customer, _ = await customer_with_document(area, "2024/000322")
    username = await account_with_password(area, store, customer)
    chat = Chat(assistant)

    await chat.say("ciao, ho smarrito la password")
    out = await log_in(chat, username)

    assert "Accesso eseguito" in text(out) and not documents(out)
    assert "smarrit" not in text(out)
