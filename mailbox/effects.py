"""The effects of a mailbox ``Decision``: tickets, answers, bounce marks, audit events.

Called by the worker inside the transaction that records the mail's identity, so a message and
everything it causes are written together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from assistant.settings import Settings
from assistant.tickets import MailReply, TicketService
from mailbox.decide import Action, Decision, MailFacts
from mailbox.parse import ParsedMail
from store.store import Store
from store.tickets import Ticket

logger = logging.getLogger(__name__)

MEGABYTE = 1024 * 1024


class MailEffects:
    """Applies decisions: opens and updates tickets, queues answers, marks failing addresses."""

    def __init__(
        self,
        store: Store,
        tickets: TicketService,
        settings: Settings,
        faq_answer: Callable[[str, str], str] | None,
    ) -> None:
        self.store = store
        self.tickets = tickets
        self.settings = settings
        self.faq_answer = faq_answer

    async def apply(
        self,
        mail: ParsedMail,
        decision: Decision,
        facts: MailFacts,
        *,
        inbound_id: int,
        customer_id: int | None,
        now: datetime,
    ) -> Ticket | None:
        """Write everything the decision causes; return the ticket it concerns, if any."""
        action = decision.action
        if action is Action.BOUNCE:
            await self._bounce(facts, mail, now)
            return None
        if action in (Action.DUPLICATE, Action.AUTOMATIC):
            return None
        text = self._ticket_text(mail)
        ticket = decision.ticket
        if ticket is not None:
            await self.tickets.add_customer_message(
                ticket, text, now, message_id=mail.message_id, inbound_id=inbound_id
            )
        else:
            ticket = await self.tickets.open_ticket(
                channel="email",
                contact=mail.reply_to or mail.sender or "unknown",
                customer_id=customer_id,
                subject=mail.subject,
                text=text,
                language=decision.language,
                now=now,
                status="auto_answered" if action is Action.FAQ and decision.reply else "open",
                message_id=mail.message_id,
                inbound_id=inbound_id,
            )
        await self.store.inbound.set_outcome(
            inbound_id, decision.outcome, ticket.id, decision.reason
        )
        if decision.loop_guarded:
            await self.store.audit.record(
                "mail_loop_guard", now, channel="email", detail=f"{ticket.reference}"
            )
            logger.warning("loop guard: no automatic answer on %s", ticket.reference)
        if decision.reply:
            await self._answer(ticket, mail, decision, inbound_id, now)
        return ticket

    async def _answer(
        self, ticket: Ticket, mail: ParsedMail, decision: Decision, inbound_id: int, now: datetime
    ) -> None:
        """Queue the automatic answer on the mail's thread, in the decision's language."""
        if decision.reply == "faq" and decision.faq_id and self.faq_answer is not None:
            answer = self.faq_answer(decision.faq_id, decision.language)
            body = self._render(ticket, decision, "faq_reply", answer=answer)
        elif decision.reply == "too_large":
            body = self._render(
                ticket,
                decision,
                "too_large",
                size_mb=max(1, round(mail.size / MEGABYTE)),
                max_mb=max(1, self.settings.mail_max_bytes // MEGABYTE),
            )
        else:
            body = self._render(
                ticket, decision, "acknowledgement", account_data=decision.asks_for_account_data
            )
        reply = MailReply(
            kind=decision.reply or "acknowledgement",
            recipient=mail.reply_to,
            body=body,
            in_reply_to=mail.message_id,
            references=(*mail.references_chain, *((mail.message_id,) if mail.message_id else ())),
            automatic=True,
        )
        await self.tickets.send_mail(ticket, reply, now, dedup_key=f"inbound:{inbound_id}")

    def _render(self, ticket: Ticket, decision: Decision, kind: str, **context: object) -> str:
        return self.tickets.texts.render(
            decision.language,
            f"mail/{kind}",
            reference=ticket.reference,
            support_address=self.settings.support_address,
            **context,
        )

    async def _bounce(self, facts: MailFacts, mail: ParsedMail, now: datetime) -> None:
        """Our mail to an address bounced: staff see it, the bot asks the customer to fix it."""
        address = facts.bounced_recipient or ""
        await self.store.inbound.mark_failing(
            address, facts.bounced_message_id or "", mail.bounce_status, now
        )
        account_ids = await self.store.accounts.mark_email_failing(address, now)
        await self.store.audit.record(
            "mail_address_failing",
            now,
            account_id=account_ids[0] if account_ids else None,
            channel="email",
            detail=f"bounce of {facts.bounced_message_id} ({mail.bounce_status or 'no status'})",
        )
        logger.warning("bounce: address of outbox mail marked failing")

    @staticmethod
    def _ticket_text(mail: ParsedMail) -> str:
        """What staff read in the ticket."""
        if mail.header_only:
            return f"[message of {mail.size} bytes, over the size limit: only its header was read]"
        return mail.text or "[no text]"
