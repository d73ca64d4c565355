"""The effects of a mailbox ``Decision``: tickets, answers, bounce marks, audit events.

Called by the worker inside the transaction that records the mail's identity, so a message and
everything it causes are written together or not at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from assistant.settings import Settings
from assistant.tickets import MAX_SUBJECT_CHARS, MailReply, TicketService
from mailbox.decide import Action, Decision, MailFacts
from mailbox.parse import ParsedMail
from store.inbound import MailIdentity, NewTicket
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
        self._faq_answers: dict[tuple[str, str], str] = {}

    async def record(
        self,
        identity: MailIdentity,
        mail: ParsedMail,
        decision: Decision,
        facts: MailFacts,
        *,
        customer_id: int | None,
        now: datetime,
    ) -> bool:
        """Record the mail's identity and write everything the decision causes (call it inside
        the mail's transaction); False when another process recorded this UID meanwhile."""
        action = decision.action
        if action in (Action.FAQ, Action.NEW_TICKET) or (
            action is Action.TOO_LARGE and decision.ticket is None
        ):
            opened = await self.store.inbound.record_with_ticket(
                identity,
                outcome=decision.outcome,
                detail=decision.reason,
                ticket=NewTicket(
                    channel="email",
                    contact=mail.reply_to or mail.sender or "unknown",
                    customer_id=customer_id,
                    subject=mail.subject[:MAX_SUBJECT_CHARS],
                    language=decision.language,
                    status="auto_answered" if action is Action.FAQ and decision.reply else "open",
                ),
                text=self._ticket_text(mail),
                now=now,
            )
            if opened is None:
                return False
            new_id, ticket = opened
            logger.info("ticket %s opened (email)", ticket.reference)
            await self._after_ticket(ticket, mail, decision, new_id, now)
            return True
        inbound_id = await self.store.inbound.record(
            folder=identity.folder, uidvalidity=identity.uidvalidity, uid=identity.uid,
            message_id=identity.message_id, sha256=identity.sha256, size=identity.size,
            raw_path=identity.raw_path, outcome=decision.outcome, now=now, detail=decision.reason,
        )  # fmt: skip
        if inbound_id is None:
            return False
        if action is Action.BOUNCE:
            await self._bounce(facts, mail, now)
        elif decision.ticket is not None:  # JOIN, or TOO_LARGE on a known thread
            ticket = decision.ticket
            await self.tickets.add_customer_message(
                ticket, self._ticket_text(mail), now, message_id=mail.message_id,
                inbound_id=inbound_id,
            )  # fmt: skip
            await self.store.inbound.set_outcome(
                inbound_id, decision.outcome, ticket.id, decision.reason
            )
            await self._after_ticket(ticket, mail, decision, inbound_id, now)
        return True

    async def _after_ticket(
        self, ticket: Ticket, mail: ParsedMail, decision: Decision, inbound_id: int, now: datetime
    ) -> None:
        """The loop guard's audit event, then the automatic answer if one is due."""
        if decision.loop_guarded:
            await self.store.audit.record(
                "mail_loop_guard", now, channel="email", detail=f"{ticket.reference}"
            )
            logger.warning("loop guard: no automatic answer on %s", ticket.reference)
        if decision.reply:
            await self._answer(ticket, mail, decision, inbound_id, now)

    async def _answer(
        self, ticket: Ticket, mail: ParsedMail, decision: Decision, inbound_id: int, now: datetime
    ) -> None:
        """Queue the automatic answer on the mail's thread, in the ticket's language."""
        if decision.reply == "faq" and decision.faq_id and self.faq_answer is not None:
            answer = self._faq_answer(decision.faq_id, decision.language)
            body = self.tickets.mail_body(ticket, "faq_reply", answer=answer)
        elif decision.reply == "too_large":
            body = self.tickets.mail_body(
                ticket,
                "too_large",
                size_mb=max(1, round(mail.size / MEGABYTE)),
                max_mb=max(1, self.settings.mail_max_bytes // MEGABYTE),
            )
        else:
            body = self.tickets.mail_body(
                ticket, "acknowledgement", account_data=decision.asks_for_account_data
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

    def _faq_answer(self, faq_id: str, language: str) -> str:
        """A FAQ answer's text, rendered once per (id, language): it depends on nothing else."""
        assert self.faq_answer is not None
        key = (faq_id, language)
        answer = self._faq_answers.get(key)
        if answer is None:
            answer = self._faq_answers[key] = self.faq_answer(faq_id, language)
        return answer

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
