"""A fetched batch made ready for deciding: raw bytes kept, mails parsed, FAQ questions matched.

Everything here happens before any store write, so a crash in the middle leaves nothing
recorded: the batch is fetched, saved and parsed again from the start by the next run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from mailbox.decide import FaqMatchLike, automatic_reason, question_text
from mailbox.imap import FetchedMail
from mailbox.parse import ParsedMail, parse_mail

logger = logging.getLogger(__name__)

FAQ_CHUNK = 25  # questions matched per encoder batch (the event loop waits that long)
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class FaqMatcherLike(Protocol):
    """What the worker needs from the FAQ matcher (``match_many`` is used when present)."""

    def match(self, text: str) -> FaqMatchLike:
        """The verdict on one question."""
        ...


@dataclass
class PreparedMail:
    """One fetched message after its bytes were kept and parsed."""

    fetched: FetchedMail
    raw_path: str  # relative to the data folder
    digest: str  # sha256 of the bytes
    mail: ParsedMail | None = None
    error: Exception | None = None  # parsing failed: the message goes to quarantine
    faq_match: FaqMatchLike | None = None  # matched with the batch, when it asks a question


class RawStore:
    """Keeps each message's bytes under ``<data dir>/mail/<folder>/<UIDVALIDITY>/<UID>.eml``."""

    def __init__(self, data_dir: Path, folder: str) -> None:
        self.data_dir = data_dir
        self.folder = _UNSAFE.sub("_", folder) or "folder"
        self._made: set[Path] = set()

    def save(self, uidvalidity: int, fetched: FetchedMail) -> tuple[str, str]:
        """Write the bytes; return (path under the data dir, sha256)."""
        relative = Path("mail") / self.folder / str(uidvalidity) / f"{fetched.uid}.eml"
        target = self.data_dir / relative
        if target.parent not in self._made:
            target.parent.mkdir(parents=True, exist_ok=True)
            self._made.add(target.parent)
        # No rename dance: the row naming this file is committed only after the write, and a
        # mail that crashed before its commit is fetched and written again from the start.
        target.write_bytes(fetched.raw)
        return relative.as_posix(), hashlib.sha256(fetched.raw).hexdigest()


def prepare(
    raw_store: RawStore, uidvalidity: int, fetched: Sequence[FetchedMail], max_bytes: int
) -> list[PreparedMail]:
    """Keep and parse each message (blocking: run it in a thread). OSError propagates."""
    prepared = []
    for item in fetched:
        raw_path, digest = raw_store.save(uidvalidity, item)
        ready = PreparedMail(item, raw_path, digest)
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


def match_questions(
    faq: FaqMatcherLike, questions: Sequence[tuple[PreparedMail, str]], start: int
) -> int:
    """Match one chunk of questions from ``start`` at once; return where the next starts.

    A matcher without ``match_many``, or one that fails on the chunk, leaves those mails
    unmatched: ``decide`` then asks ``match`` for each, so one bad question quarantines
    only its own mail.
    """
    chunk = questions[start : start + FAQ_CHUNK]
    match_many: Callable[[list[str]], list[FaqMatchLike]] | None = getattr(faq, "match_many", None)
    if match_many is None or not chunk:
        return len(questions)
    try:
        matches = match_many([question for _, question in chunk])
    except Exception:
        logger.warning("FAQ batch match failed; matching those mails one by one")
        return start + len(chunk)
    for (ready, _), match in zip(chunk, matches, strict=True):
        ready.faq_match = match
    return start + len(chunk)
