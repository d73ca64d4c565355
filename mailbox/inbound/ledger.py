"""Records a fetched batch of mails on the database thread, in ONE transaction.

For each mail, in the server's order: look up what the store knows (a mail may reply to a
ticket opened earlier in the same batch), ``decide``, then write its identity, its raw bytes and
everything the decision causes: tickets, ticket messages, the answers in the outbox
(``mailbox.inbound.answers``), bounce marks, audit events; and what was read inside it: its
PEC certificate (a receipt linked to the mail of ours it certifies) and its attachments. Each
mail runs inside a SAVEPOINT: a mail that cannot be processed is rolled back alone and recorded
as quarantined, the rest of the batch goes on. A database or disk error aborts the whole batch
(the caller's transaction rolls back and the batch is done again).

Everything here is synchronous and runs on the database thread, writing through the store's
``MailBatchWriter`` (``store.inbound.record_batch``): one hop per batch instead of several per mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from assistant.settings import Settings
from assistant.ticket_mail import MAX_SUBJECT_CHARS, ticket_reference
from assistant.tickets import TicketService
from mailbox.inbound.answers import FaqAnswer, MailAnswers, attachments_note_due
from mailbox.inbound.attachments import refused_attachments
from mailbox.inbound.batch import PreparedMail
from mailbox.inbound.decide import Action, Decision, MailFacts, decide
from mailbox.inbound.parse import ParsedMail
from mailbox.inbound.triage import Triage
from store.errors import StoreError
from store.inbound import (
    MailAttachment,
    MailBatchWriter,
    MailIdentity,
    NewCertificate,
    NewTicket,
)
from store.tickets import Ticket

logger = logging.getLogger(__name__)

QUARANTINED = "quarantined"
RECORDED_ELSEWHERE = "recorded elsewhere"  # another process recorded this UID meanwhile

FaultHook = Callable[[str], None]


@dataclass(frozen=True)
class Recorded:
    """What became of one mail of the batch."""

    uid: int
    outcome: str  # a Decision's outcome, "quarantined" or RECORDED_ELSEWHERE


class MailLedger:
    """Decides and records batches of mails; ``store.inbound.record_batch`` calls ``record``."""

    def __init__(
        self,
        settings: Settings,
        tickets: TicketService,
        faq_answer: FaqAnswer | None,
        fault: FaultHook,
    ) -> None:
        self.settings = settings
        self.tickets = tickets
        self.faq_answer = faq_answer
        self._fault = fault
        self.answers = MailAnswers(settings, tickets, faq_answer)

    def record(
        self,
        writer: MailBatchWriter,
        uidvalidity: int,
        batch: Sequence[PreparedMail],
        now: datetime,
    ) -> list[Recorded]:
        """Decide and record every mail of the batch (inside the caller's transaction)."""
        results = []
        for ready in batch:
            with writer.savepoint() as this_mail:
                try:
                    outcome = self._record_one(writer, uidvalidity, ready, now)
                    if outcome == RECORDED_ELSEWHERE:
                        this_mail.rollback()  # nothing of this mail stays
                except (StoreError, OSError):
                    raise  # the store is in trouble: the whole batch is done again later
                except Exception as exc:
                    this_mail.rollback()
                    outcome = self._quarantine(writer, uidvalidity, ready, exc, now)
            self._fault("transaction")
            results.append(Recorded(ready.fetched.uid, outcome))
        return results

    def _record_one(
        self, writer: MailBatchWriter, uidvalidity: int, ready: PreparedMail, now: datetime
    ) -> str:
        mail, triage, fetched = ready.mail, ready.triage, ready.fetched
        if mail is None or triage is None:
            raise ready.error or ValueError("not parsed")
        if ready.error is not None:
            raise ready.error  # its FAQ question broke the matcher
        facts, customer_id = self._facts(writer, mail, triage, ready.digest, now)
        limit = self.settings.auto_reply_limit
        decision = decide(triage, ready.faq_matches, facts, auto_reply_limit=limit)
        identity = MailIdentity(
            folder=self.settings.imap_folder, uidvalidity=uidvalidity, uid=fetched.uid,
            message_id=mail.message_id, sha256=ready.digest, size=fetched.size, raw=fetched.raw,
        )  # fmt: skip
        if not self._apply(writer, identity, mail, decision, facts, customer_id, now):
            return RECORDED_ELSEWHERE
        logger.debug("mail uid %d: %s (%s)", fetched.uid, decision.outcome, decision.reason)
        return decision.outcome

    def _facts(
        self,
        writer: MailBatchWriter,
        mail: ParsedMail,
        triage: Triage,
        digest: str,
        now: datetime,
    ) -> tuple[MailFacts, int | None]:
        """What the store knows about this mail (less for automatic mail: it is never answered)."""
        if triage.automatic:
            if writer.seen_before(mail.message_id, digest):
                return MailFacts(duplicate=True), None
            for message_id in mail.bounced_message_ids:
                recipient = writer.sent_recipient(message_id)
                if recipient is not None:
                    facts = MailFacts(bounced_recipient=recipient, bounced_message_id=message_id)
                    return facts, None
            return MailFacts(), None
        found = writer.lookup(
            mail.message_id,
            digest,
            ticket_reference(mail.subject),
            tuple(mail.references_chain),
            mail.reply_to,
            mail.sender,
            now - timedelta(hours=24),
        )
        facts = MailFacts(
            duplicate=found.seen_before,
            ticket_by_reference=found.ticket_by_reference,
            ticket_by_thread=found.ticket_by_thread,
            auto_replies_today=found.auto_replies_since,
        )
        return facts, found.customer_id

    def _apply(
        self,
        writer: MailBatchWriter,
        identity: MailIdentity,
        mail: ParsedMail,
        decision: Decision,
        facts: MailFacts,
        customer_id: int | None,
        now: datetime,
    ) -> bool:
        """Write the identity and everything the decision causes; False when recorded before."""
        action = decision.action
        settings = self.settings
        refused = refused_attachments(
            mail.attachments,
            max_bytes=settings.attachment_max_bytes,
            max_count=settings.attachments_max_count,
        )
        if action in (Action.FAQ, Action.NEW_TICKET) or (
            action is Action.TOO_LARGE and decision.ticket is None
        ):
            new = NewTicket(
                channel="email",
                contact=mail.reply_to or mail.sender or "unknown",
                customer_id=customer_id,
                subject=mail.subject[:MAX_SUBJECT_CHARS],
                language=decision.language,
                status="auto_answered" if action is Action.FAQ and decision.reply else "open",
            )
            opened = writer.insert_inbound_with_ticket(
                identity, decision.outcome, decision.reason, new, _ticket_text(mail), now
            )
            if opened is None:
                return False
            inbound_id, ticket = opened
            logger.debug("ticket %s opened (email)", ticket.reference)
            _keep_details(writer, inbound_id, mail, refused)
            self._after_ticket(writer, ticket, mail, decision, facts, refused, inbound_id, now)
            return True
        recorded = writer.insert_inbound(identity, decision.outcome, decision.reason, now)
        if recorded is None:
            return False
        inbound_id = recorded
        if action is not Action.DUPLICATE:
            _keep_details(writer, inbound_id, mail, refused)
        if action is Action.BOUNCE:
            self._bounce(writer, facts, mail, now)
        elif decision.ticket is not None:  # JOIN, or TOO_LARGE on a known thread
            ticket = decision.ticket
            writer.insert_customer_message(
                ticket, _ticket_text(mail), now, mail.message_id, inbound_id
            )
            writer.set_outcome(inbound_id, decision.outcome, ticket.id, decision.reason)
            self._after_ticket(writer, ticket, mail, decision, facts, refused, inbound_id, now)
        return True

    def _after_ticket(
        self,
        writer: MailBatchWriter,
        ticket: Ticket,
        mail: ParsedMail,
        decision: Decision,
        facts: MailFacts,
        refused: dict[int, str],
        inbound_id: int,
        now: datetime,
    ) -> None:
        """The loop guard's audit event, then the automatic answer if one is due, then the
        note on attachments not accepted if one is due."""
        if decision.loop_guarded:
            writer.insert_audit("mail_loop_guard", now, channel="email", detail=ticket.reference)
            logger.warning("loop guard: no automatic answer on %s", ticket.reference)
        if decision.reply:
            self.answers.queue(writer, ticket, mail, decision, inbound_id, now)
        limit = self.settings.auto_reply_limit
        if attachments_note_due(decision, facts, refused, mail.reply_to, auto_reply_limit=limit):
            self.answers.queue_attachments_note(writer, ticket, mail, refused, inbound_id, now)

    def _bounce(
        self, writer: MailBatchWriter, facts: MailFacts, mail: ParsedMail, now: datetime
    ) -> None:
        """Our mail to an address bounced: staff see it, the bot asks the customer to fix it."""
        address = facts.bounced_recipient or ""
        writer.upsert_failure(address, facts.bounced_message_id or "", mail.bounce_status, now)
        account_ids = writer.mark_email_failing(address, now)
        writer.insert_audit(
            "mail_address_failing",
            now,
            account_id=account_ids[0] if account_ids else None,
            channel="email",
            detail=f"bounce of {facts.bounced_message_id} ({mail.bounce_status or 'no status'})",
        )
        logger.warning("bounce: address of outbox mail marked failing")

    def _quarantine(
        self,
        writer: MailBatchWriter,
        uidvalidity: int,
        ready: PreparedMail,
        exc: Exception,
        now: datetime,
    ) -> str:
        """Record a mail that cannot be processed; it goes to the quarantine folder."""
        fetched = ready.fetched
        logger.error("mail uid %d cannot be processed: quarantined", fetched.uid, exc_info=exc)
        detail = type(exc).__name__
        identity = MailIdentity(
            folder=self.settings.imap_folder, uidvalidity=uidvalidity, uid=fetched.uid,
            message_id=None, sha256=ready.digest,
            size=fetched.size, raw=fetched.raw,
        )  # fmt: skip
        if writer.insert_inbound(identity, QUARANTINED, detail, now) is None:
            return RECORDED_ELSEWHERE
        writer.insert_audit(
            "mail_quarantined", now, channel="email", detail=f"uid {fetched.uid}: {detail}"
        )
        return QUARANTINED


def _keep_details(
    writer: MailBatchWriter, inbound_id: int, mail: ParsedMail, refused: dict[int, str]
) -> None:
    """Keep the mail's PEC certificate and its attachments' descriptions with its record."""
    if mail.pec is None and not mail.attachments:
        return
    pec = mail.pec
    certificate = (
        None if pec is None
        else NewCertificate(
            kind=pec.kind, sender=pec.sender, delivered_to=pec.delivered_to,
            provider=pec.provider, certified_at=pec.certified_at, identifier=pec.identifier,
            message_id=pec.message_id, refers_to=pec.refers_to, error=pec.error,
        )
    )  # fmt: skip
    attachments = tuple(
        MailAttachment(inbound_id=inbound_id, refused=refused.get(a.number, ""), **asdict(a))
        for a in mail.attachments
    )
    writer.insert_details(inbound_id, certificate, attachments)


def _ticket_text(mail: ParsedMail) -> str:
    """What staff read in the ticket."""
    if mail.header_only:
        return f"[message of {mail.size} bytes, over the size limit: only its header was read]"
    return mail.text or "[no text]"


__all__ = ["QUARANTINED", "RECORDED_ELSEWHERE", "MailLedger", "Recorded"]
