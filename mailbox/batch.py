"""A fetched batch made ready for deciding: mails parsed, FAQ questions matched together.

Everything here happens before any store write, so a crash in the middle leaves nothing
recorded: the batch is fetched and parsed again from the start by the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import inspect
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from assistant.errors import AreaClientiError
from mailbox.decide import FaqMatchLike, automatic_reason, question_text
from mailbox.imap import FetchedMail
from mailbox.parse import ParsedMail, parse_mail

logger = logging.getLogger(__name__)


class FaqUnavailable(AreaClientiError):
    """The FAQ matcher cannot answer now (its process died twice): mails become tickets."""


class MailFaq(Protocol):
    """The FAQ matcher as the worker uses it: a batch of questions at a time, awaited."""

    async def match_many(self, texts: Sequence[str]) -> Sequence[FaqMatchLike]:
        """One verdict per question."""
        ...


class InlineFaq:
    """A matcher living in this process, run on a worker thread (the encoder frees the GIL).

    Uses the matcher's ``match_outright`` (cheapest: the mailbox acts only on outright
    answers), else ``match_many``, else ``match`` per question.
    """

    def __init__(self, matcher: Any) -> None:
        self.matcher = matcher

    async def match_many(self, texts: Sequence[str]) -> Sequence[FaqMatchLike]:
        """One verdict per question."""
        return await asyncio.to_thread(self._match, list(texts))

    def _match(self, texts: list[str]) -> list[FaqMatchLike]:
        for name in ("match_outright", "match_many"):
            batch = getattr(self.matcher, name, None)
            if batch is not None:
                return list(batch(texts))
        return [self.matcher.match(text) for text in texts]


def as_mail_faq(matcher: Any) -> MailFaq | None:
    """The worker's view of a matcher: async ones as they are, others run inline."""
    if matcher is None:
        return None
    if inspect.iscoroutinefunction(getattr(matcher, "match_many", None)):
        mail_faq: MailFaq = matcher
        return mail_faq
    return InlineFaq(matcher)


@dataclass
class PreparedMail:
    """One fetched message after it was parsed (and its question matched)."""

    fetched: FetchedMail
    digest: str  # sha256 of the bytes
    mail: ParsedMail | None = None
    error: Exception | None = None  # parsing or its FAQ match failed: quarantine
    faq_match: FaqMatchLike | None = None  # when it asks a question the matcher judged


def prepare(fetched: Sequence[FetchedMail], max_bytes: int) -> list[PreparedMail]:
    """Parse each message (CPU work: the caller may run it in a thread)."""
    prepared = []
    for item in fetched:
        ready = PreparedMail(item, hashlib.sha256(item.raw).hexdigest())
        try:
            header_only = item.header_only or item.size > max_bytes
            ready.mail = parse_mail(item.raw, size=item.size, header_only=header_only)
        except Exception as exc:  # parse_mail promises not to raise; quarantine if it does
            ready.error = exc
        prepared.append(ready)
    return prepared


def faq_questions(
    prepared: Sequence[PreparedMail], own_addresses: Sequence[str]
) -> list[tuple[PreparedMail, str]]:
    """The mails that may reach the FAQ rule, with their question.

    Only what does not depend on the store is checked here (a duplicate or a reply to a
    ticket is matched for nothing, and never answered from it: ``decide`` has the last word).
    """
    found = []
    for ready in prepared:
        mail = ready.mail
        if mail is None or mail.header_only or automatic_reason(mail, own_addresses):
            continue
        question = question_text(mail)
        if question:
            found.append((ready, question))
    return found


async def match_questions(faq: MailFaq, questions: Sequence[tuple[PreparedMail, str]]) -> None:
    """Match the batch's questions at once and attach each verdict to its mail.

    When the batch fails, each question is matched alone: the one that breaks the matcher
    sends only its own mail to quarantine. When the matcher is unavailable, the mails get no
    verdict and become tickets for staff.
    """
    if not questions:
        return
    try:
        matches = await faq.match_many([question for _, question in questions])
        for (ready, _), match in zip(questions, matches, strict=True):
            ready.faq_match = match
        return
    except FaqUnavailable:
        logger.warning("FAQ matcher unavailable: %d questions become tickets", len(questions))
        return
    except Exception:
        logger.warning("FAQ batch match failed; matching those questions one by one")
    for ready, question in questions:
        try:
            [ready.faq_match] = await faq.match_many([question])
        except FaqUnavailable:
            return
        except Exception as exc:
            ready.error = exc
