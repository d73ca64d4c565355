"""Telegram's 64-byte limit on a button's data: the renderer refuses more, and every button the
flows build fits it even when the ids in it are the widest the flows read back from a button
(``assistant.ownership.int_parts``)."""

from __future__ import annotations

from collections import deque
from datetime import date

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.messages import COMMANDS, Button, Outcome, Reply
from assistant.faq.examples import FAQ_IDS
from assistant.notice_delivery import Pacing, TelegramNoticeSender
from assistant.notices import NoticeFanout
from assistant.ownership import int_parts
from assistant.settings import Settings
from assistant.texts import Texts
from bot.telegram_render import keyboard
from bot.telegram_text import CALLBACK_DATA_LIMIT, callback_data_fits
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dialogs import Chat, make_assistant

ID_DIGITS = max(n for n in range(1, 20) if int_parts(f"x:{'9' * n}", 1))  # the widest id
SHIFT = 10**ID_DIGITS - 10**5  # every id gets that wide, with room for the rows the test adds
MAX_PRESSES = 400
CHAT = "100"


class Recorder:
    """A notifier (notices and staff replies) that keeps what it was asked to send."""

    pacing = Pacing(per_second=1000, chat_interval_seconds=0.0)

    def __init__(self) -> None:
        self.sent: list[Reply] = []

    async def send(self, chat_id: str, reply: Reply) -> None:
        """Record one message."""
        self.sent.append(reply)


def data_of(replies: tuple[Reply, ...] | list[Reply]) -> list[str]:
    """Every button's data, in order."""
    return [b.data for reply in replies for row in reply.buttons for b in row]


async def shift_ids(store: Store) -> None:
    """Add ``SHIFT`` to every integer ``id`` and to every column that references one."""
    async with store.db.transaction():
        await store.db.execute("PRAGMA defer_foreign_keys = ON")
        tables = [
            row[0]
            for row in await store.db.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        with_id = set()
        for table in tables:
            columns = await store.db.fetchall(f"PRAGMA table_info({table})")
            if any(c["name"] == "id" and c["pk"] == 1 for c in columns):
                with_id.add(table)
        for table in tables:
            shifted = ["id"] if table in with_id else []
            for key in await store.db.fetchall(f"PRAGMA foreign_key_list({table})"):
                if key["table"] in with_id and key["to"] == "id":
                    shifted.append(key["from"])
            if shifted:
                assignments = ", ".join(f"{c} = {c} + ?" for c in shifted)
                await store.db.execute(f"UPDATE {table} SET {assignments}", [SHIFT] * len(shifted))


def test_the_renderer_refuses_button_data_telegram_would_refuse() -> None:
    fits = "x" * CALLBACK_DATA_LIMIT
    assert keyboard(Reply("a", ((Button("ok", fits),),))) is not None
    for too_long in ("x" * (CALLBACK_DATA_LIMIT + 1), "è" * (CALLBACK_DATA_LIMIT // 2 + 1)):
        assert not callback_data_fits(too_long)  # bytes, not characters
        with pytest.raises(ValueError, match="button data"):
            keyboard(Reply("a", ((Button("ok", fits), Button("too long", too_long)),)))


@pytest.mark.sqlite_only  # shift_ids reads SQLite's catalogue (PRAGMA table_info, ...)
async def test_every_button_the_flows_build_fits_with_the_widest_ids(
    store: Store, settings: Settings, clock: ManualClock, area: AreaData
) -> None:
    customer = await area.customer()
    account = await area.account(customer)
    await area.link_chat(account, CHAT)
    active = await area.contract(customer)
    ended = await area.contract(customer, status="terminated", end=date(2023, 12, 31))
    documents = [
        await area.document(active, number=f"2024/{n:06d}", issue_date=date(2024, n % 12 + 1, 5))
        for n in range(12)  # two pages of one year
    ]
    await area.document(active, issue_date=date(2023, 6, 30), kind="credit_note")
    await area.document(ended, issue_date=date(2022, 1, 31))
    await store.communications.create_for(
        [customer], subject="Avviso", body="Testo", now=clock.now()
    )
    recorder = Recorder()
    assistant = make_assistant(store, settings, clock, notifier=recorder)
    reference = await assistant.tickets.open_from_chat(
        "telegram", CHAT, customer, "Una domanda", "it", clock.now()
    )
    await shift_ids(store)
    ticket = await assistant.tickets.find(reference)
    (communication,) = await store.communications.for_customer(customer + SHIFT)

    seen: set[str] = set()
    queue: deque[str] = deque()

    def collect(replies: tuple[Reply, ...] | list[Reply]) -> None:
        for data in data_of(replies):
            if data not in seen:
                seen.add(data)
                queue.append(data)

    chat = Chat(assistant, CHAT)

    async def fresh(what: str, *, press: bool) -> Outcome:
        """Logged in with no flow in progress, then the command ``what`` or the button."""
        await area.link_chat(account + SHIFT, CHAT)
        return await (chat.press(what) if press else chat.say(f"/{what}"))

    for command in COMMANDS:
        collect((await fresh(command, press=False)).replies)
    presses = 0
    while queue and presses < MAX_PRESSES:
        collect((await fresh(queue.popleft(), press=True)).replies)
        presses += 1
    assert not queue, f"more than {MAX_PRESSES} buttons"
    await assistant.tickets.staff_reply(ticket, "Ecco la risposta.", clock.now())
    fanout = NoticeFanout(
        store,
        Texts(settings.templates_dir),
        settings,
        clock,
        telegram=TelegramNoticeSender(store, recorder, clock),
    )
    assert await fanout.process_pending() == len(documents) + 3
    assert fanout.telegram is not None and await fanout.telegram.send_due() == 2
    collect(recorder.sent)

    expected = {
        f"ctr:o:{active + SHIFT}",
        f"inv:l:{active + SHIFT}:2024:10",  # the longest shape: contract, year, offset
        f"doc:{documents[0] + SHIFT}",
        f"com:o:{communication.id}",
        f"tkt:r:{ticket.id}",
    }
    assert expected <= seen and ticket.id > SHIFT
    too_long = sorted(data for data in seen if not callback_data_fits(data))
    assert too_long == []
    # the FAQ's choices need the matcher to be shown: their data is the route and a known id
    assert all(callback_data_fits(f"faq:{faq_id}") for faq_id in FAQ_IDS)
