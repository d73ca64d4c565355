"""Publication notices end to end: e-mail to aiosmtpd, chat messages through the real
Application's bot to the fake Bot API; grouping, Forbidden, and a kill in the middle."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from datetime import date

from assistant.clock import ManualClock
from assistant.dialogs.messages import Reply
from assistant.notice_delivery import Notifier, Pacing, TelegramNoticeSender
from assistant.notices import NoticeFanout
from assistant.settings import Settings
from assistant.texts import Texts
from bot.telegram_render import TELEGRAM_PACING
from mailbox.outbound.sender import OutboxSender
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.telegram import TelegramHarness


def fanout_for(
    telegram: TelegramHarness,
    clock: ManualClock,
    store: Store | None = None,
    notifier: Notifier | None = None,
    pacing: Pacing | None = None,
) -> NoticeFanout:
    """A fan-out on the harness's store (or ``store``) sending through its bot (at ``pacing``
    instead of Telegram's when given)."""
    store = store or telegram.store
    assert store is not None and telegram.front is not None
    notifier = notifier or telegram.front.notifier()
    delivery = TelegramNoticeSender(store, notifier, clock, pacing=pacing)
    return NoticeFanout(
        store, Texts(telegram.settings.templates_dir), telegram.settings, clock, telegram=delivery
    )


async def registered(area: AreaData, chat_id: int | None, **account: object) -> tuple[int, int]:
    """A customer with an active account (and a linked chat); returns (customer, contract)."""
    customer = await area.customer()
    account_id = await area.account(customer, **account)  # type: ignore[arg-type]
    if chat_id is not None:
        await area.link_chat(account_id, str(chat_id), logged_in=False)
    return customer, await area.contract(customer)


async def test_documents_published_together_make_one_mail_and_one_chat_message(
    telegram: TelegramHarness,
    area: AreaData,
    clock: ManualClock,
    store: Store,
    smtp_server: SmtpServer,
    settings: Settings,
) -> None:
    _, contract = await registered(area, 71, email="rossi@example.it")
    documents = [
        await area.document(contract, number=f"2024/00050{n}", issue_date=date(2024, n, 28))
        for n in (1, 2, 3)
    ]
    fanout = fanout_for(telegram, clock)

    assert await fanout.process_pending() == 3
    assert fanout.telegram is not None and await fanout.telegram.send_due() == 1
    await OutboxSender(store, smtp_server.settings_for(settings), clock).send_due()

    (message,) = telegram.api.sent(71)
    assert message.method == "sendMessage" and "3 nuovi documenti" in (message.text or "")
    assert [data for _, data in message.buttons] == [f"doc:{d}" for d in documents]
    (mail,) = await smtp_server.wait_for(1)
    assert mail.rcpt_tos == ("rossi@example.it",)
    body = mail.message().get_body(("plain",))
    assert body is not None and all(f"2024/00050{n}" in body.get_content() for n in (1, 2, 3))

    logged_out = await telegram.press(71, message.buttons[0][1])
    assert logged_out.documents == [] and "accedere" in logged_out.text
    chat = await store.chats.get("telegram", "71")
    assert chat is not None and chat.account_id is not None
    await area.link_chat(chat.account_id, "71", logged_in=True)
    pressed = await telegram.press(71, message.buttons[0][1])  # in a session: the PDF
    (upload,) = pressed.documents
    document = await store.documents.get(documents[0])
    assert document is not None and document.pdf_path is not None
    assert upload.files["document"] == (settings.data_dir / document.pdf_path).read_bytes()


async def test_a_chat_that_blocked_the_bot_gets_no_more_notices_but_email_still_goes(
    telegram: TelegramHarness,
    area: AreaData,
    clock: ManualClock,
    store: Store,
    smtp_server: SmtpServer,
    settings: Settings,
) -> None:
    blocked_customer, blocked_contract = await registered(area, 81, email="blocked@example.it")
    _, other_contract = await registered(area, 82, email="other@example.it")
    await area.document(blocked_contract)
    await area.document(other_contract)
    telegram.api.forbid(81)
    fanout = fanout_for(telegram, clock)
    sender = OutboxSender(store, smtp_server.settings_for(settings), clock)

    await fanout.process_pending()
    assert fanout.telegram is not None and await fanout.telegram.send_due() == 1
    await sender.send_due()

    assert len(telegram.api.sent(82)) == 1
    assert len(telegram.api.sent(81)) == 1  # the one refused attempt
    chat = await store.chats.get("telegram", "81")
    assert chat is not None and chat.notices_stopped_at is not None
    (event,) = await store.audit.list("telegram_notices_stopped")
    assert event.customer_id == blocked_customer and event.chat_id == "81"

    await area.document(blocked_contract)  # the next publication: e-mail only
    await fanout.process_pending()
    await fanout.telegram.send_due()
    await sender.send_due()

    assert len(telegram.api.sent(81)) == 1
    mails = await smtp_server.wait_for(3)
    assert sorted(m.rcpt_tos[0] for m in mails) == [
        "blocked@example.it",
        "blocked@example.it",
        "other@example.it",
    ]


async def test_customers_who_turned_telegram_notices_off_get_only_the_email(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, store: Store
) -> None:
    _, contract = await registered(area, 91, telegram_notices=False)
    await area.document(contract)
    fanout = fanout_for(telegram, clock)

    await fanout.process_pending()
    assert fanout.telegram is not None and await fanout.telegram.send_due() == 0

    assert telegram.api.sent(91) == [] and len(await store.outbox.list()) == 1


async def test_one_chat_gets_at_most_one_message_per_interval(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, store: Store
) -> None:
    customer, contract = await registered(area, 95)
    await area.document(contract)
    await store.communications.create_for(
        [customer], subject="Avviso", body="Testo", now=clock.now()
    )
    pacing = dataclasses.replace(TELEGRAM_PACING, chat_interval_seconds=0.3)
    fanout = fanout_for(telegram, clock, pacing=pacing)

    await fanout.process_pending()
    assert fanout.telegram is not None and await fanout.telegram.send_due() == 2

    first, second = telegram.api.sent(95)
    assert second.at - first.at >= 0.3
    assert second.buttons[0][1].startswith("com:o:")


class KillAfter:
    """Forwards to the real notifier; after ``sends`` sends it kills the fan-out task."""

    def __init__(self, notifier: Notifier, sends: int) -> None:
        self.notifier = notifier
        self.pacing = notifier.pacing
        self.left = sends
        self.victim: asyncio.Task[None] | None = None

    async def send(self, chat_id: str, reply: Reply) -> object:
        result = await self.notifier.send(chat_id, reply)
        self.left -= 1
        if self.left == 0 and self.victim is not None:
            self.victim.cancel()
        return result


async def test_a_notice_is_sent_exactly_once_across_a_kill_and_restart(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, settings: Settings
) -> None:
    chats = list(range(61, 69))
    for chat_id in chats:
        _, contract = await registered(area, chat_id)
        await area.document(contract)
        await area.document(contract)
    assert telegram.front is not None
    first_process = await Store.open(settings.db_target)
    killer = KillAfter(telegram.front.notifier(), sends=3)
    slow = dataclasses.replace(TELEGRAM_PACING, per_second=4)
    fanout = fanout_for(telegram, clock, store=first_process, notifier=killer, pacing=slow)
    task = asyncio.create_task(fanout.run())
    killer.victim = task
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=10)
    await first_process.close()
    before_restart = len(telegram.api.sent())
    assert 3 <= before_restart < len(chats)  # killed in the middle of the fan-out

    second_process = await Store.open(settings.db_target)
    try:
        restarted = fanout_for(telegram, clock, store=second_process)
        assert await restarted.process_pending() == 0  # every notice was already fanned out
        assert restarted.telegram is not None
        await restarted.telegram.send_due()
        counts = await second_process.notices.telegram_counts()
        mails = await second_process.outbox.list()
    finally:
        await second_process.close()

    for chat_id in chats:
        assert len(telegram.api.sent(chat_id)) == 1, chat_id
    assert counts == {"sent": len(chats)}
    assert len(mails) == len(chats)  # one e-mail per customer, never two


async def test_many_documents_make_one_short_chat_message(
    telegram: TelegramHarness, area: AreaData, clock: ManualClock, store: Store
) -> None:
    _, contract = await registered(area, 97)
    for n in range(1, 26):
        await area.document(contract, number=f"2025/{n:06d}")
    fanout = fanout_for(telegram, clock)

    await fanout.process_pending()

    (queued,) = await store.notices.telegram_for_chat("97")
    assert "25 nuovi documenti" in queued.body and "…e 15 altri" in queued.body
    assert len(queued.buttons) == 10 and len(queued.body) < 4096
    (mail,) = await store.outbox.list()
    assert all(f"2025/{n:06d}" in mail.body_text for n in range(1, 26))  # the e-mail lists all
