"""A fetched batch made ready for deciding: mails parsed and triaged, their questions matched
together by the FAQ matcher.

Everything here happens before any store write, so a crash in the middle leaves nothing
recorded: the batch is fetched and parsed again from the start by the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mailbox.inbound.decide import FaqMatchLike
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.parse import ParsedMail, parse_mail
from mailbox.inbound.triage import Triage, triage

logger = logging.getLogger(__name__)


class MailPreparer(Protocol):
    """Parses fetched mails and has the FAQ matcher judge their questions, a batch at a time."""

    async def prepare_many(
        self, fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
    ) -> list[PreparedMail]:
        """One prepared mail per fetched one, in order."""
        ...


BatchMatch = Callable[[list[str]], Sequence[FaqMatchLike]]


class InlinePreparer:
    """Prepares in this process, on a worker thread (tests, and the fallback without a child).

    ``matcher`` may be None (no FAQ: every question becomes a ticket).
    """

    def __init__(self, matcher: Any = None) -> None:
        self.match = batch_match(matcher) if matcher is not None else None

    async def prepare_many(
        self, fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
    ) -> list[PreparedMail]:
        """One prepared mail per fetched one, in order."""
        return await asyncio.to_thread(
            prepare_and_match, fetched, max_bytes, own_addresses, self.match
        )


def batch_match(matcher: Any) -> BatchMatch:
    """The cheapest batch call a matcher offers: ``match_outright`` (the mailbox acts only on
    outright answers), else ``match_many``, else ``match`` per question."""
    for name in ("match_outright", "match_many"):
        method: BatchMatch | None = getattr(matcher, name, None)
        if method is not None:
            return method
    return lambda texts: [matcher.match(text) for text in texts]


def as_preparer(faq: Any) -> MailPreparer:
    """The worker's preparer for a matcher: one with its own ``prepare_many`` (the child
    process) as it is, any other run inline."""
    if inspect.iscoroutinefunction(getattr(faq, "prepare_many", None)):
        preparer: MailPreparer = faq
        return preparer
    return InlinePreparer(faq)


@dataclass
class PreparedMail:
    """One fetched message after it was parsed and triaged (and its question matched).

    Plain data: the FAQ child process sends batches of it back to the worker.
    """

    fetched: FetchedMail
    digest: str  # sha256 of the bytes
    mail: ParsedMail | None = None
    triage: Triage | None = None  # set with ``mail``: what the mail alone tells
    error: Exception | None = None  # parsing or its FAQ match failed: quarantine
    faq_match: FaqMatchLike | None = None  # the matcher's verdict on ``triage.question``


def prepare(
    fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
) -> list[PreparedMail]:
    """Parse and triage each message (CPU work: the caller may run it in a thread)."""
    prepared = []
    for item in fetched:
        ready = PreparedMail(item, hashlib.sha256(item.raw).hexdigest())
        try:
            header_only = item.header_only or item.size > max_bytes
            mail = parse_mail(item.raw, size=item.size, header_only=header_only)
            ready.mail, ready.triage = mail, triage(mail, own_addresses)
        except Exception as exc:  # neither promises to raise; quarantine if one does
            ready.error = exc
        prepared.append(ready)
    return prepared


def faq_questions(prepared: Sequence[PreparedMail]) -> list[tuple[PreparedMail, str]]:
    """The mails that may reach the FAQ rule, with their question (as triaged).

    Only what does not depend on the store is known here (a duplicate or a reply to a
    ticket is matched for nothing, and never answered from it: ``decide`` has the last word).
    """
    return [
        (ready, ready.triage.question)
        for ready in prepared
        if ready.triage is not None and ready.triage.question
    ]


def prepare_and_match(
    fetched: Sequence[FetchedMail],
    max_bytes: int,
    own_addresses: Sequence[str],
    match: BatchMatch | None,
) -> list[PreparedMail]:
    """Parse and triage a batch, then judge its questions together (blocking: CPU work)."""
    prepared = prepare(fetched, max_bytes, own_addresses)
    if match is not None:
        match_questions(match, faq_questions(prepared))
    return prepared


def match_questions(match: BatchMatch, questions: Sequence[tuple[PreparedMail, str]]) -> None:
    """Match the batch's questions at once and attach each verdict to its mail.

    When the batch fails, each question is matched alone: the one that breaks the matcher
    sends only its own mail to quarantine.
    """
    if not questions:
        return
    try:
        matches = match([question for _, question in questions])
        for (ready, _), verdict in zip(questions, matches, strict=True):
            ready.faq_match = verdict
        return
    except Exception:
        logger.warning("FAQ batch match failed; matching those questions one by one")
    for ready, question in questions:
        try:
            [ready.faq_match] = match([question])
        except Exception as exc:
            ready.error = exc
