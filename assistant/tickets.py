"""The channel-neutral ticket service: open, add messages, answer, close, reopen.

A ticket comes from the support mailbox or from a chat (/assistenza). Staff answers go back
where the ticket came from: a threaded e-mail through the outbox, or a chat message through
the injected ``ChatNotifier`` with a "Rispondi" button (``REPLY_BUTTON``, handled by
``assistant/flows/support.py``) so the customer answers in the same ticket. Every method
joins the caller's transaction when there is one, so the mailbox worker records a mail, its
ticket and its answer all at once.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from assistant.dialogs.messages import Button, Reply
from assistant.errors import DeliveryError, NotAllowed, NotFound
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.ticket_mail import (
    MAX_SUBJECT_CHARS,
    MailReply,
    answer_of,
    reply_headers,
    reply_subject,
)
from store.outbox import QueuedMail
from store.store import Store
from store.tickets import REFERENCE_PREFIX, Ticket

logger = logging.getLogger(__name__)

MAX_ID_DIGITS = 18  # an id typed by staff: longer cannot name a row (SQLite integers are 64-bit)
REPLY_BUTTON = "tkt:r:"  # + the ticket id: the customer answers a staff reply in the chat


class ChatNotifier(Protocol):
    """Sends a reply (text and buttons) to a chat; the Telegram adapter provides one."""

    async def send(self, chat_id: str, reply: Reply) -> int | None:
        """Deliver ``reply`` to ``chat_id``; raise ``DeliveryError`` when it cannot."""
        ...


class TicketService:
    """Tickets for every channel; answers by e-mail (outbox) or chat (notifier)."""

    def __init__(
        self,
        store: Store,
        texts: Texts,
        settings: Settings,
        *,
        notifier: ChatNotifier | None = None,
    ) -> None:
        self.store = store
        self.texts = texts
        self.settings = settings
        self.notifier = notifier
        self._default_subjects: dict[str, str] = {}

    async def open_ticket(
        self,
        *,
        channel: str,
        contact: str,
        customer_id: int | None,
        subject: str,
        text: str,
        language: str,
        now: datetime,
        status: str = "open",
        message_id: str | None = None,
        inbound_id: int | None = None,
    ) -> Ticket:
        """A new ticket holding the customer's first message."""
        async with self.store.db.transaction():
            ticket = await self.store.tickets.create(
                channel=channel,
                contact=contact,
                customer_id=customer_id,
                subject=subject[:MAX_SUBJECT_CHARS],
                language=language,
                status=status,
                now=now,
            )
            await self.store.tickets.add_message(
                ticket.id,
                direction="in",
                author="customer",
                body=text,
                now=now,
                message_id=message_id,
                inbound_id=inbound_id,
            )
        logger.info("ticket %s opened (%s)", ticket.reference, channel)
        return ticket

    async def add_customer_message(self, ticket: Ticket, text: str, now: datetime) -> None:
        """The customer wrote again: add it; an answered or closed ticket opens again."""
        await self.store.tickets.add_customer_message(ticket, text, now)
        logger.info("ticket %s: customer message", ticket.reference)

    def mail_body(self, ticket: Ticket, kind: str, **context: object) -> str:
        """The text of an e-mail answer from ``templates/<lang>/mail/<kind>.j2``."""
        return self.texts.render(
            ticket.language,
            f"mail/{kind}",
            reference=ticket.reference,
            support_address=self.settings.support_address,
            **context,
        )

    def _default_subject(self, language: str) -> str:
        """The subject of a mail that had none (rendered once per language)."""
        subject = self._default_subjects.get(language)
        if subject is None:
            subject = self.texts.render(language, "mail/default_subject")
            self._default_subjects[language] = subject
        return subject

    async def send_mail(
        self,
        ticket: Ticket,
        reply: MailReply,
        now: datetime,
        *,
        dedup_key: str | None = None,
        recorded_body: str | None = None,
    ) -> str | None:
        """Queue an e-mail on the ticket's thread and record it; return our Message-ID."""
        mail = self.reply_mail(ticket, reply, dedup_key=dedup_key)
        answer = answer_of(ticket, reply, now, recorded_body)
        queued = await self.store.tickets.queue_answer(mail, answer, now)
        return mail.message_id if queued else None

    def reply_mail(
        self, ticket: Ticket, reply: MailReply, *, dedup_key: str | None = None
    ) -> QueuedMail:
        """The outbox mail of an answer: threaded, ``Re:`` subject with the reference."""
        return QueuedMail(
            message_id=self.store.outbox.new_message_id(),
            dedup_key=dedup_key,
            kind=f"ticket_{reply.kind}",
            recipient=reply.recipient,
            subject=reply_subject(
                ticket.subject, ticket.reference, self._default_subject(ticket.language)
            ),
            body_text=reply.body,
            body_html=None,
            headers=reply_headers(reply),
        )

    async def open_from_chat(
        self,
        channel: str,
        chat_id: str,
        customer_id: int | None,
        text: str,
        lang: str,
        now: datetime,
    ) -> str:
        """/assistenza: a ticket linked to the chat; return its reference for the reply."""
        first_line = " ".join(text.strip().split("\n")[0].split())
        subject = first_line[:80] + ("…" if len(first_line) > 80 else "")
        ticket = await self.open_ticket(
            channel=channel,
            contact=chat_id,
            customer_id=customer_id,
            subject=subject,
            text=text.strip(),
            language=lang if lang in ("it", "en") else self.settings.default_language,
            now=now,
        )
        return ticket.reference

    async def add_from_chat(
        self, reference: str, channel: str, chat_id: str, text: str, now: datetime
    ) -> Ticket:
        """A follow-up written in the chat that opened the ticket."""
        ticket = await self.store.tickets.by_reference(reference)
        if ticket is None:
            raise NotFound(reference)
        if (ticket.channel, ticket.contact) != (channel, chat_id):
            raise NotAllowed(reference)
        await self.add_customer_message(ticket, text.strip(), now)
        return ticket

    async def find(self, key: int | str) -> Ticket:
        """A ticket by reference (``AC-123456`` or its six digits) or by id."""
        text = str(key).strip().upper()
        digits = text.removeprefix(REFERENCE_PREFIX)
        if not (digits.isascii() and digits.isdigit()) or len(digits) > MAX_ID_DIGITS:
            raise NotFound(text)
        ticket = None
        if len(digits) == 6:
            ticket = await self.store.tickets.by_reference(f"{REFERENCE_PREFIX}{digits}")
        if ticket is None and not text.startswith(REFERENCE_PREFIX):
            ticket = await self.store.tickets.get(int(digits))
        if ticket is None:
            raise NotFound(text)
        return ticket

    async def staff_reply(
        self, ticket: Ticket, body: str, now: datetime, *, staff_id: int | None = None
    ) -> None:
        """A person's answer, delivered where the ticket came from; the ticket is answered.

        ``staff_id``: the console's staff user (audited); None from the command line.
        """
        body = body.strip()
        if ticket.channel == "email":
            messages = await self.store.tickets.messages(ticket.id)
            thread = [m.message_id for m in messages if m.message_id]
            inbound = [m.message_id for m in messages if m.message_id and m.direction == "in"]
            reply = MailReply(
                kind="staff_reply",
                recipient=ticket.contact,
                body=self.mail_body(ticket, "staff_reply", body=body),
                in_reply_to=inbound[-1] if inbound else (thread[-1] if thread else None),
                references=tuple(thread),
                automatic=False,
            )
            async with self.store.db.transaction():
                await self.send_mail(ticket, reply, now, recorded_body=body)
                await self._answered(ticket, now, staff_id)
            return
        if self.notifier is None:
            raise DeliveryError(f"no chat notifier for {ticket.channel} tickets")
        text = self.texts.render(
            ticket.language, "tickets/staff_reply_chat", reference=ticket.reference, body=body
        )
        label = self.texts.render(ticket.language, "labels", key="ticket_reply")
        answer_button = Button(label, f"{REPLY_BUTTON}{ticket.id}")
        await self.notifier.send(ticket.contact, Reply(text, ((answer_button,),)))
        async with self.store.db.transaction():
            await self.store.tickets.add_message(
                ticket.id, direction="out", author="staff", kind="staff_reply", body=body, now=now
            )
            await self._answered(ticket, now, staff_id)

    async def _answered(self, ticket: Ticket, now: datetime, staff_id: int | None) -> None:
        await self._set_status(ticket, "answered", "ticket_staff_reply", now, staff_id)
        logger.info("ticket %s answered by staff", ticket.reference)

    async def close(self, ticket: Ticket, now: datetime, *, staff_id: int | None = None) -> None:
        """Close a ticket; a later customer message opens it again."""
        async with self.store.db.transaction():
            await self._set_status(ticket, "closed", "ticket_closed", now, staff_id)
        logger.info("ticket %s closed", ticket.reference)

    async def reopen(self, ticket: Ticket, now: datetime, *, staff_id: int | None = None) -> None:
        """Open a closed or answered ticket again (staff console)."""
        async with self.store.db.transaction():
            await self._set_status(ticket, "open", "ticket_reopened", now, staff_id)
        logger.info("ticket %s reopened by staff", ticket.reference)

    async def _set_status(
        self, ticket: Ticket, status: str, event: str, now: datetime, staff_id: int | None = None
    ) -> None:
        """Change the ticket's status and audit it (inside the caller's transaction)."""
        await self.store.tickets.set_status(ticket.id, status, now)
        await self.store.audit.record(
            event,
            now,
            customer_id=ticket.customer_id,
            channel=ticket.channel,
            detail=ticket.reference,
            staff_id=staff_id,
        )
