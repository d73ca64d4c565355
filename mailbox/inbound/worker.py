"""The support mailbox worker: read, decide, record, answer, archive; nothing lost, nothing twice.

The messages of IMAP_FOLDER go through a pipeline, batch by batch (up to 100 mails):
    1. fetch: RFC822.SIZE first (over MAIL_MAX_BYTES only the header is downloaded), then one
       UID FETCH per batch;
    2. prepare: the batch is parsed, each mail triaged once (``triage``: what the mail alone
       tells) and the questions judged by the FAQ matcher (``MailPreparer``: ``FaqProcess`` in
       the service, a child process on another core; two batches are queued there so it never
       waits);
    3. record: ONE transaction records every mail of the batch: its identity (folder,
       UIDVALIDITY, UID, Message-ID), its raw bytes, and the tickets, ticket messages, outbox
       answers and audit events it causes (``MailLedger``, one hop to the database thread);
       then the batch is marked seen and moved to IMAP_PROCESSED_FOLDER (the quarantine folder
       for a mail that could not be processed) while the next batch is recorded.
The stages run side by side: batch k is recorded while k+1 is prepared and k+2 fetched.
A crash before the commit leaves nothing of the batch recorded: it is processed again from
scratch. A crash after it finds the identities recorded, so only the move is repeated. A message
seen again under a new UID (same Message-ID, or same bytes without one) is recorded as a
duplicate and not answered.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import random
from collections.abc import Awaitable
from typing import TypeVar

from assistant.clock import Clock, SystemClock
from assistant.errors import FaqUnavailable
from assistant.settings import Settings
from assistant.tickets import TicketService
from assistant.wakeup import raise_if_cancelled
from mailbox.inbound.batch import InlinePreparer, MailPreparer, PreparedMail
from mailbox.inbound.connection import FETCH_BATCH_COUNT, MailboxConnection, fetch_plan
from mailbox.inbound.imap import FetchedMail, ImapMailbox, ImapUnavailable
from mailbox.inbound.ledger import QUARANTINED, FaqAnswer, FaultHook, MailLedger, Recorded
from store.errors import StoreError
from store.store import Store

logger = logging.getLogger(__name__)

RECONNECT_FIRST = 1.0
RECONNECT_MAX = 60.0
R = TypeVar("R")


PREPARE_PARALLEL = 2
PIPELINE_DEPTH = 1  # batches waiting between two stages of the pipeline
Fetched = list[FetchedMail] | Exception | None  # a batch, stage 1's failure, or the end
Prepared = list[PreparedMail] | Exception | None


class MailboxWorker:
    """Reads the support mailbox until cancelled; ``process_once`` handles what is there now."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        tickets: TicketService,
        *,
        preparer: MailPreparer | None = None,
        faq_answer: FaqAnswer | None = None,
        clock: Clock | None = None,
        mailbox: ImapMailbox | None = None,
        fault: FaultHook | None = None,
        reconnect_delays: tuple[float, float] = (RECONNECT_FIRST, RECONNECT_MAX),
        batch_size: int = FETCH_BATCH_COUNT,
    ) -> None:
        """``preparer`` readies the batches (``FaqProcess``, or ``InlinePreparer`` over a
        matcher); without it, or without ``faq_answer``, no question is matched and every one
        becomes a ticket. The worker starts and closes its preparer."""
        self.settings = settings
        self.store = store
        self.preparer: MailPreparer = (
            preparer if preparer is not None and faq_answer is not None else InlinePreparer(None)
        )
        self.faq_answer = faq_answer
        self.tickets = tickets
        self.clock = clock or SystemClock()
        self.connection = MailboxConnection(
            mailbox or ImapMailbox.from_settings(settings), settings
        )
        self._fault = fault or (lambda point: None)
        self._reconnect_first, self._reconnect_max = reconnect_delays
        self.batch_size = batch_size
        self._progress = asyncio.Condition()
        self.handled = 0  # messages processed since start (tests await it)
        self.own_addresses = tuple(
            a.lower()
            for a in (settings.mail_from_address, settings.support_address, settings.imap_username)
            if a and "@" in a
        )
        self.ledger = MailLedger(settings, tickets, faq_answer, self._fault)

    # --- the loop ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Get the preparer ready (the FAQ child process loads its matcher; else on first use)."""
        try:
            await self.preparer.start()
        except FaqUnavailable:
            logger.warning("FAQ matcher not started: mail questions become tickets meanwhile")

    async def run(self) -> None:
        """Process, then IDLE (or sleep) and again, until cancelled; reconnect with backoff."""
        delay = self._reconnect_first
        logger.info("support mailbox worker started")
        try:
            await self.start()
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
                except (OSError, StoreError) as exc:
                    logger.error("mailbox pass failed (%s); retrying in %.1f s", exc, delay)
                await self.connection.disconnect()
                await asyncio.sleep(delay * random.uniform(0.8, 1.2))
                delay = min(delay * 2, self._reconnect_max)
        finally:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.aclose(), timeout=self.settings.imap_timeout_seconds)
            logger.info("support mailbox worker stopped")

    async def aclose(self) -> None:
        """Log out, stop the IMAP thread, and close the preparer (the FAQ child process)."""
        try:
            await self.connection.aclose()
        finally:
            await self.preparer.aclose()

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
            quarantined = [uid for uid, outcome in known.items() if outcome == QUARANTINED]
            await connection.archive(sorted(set(known) - set(quarantined)), self._processed)
            await connection.archive(quarantined, settings.imap_quarantine_folder)
        pending = [uid for uid in uids if uid not in known]
        sizes = await connection.sizes(pending)
        plan = fetch_plan(pending, sizes, settings.mail_max_bytes, self.batch_size)
        fetched: asyncio.Queue[Fetched] = asyncio.Queue(PIPELINE_DEPTH)
        prepared: asyncio.Queue[Prepared] = asyncio.Queue(PIPELINE_DEPTH)
        stages = [
            asyncio.create_task(self._fetch_all(plan, fetched)),
            asyncio.create_task(self._prepare_all(fetched, prepared)),
        ]
        try:
            return await self._record_all(uidvalidity, prepared)
        finally:
            for stage in stages:
                stage.cancel()
            for stage in stages:
                with contextlib.suppress(asyncio.CancelledError):
                    await stage

    async def _fetch_all(
        self, plan: list[tuple[list[int], bool]], fetched: asyncio.Queue[Fetched]
    ) -> None:
        """Stage 1: fetch each batch, handing it (or the failure) on."""
        try:
            for batch, header_only in plan:
                await fetched.put(await self.connection.fetch(batch, header_only=header_only))
        except Exception as exc:
            await fetched.put(exc)
        else:
            await fetched.put(None)

    async def _prepare_all(
        self, fetched: asyncio.Queue[Fetched], prepared: asyncio.Queue[Prepared]
    ) -> None:
        """Stage 2: parse each batch and judge its questions (in the FAQ matcher's process)."""
        inflight: collections.deque[asyncio.Task[list[PreparedMail]]] = collections.deque()
        try:
            while isinstance(batch := await fetched.get(), list):
                inflight.append(asyncio.create_task(self._prepare(batch)))
                if len(inflight) >= PREPARE_PARALLEL:
                    await prepared.put(await inflight.popleft())
            while inflight:
                await prepared.put(await inflight.popleft())
            await prepared.put(batch)
        finally:
            for task in inflight:
                task.cancel()
            for task in inflight:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _prepare(self, batch: list[FetchedMail]) -> list[PreparedMail]:
        """One batch; without a working FAQ matcher its questions become tickets."""
        max_bytes, own = self.settings.mail_max_bytes, self.own_addresses
        try:
            return await self.preparer.prepare_many(batch, max_bytes, own)
        except FaqUnavailable:
            logger.warning("FAQ matcher unavailable: this batch's questions become tickets")
        except Exception:
            logger.exception("FAQ matcher failed on a batch: its questions become tickets")
        return await InlinePreparer(None).prepare_many(batch, max_bytes, own)

    async def _record_all(self, uidvalidity: int, ready: asyncio.Queue[Prepared]) -> int:
        """Stage 3: record each batch in one transaction, then move its mails (the move of
        batch k runs while batch k+1 is recorded)."""
        handled = 0
        moving: asyncio.Task[None] | None = None
        try:
            while (prepared := await ready.get()) is not None:
                if isinstance(prepared, Exception):
                    raise prepared
                self._fault("saved")
                recorded = await _despite_cancellation(self._record(uidvalidity, prepared))
                self._fault("committed")
                if moving is not None:
                    await moving
                self._fault("archiving")
                moving = asyncio.create_task(self._archive(recorded))
                handled += len(prepared)
            if moving is not None:
                await moving
        finally:
            if moving is not None:
                if not moving.done():
                    moving.cancel()  # a recorded mail not moved yet is moved by the next pass
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await moving  # (and its failure, if any, is not left unretrieved)
        return handled

    async def _archive(self, recorded: list[Recorded]) -> None:
        """Mark seen and move a recorded batch: processed folder, or quarantine."""
        done = [r.uid for r in recorded if r.outcome != QUARANTINED]
        quarantined = [r.uid for r in recorded if r.outcome == QUARANTINED]
        await self.connection.archive(done, self._processed)
        await self.connection.archive(quarantined, self.settings.imap_quarantine_folder)
        async with self._progress:
            self.handled += len(recorded)
            self._progress.notify_all()

    async def _record(self, uidvalidity: int, prepared: list[PreparedMail]) -> list[Recorded]:
        """The batch's one transaction, run on the database thread in one hop."""
        now = self.clock.now()
        recorded = await self.store.inbound.record_batch(
            self.ledger.record, uidvalidity, prepared, now
        )
        outcomes = collections.Counter(r.outcome for r in recorded)
        summary = ", ".join(f"{outcome} {count}" for outcome, count in sorted(outcomes.items()))
        logger.info("mail batch of %d recorded: %s", len(recorded), summary)
        return recorded


async def _despite_cancellation(transaction: Awaitable[R]) -> R:
    """Let a short transaction finish (commit or roll back) even if the caller is cancelled."""
    task = asyncio.ensure_future(transaction)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            with contextlib.suppress(Exception):
                await task
        raise


__all__ = ["MailboxWorker"]
