"""The webhook's parts without a server: its settings, the chats' turns, the handled update ids."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import SettingsError
from assistant.settings import Settings
from store.errors import StoreBusy
from store.store import Store
from store.updates import ChatQueue

WEBHOOK = {
    "TELEGRAM_BOT_TOKEN": "123:abc",
    "TELEGRAM_MODE": "webhook",
    "TELEGRAM_WEBHOOK_URL": "https://areaclienti.example.it/telegram/webhook",
    "TELEGRAM_WEBHOOK_SECRET": "A-z_09" * 40,
}


def test_polling_is_the_default_and_webhook_mode_reads_its_settings() -> None:
    assert Settings.from_environ({}).telegram_mode == "polling"
    settings = Settings.from_environ(WEBHOOK)
    assert settings.telegram_mode == "webhook"
    assert settings.telegram_webhook_url == WEBHOOK["TELEGRAM_WEBHOOK_URL"]
    assert settings.telegram_webhook_secret == WEBHOOK["TELEGRAM_WEBHOOK_SECRET"]
    assert WEBHOOK["TELEGRAM_WEBHOOK_SECRET"] not in repr(settings)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TELEGRAM_MODE", "push"),
        ("TELEGRAM_MODE", "webhooks"),
        ("TELEGRAM_WEBHOOK_URL", ""),
        ("TELEGRAM_WEBHOOK_URL", "http://areaclienti.example.it/telegram/webhook"),
        ("TELEGRAM_WEBHOOK_URL", "https:///telegram/webhook"),
        ("TELEGRAM_WEBHOOK_URL", "areaclienti.example.it/telegram/webhook"),
        ("TELEGRAM_WEBHOOK_SECRET", ""),
        ("TELEGRAM_WEBHOOK_SECRET", "x" * 257),
        ("TELEGRAM_WEBHOOK_SECRET", "con spazio"),
        ("TELEGRAM_WEBHOOK_SECRET", "sì"),
    ],
)
def test_a_bad_webhook_setting_is_named_and_the_secret_never_echoed(
    variable: str, value: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({**WEBHOOK, variable: value})
    assert str(raised.value).startswith(f"{variable}:")
    if variable == "TELEGRAM_WEBHOOK_SECRET" and value:
        assert value not in str(raised.value)


def test_webhook_mode_needs_the_bot_token() -> None:
    without = {k: v for k, v in WEBHOOK.items() if k != "TELEGRAM_BOT_TOKEN"}
    with pytest.raises(SettingsError, match="TELEGRAM_BOT_TOKEN"):
        Settings.from_environ(without)
    assert Settings.from_environ({"TELEGRAM_WEBHOOK_SECRET": "x y"}).telegram_mode == "polling"


async def test_waiters_of_one_chat_go_lowest_update_first_other_chats_freely() -> None:
    queue, order = ChatQueue(), []
    first_in = asyncio.Event()
    release = asyncio.Event()

    async def update(chat: str, update_id: int) -> None:
        async with queue.hold(chat, update_id):
            order.append((chat, update_id))
            if update_id == 1:
                first_in.set()
                await release.wait()

    holder = asyncio.create_task(update("a", 1))
    await first_in.wait()
    waiters = [asyncio.create_task(update("a", n)) for n in (5, 3, 4, 2)]
    other = asyncio.create_task(update("b", 9))
    await other  # another chat is not held up
    while queue.waiting("a") < 4:
        await asyncio.sleep(0)
    release.set()
    await asyncio.gather(holder, *waiters)

    assert order == [("a", 1), ("b", 9), ("a", 2), ("a", 3), ("a", 4), ("a", 5)]
    assert queue.waiting() == 0 and not queue._turns  # nothing kept for idle chats


async def test_a_cancelled_waiter_leaves_the_line_and_the_turn_goes_on() -> None:
    queue, order = ChatQueue(), []
    release = asyncio.Event()

    async def update(update_id: int) -> None:
        async with queue.hold("a", update_id):
            order.append(update_id)
            if update_id == 1:
                await release.wait()

    holder = asyncio.create_task(update(1))
    await asyncio.sleep(0)
    cancelled, later = asyncio.create_task(update(2)), asyncio.create_task(update(3))
    while queue.waiting("a") < 2:
        await asyncio.sleep(0)
    cancelled.cancel()
    release.set()
    await asyncio.gather(holder, later)

    assert order == [1, 3] and cancelled.cancelled()
    assert not queue._turns


async def test_an_update_is_recorded_once_and_old_records_are_pruned(store: Store) -> None:
    now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
    assert not await store.updates.handled_before(500)

    assert await store.updates.record_handled(500, now)
    assert not await store.updates.record_handled(500, now)  # a second replica's record
    assert await store.updates.handled_before(500)
    assert await store.updates.record_handled(2**40, now + timedelta(days=3))  # a 64-bit id

    assert await store.updates.prune(now + timedelta(days=1)) == 1
    assert not await store.updates.handled_before(500)
    assert await store.updates.handled_before(2**40)
    assert await store.health.database_answers()


async def _lock_waiters(store: Store) -> int:
    row = await store.db.fetchone(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    )
    return int(row[0]) if row else 0


async def test_a_chats_turn_excludes_other_replicas_and_reuses_its_connections(
    store: Store, settings: Settings
) -> None:
    if store.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's advisory locks: run with AREACLIENTI_TEST_BACKEND=postgresql")
    other = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    try:
        order: list[str] = []
        inside, release = asyncio.Event(), asyncio.Event()

        async def first() -> None:
            async with store.updates.chat_turn("77", 1):
                order.append("one in")
                inside.set()
                await release.wait()
                order.append("one out")

        async def second() -> None:
            async with other.updates.chat_turn("77", 2):
                order.append("two in")

        one = asyncio.create_task(first())
        await inside.wait()
        two = asyncio.create_task(second())
        async with asyncio.timeout(10):
            while await _lock_waiters(store) < 1:
                await asyncio.sleep(0.01)
        release.set()
        await asyncio.gather(one, two)
        assert order == ["one in", "one out", "two in"]

        async with store.updates.chat_turn("78", 3):  # a waiter cancelled takes nothing along
            waiter = asyncio.create_task(_enter(other, "78", 4))
            async with asyncio.timeout(10):
                while await _lock_waiters(store) < 1:
                    await asyncio.sleep(0.01)
            waiter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await waiter
        async with asyncio.timeout(10):
            await _enter(other, "78", 5)

        sessions = "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
        before = await store.db.fetchone(sessions)
        for update_id in range(10, 30):
            await _enter(store, str(update_id % 3), update_id)
        after = await store.db.fetchone(sessions)
        assert before is not None and after is not None and int(after[0]) <= int(before[0]) + 1
    finally:
        await other.close()


async def _enter(store: Store, chat: str, update_id: int) -> None:
    async with store.updates.chat_turn(chat, update_id):
        pass


async def test_a_turn_is_recorded_before_the_next_replica_gets_the_chat_and_its_writes_time_out(
    store: Store, settings: Settings
) -> None:
    if store.db.dialect != "postgresql":
        pytest.skip("PostgreSQL's chat locks: run with AREACLIENTI_TEST_BACKEND=postgresql")
    from store.chats import ChatState

    other = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    busy = await Store.open(settings.db_target, busy_timeout=1)  # a statement waits 1 s at most
    try:
        now = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
        seen: list[bool] = []

        async def retry_elsewhere() -> None:  # Telegram's retry of update 7, at another replica
            async with other.updates.chat_turn("90", 7):
                seen.append(await other.updates.handled_before(7))

        async with store.updates.chat_turn("90", 7):
            assert not await store.updates.handled_before(7)
            retry = asyncio.create_task(retry_elsewhere())
            async with asyncio.timeout(10):
                while await _lock_waiters(other) < 1:
                    await asyncio.sleep(0.01)
            await store.chats.save(ChatState("telegram", "90", language="it"), now)
            assert await store.updates.record_handled(7, now)
        await asyncio.wait_for(retry, 10)
        assert seen == [True]  # the retry found the answer recorded: not answered twice
        chat = await other.chats.get("telegram", "90")
        assert chat is not None and chat.language == "it"

        # A turn's statements keep the store's timeouts: a row held by a long transaction
        # elsewhere makes the turn's write fail with "busy" after the busy timeout, not hang.
        async with other.db.transaction():
            await other.db.execute("UPDATE chats SET language = 'en' WHERE chat_id = '90'")
            async with busy.updates.chat_turn("90", 8), asyncio.timeout(20):
                with pytest.raises(StoreBusy):
                    await busy.chats.save(ChatState("telegram", "90", language="it"), now)
        chat = await busy.chats.get("telegram", "90")
        assert chat is not None and chat.language == "en"
    finally:
        await other.close()
        await busy.close()
