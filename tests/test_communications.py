"""/comunicazioni: newest first, unread marked, opening one marks it read."""

from __future__ import annotations

from assistant.clock import ManualClock
from assistant.dialogs.core import Assistant
from bot.telegram_text import TEXT_LIMIT, telegram_length
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import button, labels, text
from tests.fixtures.telegram import TelegramHarness
from tests.test_contracts import logged_in_chat

LONG_BODY = "\n".join(f"Paragrafo {n}: " + "testo " * 60 for n in range(40))


async def test_newest_first_unread_marked_and_opening_marks_read(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    customer = await area.customer()
    await store.communications.create_for(
        [customer], subject="Nuovo IBAN", body="Dal 1° marzo cambia l'IBAN.", now=clock.now()
    )
    clock.advance(days=3)
    await store.communications.create_for(
        [customer], subject="Chiusura estiva", body="Filiale chiusa ad agosto.", now=clock.now()
    )
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.say("/comunicazioni")
    shown = text(out)
    assert "2 da leggere" in shown
    assert shown.index("Chiusura estiva") < shown.index("Nuovo IBAN")
    assert shown.count("🔵 NUOVA") == 2

    out = await chat.press(button(out, "Nuovo IBAN"))
    assert "Dal 1° marzo cambia l'IBAN." in text(out)

    shown = text(await chat.say("/comunicazioni"))
    assert "1 da leggere" in shown and shown.count("🔵 NUOVA") == 1
    assert "▫️ 15/01/2026 · Nuovo IBAN" in shown


async def test_a_long_communication_is_one_reply_of_the_core(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    customer = await area.customer()
    await store.communications.create_for(
        [customer], subject="Condizioni", body=LONG_BODY, now=clock.now()
    )
    (item,) = await store.communications.for_customer(customer)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.press(f"com:o:{item.id}")

    (reply,) = out.replies  # the channel splits it (Telegram: below)
    assert "Paragrafo 0:" in reply.text and "Paragrafo 39:" in reply.text
    assert labels(out) == ["↩️ Elenco comunicazioni"]


async def test_a_long_communication_arrives_in_several_messages(
    telegram: TelegramHarness, area: AreaData, store: Store, clock: ManualClock
) -> None:
    customer = await area.customer()
    await store.communications.create_for(
        [customer], subject="Condizioni", body=LONG_BODY, now=clock.now()
    )
    (item,) = await store.communications.for_customer(customer)
    await area.link_chat(await area.account(customer), "4242")

    answer = await telegram.press(4242, f"com:o:{item.id}")

    assert len(answer.texts) > 1
    assert all(telegram_length(t) <= TEXT_LIMIT for t in answer.texts)
    assert "Paragrafo 0:" in answer.texts[0] and "Paragrafo 39:" in answer.texts[-1]
    messages = [c for c in answer.calls if c.method == "sendMessage"]
    assert [bool(c.buttons) for c in messages] == [False] * (len(messages) - 1) + [True]
    assert answer.buttons == [("↩️ Elenco comunicazioni", "com:l:0")]


async def test_another_customers_communication_is_refused(
    assistant: Assistant, area: AreaData, store: Store, clock: ManualClock
) -> None:
    customer = await area.customer()
    stranger = await area.customer("Altro")
    await store.communications.create_for(
        [stranger], subject="Riservata", body="Segreto", now=clock.now()
    )
    (theirs,) = await store.communications.for_customer(stranger)
    chat = await logged_in_chat(assistant, area, customer)

    out = await chat.press(f"com:o:{theirs.id}")

    assert "Segreto" not in text(out) and "non è disponibile" in text(out)
    assert (await store.communications.get(theirs.id)).unread  # type: ignore[union-attr]
    assert len(await store.audit.list("forged_button")) == 1


async def test_no_communications_yet(assistant: Assistant, area: AreaData) -> None:
    chat = await logged_in_chat(assistant, area, await area.customer())
    assert "non hai comunicazioni" in text(await chat.say("/messages"))
