"""Publication notices: the fan-out from the ``notices`` table to e-mails and Telegram messages.

    publish / announce --> notices (pending) --process_pending--> one transaction:
                              outbox rows (one e-mail per customer and batch, dedup_key)
                              telegram_notices rows (one per linked chat, dedup_key)
                              notices.processed_at set
    OutboxSender (mailbox.outbound.sender) sends the e-mails; TelegramNoticeSender the chat
    messages.

Rules (issue 5, and the guide: documents are available when the bank sends the e-mail notice):
- only customers with an *active* account hear from us; others' notices are settled silently
  (they still receive paper);
- the documents of one customer pending together make ONE e-mail and ONE Telegram message per
  chat (the message lists the first ``MAX_LISTED_DOCUMENTS`` with a PDF button each); each
  communication makes its own e-mail (its subject) and chat message (a "read" button);
- Telegram goes to the account's linked chats unless the customer turned notices off
  (accounts.telegram_notices) or the chat blocked the bot (chats.notices_stopped_at);
- everything of a batch is written in the transaction that settles its notices, so a kill at
  any point loses nothing and queues nothing twice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable
from dataclasses import dataclass

from assistant.clock import Clock
from assistant.notice_delivery import Notifier, TelegramNoticeSender
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.wakeup import raise_if_cancelled, wait_or_timeout
from store.communications import Communication
from store.notices import NewTelegramNotice, NoticeDocument, NoticeRecipient, PendingNotice
from store.store import Store

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.5
BATCH_CUSTOMERS = 500
MAX_LISTED_DOCUMENTS = 10
MAX_SUBJECT_IN_CHAT = 200
DOCUMENT_BUTTON = "doc:{}"  # handled by assistant.flows.invoices
COMMUNICATION_BUTTON = "com:o:{}"  # handled by assistant.flows.communications


class FanoutConflict(Exception):
    """Another process settled some of the same notices meanwhile: redo the batch."""


@dataclass(frozen=True)
class _Mail:
    dedup_key: str
    recipient: str
    subject: str
    text: str
    html: str | None


class NoticeFanout:
    """Turns pending notices into queued e-mails and Telegram messages; sends the latter."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        settings: Settings,
        clock: Clock,
        notifier: Notifier | None = None,
        *,
        poll_seconds: float = POLL_SECONDS,
        batch_customers: int = BATCH_CUSTOMERS,
        on_mail_queued: Callable[[], None] | None = None,
        telegram: TelegramNoticeSender | None = None,
    ) -> None:
        self.store = store
        self.texts = texts
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_customers = batch_customers
        self.on_mail_queued = on_mail_queued
        if telegram is None and notifier is not None:
            telegram = TelegramNoticeSender(store, notifier, clock)
        self.telegram = telegram
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Ask for a fan-out pass now (notices were queued in this process)."""
        self._wake.set()

    async def run(self, *, send_telegram: bool = True) -> None:
        """Fan out and send until cancelled; picks up notices queued by other processes.

        ``send_telegram=False``: the fan-out alone (it still queues the chat messages); the
        service runs ``self.telegram`` on the leader replica only (``assistant.leadership``).
        """
        async with asyncio.TaskGroup() as group:
            group.create_task(self._poll())
            if self.telegram is not None and send_telegram:
                group.create_task(self.telegram.run())

    async def _poll(self) -> None:
        while True:
            raise_if_cancelled()
            self._wake.clear()
            try:
                await self.process_pending()
            except Exception:
                logger.exception("notice fan-out failed; trying again shortly")
            await wait_or_timeout(self._wake, self.poll_seconds)

    async def process_pending(self) -> int:
        """Queue the e-mails and chat messages of every pending notice; return how many."""
        total = 0
        while customers := await self.store.notices.pending_customers(self.batch_customers):
            try:
                total += await self._process(customers)
            except FanoutConflict:
                logger.info("notices settled by another process meanwhile; batch redone")
        return total

    async def _process(self, customer_ids: list[int]) -> int:
        """One batch of customers: read, render, then write everything in one transaction."""
        notices = await self.store.notices.pending_for(customer_ids)
        recipients = await self.store.notices.recipients(customer_ids)
        wanted = [n for n in notices if n.customer_id in recipients]
        documents = await self.store.notices.documents(
            [n.document_id for n in wanted if n.document_id is not None]
        )
        communications = await self.store.communications.many(
            [n.communication_id for n in wanted if n.communication_id is not None]
        )
        mails: list[_Mail] = []
        messages: list[NewTelegramNotice] = []
        for customer_id, group in itertools.groupby(wanted, key=lambda n: n.customer_id):
            recipient = recipients[customer_id]
            items = list(group)
            self._documents_notice(recipient, items, documents, mails, messages)
            for notice in items:
                if notice.communication_id in communications:
                    self._communication_notice(
                        recipient, notice, communications[notice.communication_id], mails, messages
                    )
        now = self.clock.now()
        async with self.store.db.transaction():
            for mail in mails:
                await self.store.outbox.enqueue(
                    kind="notice",
                    recipient=mail.recipient,
                    subject=mail.subject,
                    body_text=mail.text,
                    body_html=mail.html,
                    dedup_key=mail.dedup_key,
                    now=now,
                )
            if messages:
                await self.store.notices.enqueue_telegram(messages, now)
            settled = await self.store.notices.mark_processed([n.id for n in notices], now)
            if settled != len(notices):
                raise FanoutConflict
        logger.info(
            "notices: %d settled for %d customers, %d e-mails and %d chat messages queued",
            len(notices),
            len(customer_ids),
            len(mails),
            len(messages),
        )
        if mails and self.on_mail_queued is not None:
            self.on_mail_queued()
        if messages and self.telegram is not None:
            self.telegram.wake()
        return len(notices)

    def _chats(self, recipient: NoticeRecipient) -> tuple[str, ...]:
        """The chats to notify: none when this process has no Telegram."""
        return recipient.chat_ids if self.telegram is not None else ()

    def _language(self, recipient: NoticeRecipient) -> str:
        return recipient.language or self.settings.default_language

    def _documents_notice(
        self,
        recipient: NoticeRecipient,
        items: list[PendingNotice],
        documents: dict[int, NoticeDocument],
        mails: list[_Mail],
        messages: list[NewTelegramNotice],
    ) -> None:
        """One e-mail and one chat message per chat for all of a customer's new documents."""
        published = [n for n in items if n.document_id in documents]
        if not published:
            return
        listed = sorted(
            (documents[n.document_id] for n in published if n.document_id is not None),
            key=lambda d: (d.contract_label, d.issue_date, d.number),
        )
        lang = self._language(recipient)
        context = {
            "customer_name": recipient.customer_name,
            "documents": listed,
            "support_address": self.settings.support_address,
        }
        key = f"notice:{published[0].id}"
        mails.append(
            _Mail(
                dedup_key=key,
                recipient=recipient.email,
                subject=self.texts.render(lang, "notices/documents_subject", **context),
                text=self.texts.render(lang, "notices/documents_email", **context),
                html=self.texts.render_html(lang, "notices/documents_email", **context),
            )
        )
        chat_ids = self._chats(recipient)
        if not chat_ids:
            return
        shown = listed[:MAX_LISTED_DOCUMENTS]
        body = self.texts.render(
            lang,
            "notices/documents_telegram",
            documents=shown,
            total=len(listed),
            more=len(listed) - len(shown),
        )
        buttons = tuple(
            (
                self.texts.render(lang, "notices/document_button", number=d.number),
                DOCUMENT_BUTTON.format(d.id),
            )
            for d in shown
        )
        for chat_id in chat_ids:
            messages.append(
                NewTelegramNotice(
                    f"{key}:telegram:{chat_id}", chat_id, recipient.customer_id, body, buttons
                )
            )

    def _communication_notice(
        self,
        recipient: NoticeRecipient,
        notice: PendingNotice,
        communication: Communication,
        mails: list[_Mail],
        messages: list[NewTelegramNotice],
    ) -> None:
        """One e-mail carrying the communication, one chat message with a "read" button."""
        lang = self._language(recipient)
        context = {
            "customer_name": recipient.customer_name,
            "subject": communication.subject,
            "body": communication.body,
            "support_address": self.settings.support_address,
        }
        key = f"notice:{notice.id}"
        mails.append(
            _Mail(
                dedup_key=key,
                recipient=recipient.email,
                subject=self.texts.render(lang, "notices/communication_subject", **context),
                text=self.texts.render(lang, "notices/communication_email", **context),
                html=None,
            )
        )
        chat_ids = self._chats(recipient)
        if not chat_ids:
            return
        subject = communication.subject
        if len(subject) > MAX_SUBJECT_IN_CHAT:
            subject = subject[: MAX_SUBJECT_IN_CHAT - 1] + "…"
        body = self.texts.render(lang, "notices/communication_telegram", subject=subject)
        label = self.texts.render(lang, "notices/communication_button")
        buttons = ((label, COMMUNICATION_BUTTON.format(communication.id)),)
        for chat_id in chat_ids:
            messages.append(
                NewTelegramNotice(
                    f"{key}:telegram:{chat_id}", chat_id, recipient.customer_id, body, buttons
                )
            )
