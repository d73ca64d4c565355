"""The support mailbox worker: read, decide, record, answer, archive; nothing lost, nothing twice.

For each message of IMAP_FOLDER, in this order:
    1. RFC822.SIZE first: over MAIL_MAX_BYTES only the header is downloaded;
    2. the raw bytes are kept under ``<data dir>/mail/<folder>/<UIDVALIDITY>/<UID>.eml``;
    3. ONE transaction records its identity (folder, UIDVALIDITY, UID, Message-ID) together with
       the ticket, the ticket messages, the outbox answer and the audit events it causes;
    4. it is marked seen and moved to IMAP_PROCESSED_FOLDER (quarantine folder when it could
       not be processed), in batches.
A crash before 3 leaves nothing recorded: the message is processed again from scratch. A crash
after 3 finds the identity recorded, so only step 4 is repeated. A message seen again under a new
UID (same Message-ID, or same bytes without one) is recorded as a duplicate and not answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import logging
import random
import sqlite3
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from assistant.clock import Clock, SystemClock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService, ticket_reference
from assistant.wakeup import raise_if_cancelled
from mailbox.batch import (
    FaqMatcherLike,
    PreparedMail,
    RawStore,
    faq_questions,
    match_questions,
    prepare,
)
from mailbox.connection import MailboxConnection, fetch_plan
from mailbox.decide import Decision, MailFacts, automatic_reason, decide
from mailbox.effects import MailEffects
from mailbox.imap import FetchedMail, ImapMailbox, ImapUnavailable
from mailbox.parse import ParsedMail
from store.inbound import MailIdentity
from store.store import Store

logger = logging.getLogger(__name__)

RECONNECT_FIRST = 1.0
RECONNECT_MAX = 60.0
R = TypeVar("R")


FaqAnswer = Callable[[str, str], str]  # (faq id, language) -> the answer's text
FaultHook = Callable[[str], None]  # tests: "saved", "transaction", "committed", "archiving"


class MailboxWorker:
    """Reads the support mailbox until cancelled; ``process_once`` handles what is there now."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        texts: Texts,
        *,
        faq: FaqMatcherLike | None = None,
        faq_answer: FaqAnswer | None = None,
        tickets: TicketService | None = None,
        clock: Clock | None = None,
        mailbox: ImapMailbox | None = None,
        fault: FaultHook | None = None,
        reconnect_delays: tuple[float, float] = (RECONNECT_FIRST, RECONNECT_MAX),
    ) -> None:
        self.settings = settings
        self.store = store
        self.texts = texts
        self.faq = faq if faq_answer is not None else None
        self.faq_answer = faq_answer
        self.tickets = tickets or TicketService(store, texts, settings)
        self.clock = clock or SystemClock()
        self.effects = MailEffects(store, self.tickets, settings, self.faq_answer)
        self.connection = MailboxConnection(
            mailbox or ImapMailbox.from_settings(settings), settings
        )
        self._fault = fault or (lambda point: None)
        self._reconnect_first, self._reconnect_max = reconnect_delays
        self._raw = RawStore(settings.data_dir, settings.imap_folder)
        self._progress = asyncio.Condition()
        self.handled = 0  # messages processed since start (tests await it)
        self.own_addresses = tuple(
            a.lower()
            for a in (settings.mail_from_address, settings.support_address, settings.imap_username)
            if a and "@" in a
        )

    @classmethod
    def create(
        cls, settings: Settings, store: Store, texts: Texts, clock: Clock | None = None
    ) -> MailboxWorker:
        """The worker as the service runs it: the FAQ matcher loaded, answers from templates."""
        from assistant.faq import FaqMatcher, faq_answer

        return cls(
            settings,
            store,
            texts,
            faq=FaqMatcher.load(),
            faq_answer=functools.partial(faq_answer, texts, settings),
            clock=clock,
        )

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        """Process, then IDLE (or sleep) and again, until cancelled; reconnect with backoff."""
        delay = self._reconnect_first
        logger.info("support mailbox worker started")
        try:
            while True:
                raise_if_cancelled()
                try:
                    await self.process_once()
                    delay = self._reconnect_first
                    news = await self.connection.wait(self.settings.imap_poll_seconds)
                    if not news and not self.connection.has_idle:
                        await asyncio.sleep(self.settings.imap_poll_seconds)
                    continue
                except ImapUnavailable as exc:
                    logger.warning("IMAP unavailable (%s); retrying in %.1f s", exc, delay)
                except (OSError, sqlite3.Error) as exc:
                    logger.error("mailbox pass failed (%s); retrying in %.1f s", exc, delay)
                await self.connection.disconnect()
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._reconnect_max)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.aclose(), timeout=self.settings.imap_timeout_seconds)
            logger.info("support mailbox worker stopped")

    async def aclose(self) -> None:
        """Log out and stop the IMAP thread."""
        await self.connection.aclose()

    @property
    def _processed(self) -> str:
        return self.settings.imap_processed_folder

    async def wait_handled(self, count: int) -> None:
        """Until ``count`` messages were processed since start."""
        async with self._progress:
            await self._progress.wait_for(lambda: self.handled >= count)

    async def process_once(self) -> int:
        """Process every message now in the folder; return how many were new."""
        settings, connection = self.settings, self.connection
        uidvalidity = await connection.open()
        uids = await connection.uids()
        if not uids:
            return 0
        known = await self.store.inbound.outcomes(settings.imap_folder, uidvalidity, uids)
        if known:  # recorded by a run that stopped before moving them
            quarantined = [uid for uid, outcome in known.items() if outcome == "quarantined"]
            await connection.archive(sorted(set(known) - set(quarantined)), self._processed)
            await connection.archive(quarantined, settings.imap_quarantine_folder)
        pending = [uid for uid in uids if uid not in known]
        sizes = await connection.sizes(pending)
        handled = 0
        for batch, header_only in fetch_plan(pending, sizes, settings.mail_max_bytes):
            fetched = await connection.fetch(batch, header_only=header_only)
            prepared = await self._prepare(uidvalidity, fetched)
            done: list[int] = []
            quarantined = []
            for ready in prepared:
                outcome = await self._handle(uidvalidity, ready)
                (quarantined if outcome == "quarantined" else done).append(ready.fetched.uid)
            self._fault("archiving")
            await connection.archive(done, self._processed)
            await connection.archive(quarantined, settings.imap_quarantine_folder)
            handled += len(fetched)
            async with self._progress:
                self.handled += len(fetched)
                self._progress.notify_all()
        return handled

    async def _prepare(self, uidvalidity: int, fetched: list[FetchedMail]) -> list[PreparedMail]:
        """Keep and parse the batch in a thread, then match its FAQ questions together."""
        prepared = await asyncio.to_thread(
            prepare, self._raw, uidvalidity, fetched, self.settings.mail_max_bytes
        )
        if self.faq is not None:
            questions = faq_questions(prepared, self.own_addresses)
            start = 0
            while start < len(questions):  # in chunks, letting the event loop breathe between
                start = match_questions(self.faq, questions, start)
                await asyncio.sleep(0)
        return prepared

    # --- one message -------------------------------------------------------------------------

    async def _handle(self, uidvalidity: int, ready: PreparedMail) -> str:
        """Decide and record one message; return its outcome."""
        now = self.clock.now()
        try:
            self._fault("saved")
            if ready.mail is None:
                raise ready.error or ValueError("not parsed")
            decision = await _despite_cancellation(self._record(uidvalidity, ready, now))
            self._fault("committed")
        except (OSError, sqlite3.Error, ImapUnavailable):
            raise  # passing trouble: the whole pass is retried
        except Exception as exc:
            return await self._quarantine(uidvalidity, ready, exc, now)
        if decision is None:
            return "recorded elsewhere"  # another process recorded it meanwhile
        logger.info("mail uid %d: %s (%s)", ready.fetched.uid, decision.outcome, decision.reason)
        return decision.outcome

    async def _record(
        self, uidvalidity: int, ready: PreparedMail, now: datetime
    ) -> Decision | None:
        """The one transaction: look up, decide, record the identity and all it causes."""
        mail, fetched, faq = ready.mail, ready.fetched, self.faq
        assert mail is not None
        matched = ready.faq_match  # from the batch; else decide asks the matcher itself
        async with self.store.db.transaction():
            facts, customer_id = await self._facts(mail, ready.digest, now)
            decision = decide(
                mail,
                facts,
                faq=(lambda _question: matched) if matched else (faq.match if faq else None),
                own_addresses=self.own_addresses,
                auto_reply_limit=self.settings.auto_reply_limit,
            )
            identity = MailIdentity(
                folder=self.settings.imap_folder, uidvalidity=uidvalidity, uid=fetched.uid,
                message_id=mail.message_id, sha256=ready.digest, size=fetched.size,
                raw_path=ready.raw_path,
            )  # fmt: skip
            recorded = await self.effects.record(
                identity, mail, decision, facts, customer_id=customer_id, now=now
            )
            self._fault("transaction")
        return decision if recorded else None

    async def _facts(
        self, mail: ParsedMail, digest: str, now: datetime
    ) -> tuple[MailFacts, int | None]:
        """What the store knows about this mail (one round trip for a customer's mail)."""
        if automatic_reason(mail, self.own_addresses):
            if await self.store.inbound.seen_before(mail.message_id, digest):
                return MailFacts(duplicate=True), None
            for message_id in mail.bounced_message_ids:
                sent = await self.store.outbox.by_message_id(message_id)
                if sent is not None:
                    return MailFacts(
                        bounced_recipient=sent.recipient, bounced_message_id=sent.message_id
                    ), None
            return MailFacts(), None
        found = await self.store.inbound.lookup(
            message_id=mail.message_id,
            sha256=digest,
            reference=ticket_reference(mail.subject),
            thread_ids=mail.references_chain,
            reply_to=mail.reply_to,
            sender=mail.sender,
            since=now - timedelta(hours=24),
        )
        facts = MailFacts(
            duplicate=found.seen_before,
            ticket_by_reference=found.ticket_by_reference,
            ticket_by_thread=found.ticket_by_thread,
            auto_replies_today=found.auto_replies_since,
        )
        return facts, found.customer_id

    async def _quarantine(
        self, uidvalidity: int, ready: PreparedMail, exc: Exception, now: datetime
    ) -> str:
        """Record a message that cannot be processed; it goes to the quarantine folder."""
        fetched = ready.fetched
        logger.exception("mail uid %d cannot be processed: quarantined", fetched.uid)
        detail = f"{type(exc).__name__}"
        await _despite_cancellation(
            self._record_quarantine(uidvalidity, fetched, ready.raw_path, detail, now)
        )
        return "quarantined"

    async def _record_quarantine(
        self, uidvalidity: int, fetched: FetchedMail, raw_path: str, detail: str, now: datetime
    ) -> None:
        async with self.store.db.transaction():
            await self.store.inbound.record(
                folder=self.settings.imap_folder, uidvalidity=uidvalidity, uid=fetched.uid,
                message_id=None, sha256=hashlib.sha256(fetched.raw).hexdigest(),
                size=fetched.size, raw_path=raw_path, outcome="quarantined", now=now,
                detail=detail,
            )  # fmt: skip
            await self.store.audit.record(
                "mail_quarantined", now, channel="email", detail=f"uid {fetched.uid}: {detail}"
            )


async def _despite_cancellation(transaction: Coroutine[Any, Any, R]) -> R:
    """Let a short transaction finish (commit or roll back) even if the caller is cancelled."""
    task = asyncio.ensure_future(transaction)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            with contextlib.suppress(Exception):
                await task
        raise


__all__ = ["Decision", "FaqMatcherLike", "MailboxWorker"]
