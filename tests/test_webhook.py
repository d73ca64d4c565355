"""Webhook mode end to end: Telegram's pushes (with and without the secret, repeated, out of
order, to two replicas over one database), the health checks, the drain (``tests/fixtures/webhook``
runs the replicas). Telegram's order within one chat is checked against the answers the same
messages get one by one in another chat.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest

from assistant.clock import Clock
from assistant.settings import Settings
from store.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.fixtures.webhook import (
    JOURNEY,
    PUBLIC_URL,
    SECRET,
    Replica,
    answered_one_by_one,
    replicas,
    texts_in,
    wait_until_waiting,
)
from web.app import MAX_BODY_BYTES


@pytest.fixture
async def replica(
    bot_api: FakeBotApi, settings: Settings, clock: Clock, store: Store
) -> AsyncIterator[Replica]:
    """One replica in webhook mode."""
    async with replicas(1, bot_api, settings, clock, store) as (one,):
        yield one


# --- one replica ------------------------------------------------------------------------------


async def test_start_pushed_to_the_webhook_is_answered(
    replica: Replica, bot_api: FakeBotApi
) -> None:
    assert bot_api.webhook is not None
    assert (bot_api.webhook.url, bot_api.webhook.secret) == (PUBLIC_URL, SECRET)
    assert bot_api.webhook.allowed_updates == ["message", "callback_query"]
    assert not any(c.method == "getUpdates" for c in bot_api.calls)  # nobody polls

    assert await bot_api.post_update(bot_api.push_text(7, "/start"), url=replica.url) == 200

    answer = "\n".join(texts_in(bot_api, 7))  # answered before the 200 came back
    assert "Benvenuto" in answer
    await replica.stop()
    assert not any(c.method == "deleteWebhook" for c in bot_api.calls)  # another replica serves


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET[:-1]])
async def test_a_push_without_the_secret_is_refused_and_changes_nothing(
    replica: Replica, bot_api: FakeBotApi, secret: str | None
) -> None:
    pushed = bot_api.push_text(8, "/start")

    assert await bot_api.post_update(pushed, url=replica.url, secret=secret) == 403

    assert texts_in(bot_api, 8) == []
    assert not await replica.store.updates.handled_before(pushed.update_id)
    assert await bot_api.post_update(pushed, url=replica.url) == 200  # Telegram's own retry
    assert "Benvenuto" in "\n".join(texts_in(bot_api, 8))


async def test_bad_json_or_a_body_too_large_is_refused(
    replica: Replica, bot_api: FakeBotApi
) -> None:
    pushed = bot_api.push_text(9, "/start")
    post = bot_api.post_update

    assert await post(pushed, url=replica.url, body=b"{not json") == 400
    assert await post(pushed, url=replica.url, body=b"\xff\xfe") == 400
    assert await post(pushed, url=replica.url, body=b'["update_id", 1]') == 400
    assert await post(pushed, url=replica.url, body=b'{"update_id": "1"}') == 400
    assert await post(pushed, url=replica.url, body=b'{"update_id": 5, "message": 3}') == 400
    large = json.dumps({"update_id": 6, "padding": "x" * MAX_BODY_BYTES}).encode()
    assert await post(pushed, url=replica.url, body=large) == 413

    assert texts_in(bot_api, 9) == []
    status, _ = await replica.get("/telegram/webhook")
    assert status == 405  # only POST


async def test_a_repeated_update_is_answered_once(replica: Replica, bot_api: FakeBotApi) -> None:
    pushed = bot_api.push_text(10, "/contatti")
    assert await bot_api.post_update(pushed, url=replica.url) == 200
    once = texts_in(bot_api, 10)

    assert await bot_api.post_update(pushed, url=replica.url) == 200  # Telegram's retry

    assert once and texts_in(bot_api, 10) == once


async def test_a_chats_updates_pushed_together_are_answered_in_order(
    replica: Replica, bot_api: FakeBotApi
) -> None:
    expected = await answered_one_by_one(bot_api, replica, 11)
    updates = [bot_api.push_text(12, text) for text in JOURNEY]
    bot_api.hold_sends()  # the first update stays in hand while the others arrive
    first = asyncio.create_task(bot_api.post_update(updates[0], url=replica.url))
    await bot_api.wait_sends_held()
    rest = [
        asyncio.create_task(bot_api.post_update(pushed, url=replica.url))
        for pushed in reversed(updates[1:])  # arriving in the worst order
    ]
    await wait_until_waiting([replica], len(rest))

    bot_api.release_sends()

    assert await asyncio.gather(first, *rest) == [200] * len(updates)
    assert texts_in(bot_api, 12) == expected


async def test_a_replica_still_starting_answers_503(
    bot_api: FakeBotApi, settings: Settings, clock: Clock, store: Store
) -> None:
    starting = Replica(bot_api, settings, clock, store)
    try:
        await starting.serve()
        pushed = bot_api.push_text(14, "/start")
        early = await bot_api.post_update(pushed, url=starting.url, secret=SECRET)
        assert early == 503  # Telegram tries again later
        status, body = await starting.get("/readyz")
        assert status == 503 and "telegram webhook: failed" in body

        await starting.run_front()

        assert await bot_api.post_update(pushed, url=starting.url) == 200
        assert "Benvenuto" in "\n".join(texts_in(bot_api, 14))
    finally:
        await starting.stop()


# --- health -----------------------------------------------------------------------------------


async def test_healthz_and_readyz_name_what_fails_and_nothing_else(
    replica: Replica, bot_api: FakeBotApi
) -> None:
    bot_api.down = True  # before any probe: nothing was answered recently
    status, body = await replica.get("/readyz")
    assert status == 503
    assert "database: ok" in body and "bot api: failed" in body
    assert await replica.get("/healthz") == (200, "ok")  # alive all the same

    bot_api.down = False
    status, body = await replica.get("/readyz")
    assert status == 200 and body.split("\n")[:3] == [
        "database: ok",
        "bot api: ok",
        "telegram webhook: ok",
    ]
    bot_api.down = True
    assert (await replica.get("/readyz"))[0] == 200  # getMe answered seconds ago still counts
    for secret in (SECRET, bot_api.token, bot_api.url, str(replica.settings.db_path)):
        assert secret not in body


async def test_draining_refuses_new_pushes_and_finishes_the_one_in_hand(
    replica: Replica, bot_api: FakeBotApi
) -> None:
    in_hand, later = bot_api.push_text(13, "/start"), bot_api.push_text(13, "/contatti")
    bot_api.hold_sends()
    first = asyncio.create_task(bot_api.post_update(in_hand, url=replica.url))
    await bot_api.wait_sends_held()
    drain = asyncio.create_task(replica.webhook.drain(10))
    await asyncio.sleep(0)

    assert await bot_api.post_update(later, url=replica.url) == 503  # Telegram retries later
    status, body = await replica.get("/readyz")
    assert status == 503 and "telegram webhook: failed" in body
    assert not drain.done()

    bot_api.release_sends()
    assert await first == 200
    await drain
    assert "Benvenuto" in "\n".join(texts_in(bot_api, 13))
    assert not await replica.store.updates.handled_before(later.update_id)


# --- two replicas, one database ---------------------------------------------------------------


async def test_two_replicas_answer_a_chat_once_each_update_in_order(
    bot_api: FakeBotApi, settings: Settings, clock: Clock, store: Store
) -> None:
    async with replicas(2, bot_api, settings, clock, store) as (one, two):
        expected = await answered_one_by_one(bot_api, one, 21)
        updates = [bot_api.push_text(22, text) for text in JOURNEY]
        targets = [one if n % 2 == 0 else two for n in range(len(updates))]  # alternating
        bot_api.hold_sends()
        posts = [asyncio.create_task(bot_api.post_update(updates[0], url=one.url))]
        await bot_api.wait_sends_held()
        for n, (pushed, target) in enumerate(zip(updates[1:], targets[1:], strict=True), 1):
            posts.append(asyncio.create_task(bot_api.post_update(pushed, url=target.url)))
            await wait_until_waiting([one, two], n)  # each in line before the next is pushed

        bot_api.release_sends()
        assert await asyncio.gather(*posts) == [200] * len(updates)

        # Telegram's retries, to the other replica: answered 200, handled no more
        for pushed, target in zip(updates, reversed(targets), strict=True):
            assert await bot_api.post_update(pushed, url=target.url) == 200
        assert texts_in(bot_api, 22) == expected
