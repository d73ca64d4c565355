"""What a kill -9 of the Telegram notice sender may repeat: the notices it had claimed and not
yet recorded as sent. ``TELEGRAM_NOTICES_IN_FLIGHT`` bounds them; on PostgreSQL, where
replicas run, it defaults to 1 (claim, send, record, then the next notice), so a killed leader
repeats one notice at most. Messages go through the real Application's bot to the fake Bot API.
"""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from assistant.clock import ManualClock
from assistant.dialogs.messages import Reply
from assistant.errors import SettingsError
from assistant.notice_delivery import MAX_IN_FLIGHT, Notifier, Pacing, TelegramNoticeSender
from assistant.settings import Settings
from bot.telegram_render import TELEGRAM_PACING
from store.notices import NewTelegramNotice
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.telegram import TelegramHarness

CHATS = 30


class WatchedNotifier:
    """The bot's notifier, noting at every message how many notices were claimed and not
    settled (what a kill at that moment would send again) and how many were on the wire."""

    def __init__(self, notifier: Notifier, store: Store) -> None:
        self.notifier = notifier
        self.store = store
        self.on_the_wire = 0
        self.most_on_the_wire = 0
        self.most_unsettled = 0

    @property
    def pacing(self) -> Pacing:
        """Fast, and no wait between two messages to one chat: only the bound holds them."""
        return dataclasses.replace(TELEGRAM_PACING, per_second=1000, chat_interval_seconds=0)

    async def send(self, chat_id: str, reply: Reply) -> object:
        """Count, then deliver through the real bot (a little later, as over a real network)."""
        self.on_the_wire += 1
        self.most_on_the_wire = max(self.most_on_the_wire, self.on_the_wire)
        try:
            row = await self.store.db.fetchone(
                "SELECT COUNT(*) FROM telegram_notices"
                " WHERE status = 'pending' AND claimed_by IS NOT NULL"
            )
            self.most_unsettled = max(self.most_unsettled, int(row[0]) if row else 0)
            await asyncio.sleep(0.02)
            return await self.notifier.send(chat_id, reply)
        finally:
            self.on_the_wire -= 1


async def queue_notices(telegram: TelegramHarness, area: AreaData, clock: ManualClock) -> Store:
    """One notice for each of ``CHATS`` chats, due now; the harness's store."""
    store = telegram.store
    assert store is not None
    customer = await area.customer()
    await store.notices.enqueue_telegram(
        [
            NewTelegramNotice(f"notice-{chat}", str(8000 + chat), customer, f"Avviso {chat}", ())
            for chat in range(CHATS)
        ],
        clock.now(),
    )
    return store


@pytest.mark.parametrize("in_flight", [1, 3])
async def test_the_sender_never_holds_more_unrecorded_notices_than_its_bound(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, in_flight: int
) -> None:
    store = await queue_notices(telegram, area, clock)
    assert telegram.front is not None
    watched = WatchedNotifier(telegram.front.notifier(), store)
    sender = TelegramNoticeSender(store, watched, clock, max_in_flight=in_flight)

    assert await sender.send_due() == CHATS
    assert sorted(str(c.chat_id) for c in telegram.api.sent()) == sorted(
        str(8000 + chat) for chat in range(CHATS)
    )
    assert watched.most_unsettled <= in_flight  # what a kill at any moment would repeat
    assert watched.most_on_the_wire == in_flight  # and the bound is used, not undershot
    assert (await store.notices.telegram_counts()).get("pending", 0) == 0


def test_one_notice_in_flight_is_the_default_where_replicas_run() -> None:
    on_postgresql = Settings.from_environ({"AREACLIENTI_DB": "postgresql://u@db.example/area"})
    on_sqlite = Settings.from_environ({"AREACLIENTI_DB": "var/area.db"})
    assert on_postgresql.telegram_notices_in_flight == 1
    assert on_sqlite.telegram_notices_in_flight == MAX_IN_FLIGHT
    chosen = Settings.from_environ(
        {"AREACLIENTI_DB": "postgresql://u@db.example/area", "TELEGRAM_NOTICES_IN_FLIGHT": "5"}
    )
    assert chosen.telegram_notices_in_flight == 5


@pytest.mark.parametrize("value", ["0", "101", "tanti"])
def test_a_bad_in_flight_bound_is_refused_with_the_setting_named(value: str) -> None:
    with pytest.raises(SettingsError, match="TELEGRAM_NOTICES_IN_FLIGHT"):
        Settings.from_environ({"TELEGRAM_NOTICES_IN_FLIGHT": value})
