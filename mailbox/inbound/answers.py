"""The mailbox's automatic answers, queued on the mail's thread inside the batch's transaction:
the acknowledgement, the FAQ answer, the "too large" reply, and the note on attachments that
were not accepted.

Rendering is the costly part of a batch: each shape of an answer is rendered once, then only
the ticket's reference changes from mail to mail (``MailAnswers.body``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from datetime import datetime

from assistant.settings import Settings
from assistant.ticket_mail import MailReply, answer_of
from assistant.tickets import TicketService
from mailbox.inbound.attachments import TOO_LARGE, TOO_MANY
from mailbox.inbound.decide import Action, Decision, MailFacts
from mailbox.inbound.parse import ParsedMail
from store.inbound import MailBatchWriter
from store.tickets import Ticket

MEGABYTE = 1024 * 1024
REFERENCE_MARK = "\x00reference\x00"  # stands for a ticket's reference in a rendered shape
ATTACHMENTS_NOTE = "attachments_refused"  # the template and the answer's kind

FaqAnswer = Callable[[str, str], str]  # (faq id, language) -> the answer's text


def attachments_note_due(
    decision: Decision,
    facts: MailFacts,
    refused: Mapping[int, str],
    reply_to: str,
    *,
    auto_reply_limit: int,
) -> bool:
    """Whether the sender is told that attachments were not accepted: a person's mail that
    reached a ticket, with an address to answer, within the loop guard (the mail's own
    automatic answer, if one is queued, counts first)."""
    if not refused or decision.action not in (Action.NEW_TICKET, Action.FAQ, Action.JOIN):
        return False
    if decision.loop_guarded or not reply_to:
        return False
    return facts.auto_replies_today + (1 if decision.reply else 0) < auto_reply_limit


def size_text(size: int) -> str:
    """A limit as the sender reads it: ``10 MB``, ``512 KB`` (rounded down: never above it)."""
    if size >= MEGABYTE:
        return f"{size // MEGABYTE} MB"
    return f"{max(1, size // 1024)} KB"


class MailAnswers:
    """Renders and queues the automatic answers of one ledger (a cache of shapes per ledger)."""

    def __init__(
        self, settings: Settings, tickets: TicketService, faq_answer: FaqAnswer | None
    ) -> None:
        self.settings = settings
        self.tickets = tickets
        self.faq_answer = faq_answer
        self._faq_answers: dict[tuple[str, str], str] = {}
        self._bodies: dict[tuple[object, ...], str] = {}

    def queue(
        self,
        writer: MailBatchWriter,
        ticket: Ticket,
        mail: ParsedMail,
        decision: Decision,
        inbound_id: int,
        now: datetime,
    ) -> None:
        """Queue the decision's automatic answer on the mail's thread, in the ticket's language."""
        if decision.reply == "faq" and decision.faq_id and self.faq_answer is not None:
            answer = self._faq_answer(decision.faq_id, decision.language)
            body = self.body(ticket, "faq_reply", answer=answer)
        elif decision.reply == "too_large":
            body = self.body(
                ticket,
                "too_large",
                size_mb=max(1, round(mail.size / MEGABYTE)),
                max_mb=max(1, self.settings.mail_max_bytes // MEGABYTE),
            )
        else:
            body = self.body(
                ticket,
                "acknowledgement",
                account_data=decision.asks_for_account_data,
                document_request=decision.asks_for_document,
            )
        kind = decision.reply or "acknowledgement"
        self._send(writer, ticket, mail, kind, body, f"inbound:{inbound_id}", now)

    def queue_attachments_note(
        self,
        writer: MailBatchWriter,
        ticket: Ticket,
        mail: ParsedMail,
        refused: Mapping[int, str],
        inbound_id: int,
        now: datetime,
    ) -> None:
        """Tell the sender, on the thread, how many attachments were not accepted and why (no
        file name is repeated back: a name is the sender's text, and could be anyone's)."""
        reasons = list(refused.values())
        body = self.body(
            ticket,
            ATTACHMENTS_NOTE,
            too_large=reasons.count(TOO_LARGE),
            too_many=reasons.count(TOO_MANY),
            max_size=size_text(self.settings.attachment_max_bytes),
            max_count=self.settings.attachments_max_count,
        )
        key = f"inbound:{inbound_id}:{ATTACHMENTS_NOTE}"
        self._send(writer, ticket, mail, ATTACHMENTS_NOTE, body, key, now)

    def _send(
        self,
        writer: MailBatchWriter,
        ticket: Ticket,
        mail: ParsedMail,
        kind: str,
        body: str,
        dedup_key: str,
        now: datetime,
    ) -> None:
        reply = MailReply(
            kind=kind,
            recipient=mail.reply_to,
            body=body,
            in_reply_to=mail.message_id,
            references=(*mail.references_chain, *((mail.message_id,) if mail.message_id else ())),
            automatic=True,
        )
        queued = self.tickets.reply_mail(ticket, reply, dedup_key=dedup_key)
        writer.queue_answer(queued, answer_of(ticket, reply, now), now)

    def body(self, ticket: Ticket, kind: str, **context: str | int | bool) -> str:
        """An answer's text: each (language, template, context) is rendered once with a mark
        where the ticket's reference goes, then only the reference changes from mail to mail.

        The first use of each shape checks the mark against a real rendering: a template that
        does more with the reference than print it is simply rendered every time.
        """
        key = (ticket.language, kind, tuple(sorted(context.items())))
        shape = self._bodies.get(key)
        if shape is None:
            real = self.tickets.mail_body(ticket, kind, **context)
            marked = dataclasses.replace(ticket, reference=REFERENCE_MARK)
            shape = self.tickets.mail_body(marked, kind, **context)
            if shape.replace(REFERENCE_MARK, ticket.reference) != real:
                return real
            self._bodies[key] = shape
        return shape.replace(REFERENCE_MARK, ticket.reference)

    def _faq_answer(self, faq_id: str, language: str) -> str:
        """A FAQ answer's text, rendered once per (id, language): it depends on nothing else."""
        assert self.faq_answer is not None
        key = (faq_id, language)
        answer = self._faq_answers.get(key)
        if answer is None:
            answer = self._faq_answers[key] = self.faq_answer(faq_id, language)
        return answer


__all__ = ["ATTACHMENTS_NOTE", "FaqAnswer", "MailAnswers", "attachments_note_due"]
