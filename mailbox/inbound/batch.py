"""A fetched batch made ready for deciding: mails parsed and triaged, their questions matched
together by the FAQ matcher: every request of every mail of the batch, and the sentences
around them, in one ``match_outright`` call.

Everything here happens before any store write, so a crash in the middle leaves nothing
recorded: the batch is fetched and parsed again from the start by the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from mailbox.inbound.decide import FaqMatchLike
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.parse import ParsedMail, parse_mail
from mailbox.inbound.triage import Triage, triage

logger = logging.getLogger(__name__)


class MailPreparer(Protocol):
    """What the worker needs from its FAQ side: batches prepared (parsed, triaged, questions
    matched), and a start and an end with the worker. ``FaqProcess`` prepares in a child
    process, ``InlinePreparer`` in this one."""

    async def start(self) -> None:
        """Get ready before the first batch; ``FaqUnavailable`` when it cannot (yet)."""
        ...

    async def prepare_many(
        self, fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
    ) -> list[PreparedMail]:
        """One prepared mail per fetched one, in order."""
        ...

    async def aclose(self) -> None:
        """Release what ``start`` took (idempotent)."""
        ...


class QuestionMatcher(Protocol):
    """What preparing needs of a FAQ matcher in this process: the verdict on one question."""

    def match(self, text: str) -> FaqMatchLike:
        """The verdict on one question."""
        ...


@runtime_checkable
class OutrightMatcher(QuestionMatcher, Protocol):
    """A matcher that judges a batch in one call, for channels acting on outright answers only
    (``FaqMatcher``)."""

    def match_outright(self, texts: Sequence[str]) -> Sequence[FaqMatchLike]:
        """One verdict per text, in order; kind "answer" where the matcher answers outright."""
        ...


BatchMatch = Callable[[list[str]], Sequence[FaqMatchLike]]


class InlinePreparer:
    """Prepares in this process, on a worker thread (tests, and the fallback without a child).

    ``matcher`` may be None (no FAQ: every question becomes a ticket).
    """

    def __init__(self, matcher: QuestionMatcher | None = None) -> None:
        self.match = batch_match(matcher) if matcher is not None else None

    async def start(self) -> None:
        """Nothing to start: the matcher is loaded already."""

    async def prepare_many(
        self, fetched: Sequence[FetchedMail], max_bytes: int, own_addresses: Sequence[str]
    ) -> list[PreparedMail]:
        """One prepared mail per fetched one, in order."""
        return await asyncio.to_thread(
            prepare_and_match, fetched, max_bytes, own_addresses, self.match
        )

    async def aclose(self) -> None:
        """Nothing to stop."""


def batch_match(matcher: QuestionMatcher) -> BatchMatch:
    """The cheapest batch call a matcher offers: ``match_outright`` (the mailbox acts only on
    outright answers), else ``match`` per question."""
    if isinstance(matcher, OutrightMatcher):
        return matcher.match_outright
    return lambda texts: [matcher.match(text) for text in texts]


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
    faq_matches: tuple[FaqMatchLike, ...] = ()  # verdicts on ``triage.question.texts``


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


def faq_questions(prepared: Sequence[PreparedMail]) -> list[tuple[PreparedMail, list[str]]]:
    """The mails that may reach the FAQ rule, with what the matcher judges of each: its
    requests, then the sentences around them (as triaged).

    Only what does not depend on the store is known here (a duplicate or a reply to a
    ticket is matched for nothing, and never answered from it: ``decide`` has the last word).
    """
    found = []
    for ready in prepared:
        if ready.triage is not None and ready.triage.question.requests:
            found.append((ready, list(ready.triage.question.texts)))
    return found


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


def match_questions(match: BatchMatch, questions: Sequence[tuple[PreparedMail, list[str]]]) -> None:
    """Match the texts of all the batch's mails in one call and give each mail its verdicts.

    When the batch fails, each mail's texts are matched alone: the mail that breaks the
    matcher goes to quarantine by itself.
    """
    texts = [text for _, asked in questions for text in asked]
    if not texts:
        return
    try:
        verdicts = list(match(texts))
        if len(verdicts) != len(texts):
            raise ValueError(f"{len(verdicts)} verdicts for {len(texts)} questions")
        start = 0
        for ready, asked in questions:
            ready.faq_matches = tuple(verdicts[start : start + len(asked)])
            start += len(asked)
        return
    except Exception:
        logger.warning("FAQ batch match failed; matching each mail's questions alone")
    for ready, asked in questions:
        try:
            ready.faq_matches = tuple(match(asked))
            if len(ready.faq_matches) != len(asked):
                raise ValueError("one verdict per question expected")
        except Exception as exc:
            ready.faq_matches, ready.error = (), exc
