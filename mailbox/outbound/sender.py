"""The outbox sender: delivers queued e-mails over SMTP, or as ``.eml`` files without SMTP_HOST.

Every mail is an outbox row first (queued in the transaction of the event that causes it). The
sender polls the table every second (mail queued by another process, e.g. ``publish``) and can
be woken by in-process enqueuers with ``wake()``. Per pass it claims up to ``BATCH_SIZE`` due
rows, oldest first (``claims.BatchClaim``: no other sender, in this process or another, sends
them meanwhile). ``run()`` keeps one SMTP connection open across passes: checked before reuse
(NOOP when it sat unused a while), replaced when it fails, closed (QUIT) after
``IDLE_CLOSE_SECONDS`` without mail; ``send_due()`` connects for its one pass only.

Outcomes of one row:
    accepted by the server   -> status sent (recipients refused among several are noted)
    5xx, or unbuildable row  -> status failed with the error: ``python main.py outbox --failed``
    anything else            -> stays pending; next attempt 30 s later, doubling, at most
                                15 minutes apart, forever (an SMTP outage loses nothing)

Crash safety: a row is marked sent right after the server accepted it (the bookkeeping is
shielded from cancellation, waits out a busy database, and a lost connection for a minute; to
save time it runs while the next mail's MAIL FROM and RCPT TO travel, and that mail's DATA
waits for it, so at most one accepted mail is ever unrecorded). A kill between the server's
"250" and that update resends that one mail on the next start, with the same Message-ID, Date
and bytes (the message is rebuilt from the row), so receivers and our bounce matching see one
message; the killed sender's other claimed rows are taken over once their claims lapse
(``claims.LEASE``). ``.eml`` files are written atomically under a name derived from the row, so
a rewrite after a crash replaces the same file.

Secrets: a temporary password or code is deleted from the row when the mail is settled as sent
or failed; after such a pass the sender empties the WAL (``OutboxRepo.checkpoint``, retried on
later passes while another connection is in the way, and once when ``run()`` starts).

Logs name the outbox id and kind, never addresses or bodies (bodies carry passwords and codes).
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from datetime import timedelta
from email.errors import MessageError

from assistant.clock import Clock
from assistant.errors import DeliveryError, PermanentDeliveryError
from assistant.redact import redact
from assistant.settings import Settings
from assistant.wakeup import backoff, finish_even_if_cancelled, raise_if_cancelled, wait_or_timeout
from mailbox.outbound.claims import LEASE, BatchClaim
from mailbox.outbound.compose import (
    build_message,
    envelope_recipients,
    mask_addresses,
    message_bytes,
    remove_stale_temp_files,
)
from mailbox.outbound.transport import ConnectionLost, Transport, transport_for
from store.errors import StoreBusy, StoreError
from store.outbox import new_claimer
from store.records import OutboxMail
from store.store import Store

logger = logging.getLogger(__name__)

POLL_SECONDS = 1.0
BATCH_SIZE = 200
IDLE_CLOSE_SECONDS = 30.0
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=15)
LOCKED_RETRY_SECONDS = 1.0  # a sent mail's record is retried at most this far apart,
RECORD_RETRY_FIRST = 0.2  # first this soon; a lost connection (not a lock) for about
RECORD_RETRY_SECONDS = 60.0  # this long (a database restarting)

__all__ = ["OutboxSender", "build_message", "retry_delay"]


def retry_delay(failures: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... never more than 15 min."""
    return backoff(failures, FIRST_RETRY, MAX_RETRY)


class Outcome(enum.Enum):
    SENT = "sent"  # accepted by the server (or written to its file)
    FAILED = "failed"  # permanently: retrying cannot help
    DEFERRED = "deferred"  # temporary failure, next attempt later
    DISCONNECTED = "disconnected"  # deferred, and the connection is gone: end the batch


class OutboxSender:
    """Delivers due outbox rows, retrying temporary failures forever with backoff."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        clock: Clock,
        *,
        poll_seconds: float = POLL_SECONDS,
        batch_size: int = BATCH_SIZE,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.settings = settings
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.batch_size = batch_size
        self.lease = lease
        self.claimer = new_claimer()
        self._wal_holds_secrets = False  # a secret was deleted and the WAL not emptied since
        self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()
        self._transport: Transport | None = None
        self._last_used = 0.0  # time.monotonic() of the transport's last use
        self._recording: asyncio.Future[None] | None = None  # marking the last accepted mail

    def wake(self) -> None:
        """Ask for a pass now (call after queueing a mail in this process)."""
        self._wake.set()

    async def run(self) -> None:
        """Deliver until cancelled: a pass on every wake-up and at least every poll interval."""
        await self._announce()
        self._wal_holds_secrets = True  # a previous run may have been killed before emptying it
        try:
            while True:
                raise_if_cancelled()
                self._wake.clear()
                try:
                    taken, _ = await self._pass(keep_open=True)
                except StoreBusy:
                    logger.warning("outbox pass postponed: the database is busy")
                    taken = 0
                except Exception:
                    logger.exception("outbox pass failed; trying again shortly")
                    taken = 0
                if taken >= self.batch_size:
                    continue  # more may be due right now
                await wait_or_timeout(self._wake, self.poll_seconds)
                if time.monotonic() - self._last_used >= IDLE_CLOSE_SECONDS:
                    await self._close_transport(graceful=True)
        finally:
            await self._close_transport(graceful=False)

    async def send_due(self) -> int:
        """One pass over the due rows; return how many were delivered."""
        _, delivered = await self._pass(keep_open=False)
        return delivered

    async def _announce(self) -> None:
        settings = self.settings
        if settings.smtp_host is None:
            removed = await asyncio.to_thread(remove_stale_temp_files, settings.outbox_dir)
            logger.info("outgoing e-mails are written to %s", settings.outbox_dir)
            if removed:
                logger.info("removed %d unfinished temporary files from the outbox", removed)
        else:
            logger.info(
                "outgoing e-mails go to %s:%d (%s)",
                settings.smtp_host,
                settings.smtp_port,
                settings.smtp_security,
            )

    async def _pass(self, *, keep_open: bool) -> tuple[int, int]:
        """Deliver up to one batch of due rows; return (rows taken, rows delivered)."""
        async with self._pass_lock:
            claim = BatchClaim(self.store.outbox, self.claimer, self.clock, self.lease)
            try:
                return await self._batch(claim, keep_open=keep_open)
            finally:
                await finish_even_if_cancelled(claim.release())
                if self._wal_holds_secrets:
                    self._wal_holds_secrets = not await self.store.outbox.checkpoint()

    async def _batch(self, claim: BatchClaim, *, keep_open: bool) -> tuple[int, int]:
        mails = await claim.take(self.batch_size)
        if not mails:
            return 0, 0
        transport = await self._open_transport(mails)
        if transport is None:
            return len(mails), 0
        delivered, connected = 0, True
        try:
            for mail in mails:
                if not await claim.still_ours(mail):
                    continue  # the claim lapsed and another sender took the row over
                outcome = await self._deliver_one(transport, mail)
                self._last_used = time.monotonic()
                delivered += outcome is Outcome.SENT
                if outcome is Outcome.DISCONNECTED:
                    connected = False
                    break  # the rest are released, due again; the next pass reconnects
            await self._settle_previous()
        except BaseException:
            await self._close_transport(graceful=False)
            await self._settle_previous()
            raise
        if not (keep_open and connected):
            await self._close_transport(graceful=connected)
        return len(mails), delivered

    async def _open_transport(self, mails: list[OutboxMail]) -> Transport | None:
        """The open transport (reused when it still works), or None: ``mails`` deferred."""
        transport = self._transport
        if transport is not None:
            if await transport.alive():
                return transport
            await self._close_transport(graceful=False)  # e.g. the server timed us out
        transport = transport_for(self.settings)
        try:
            await transport.open()
        except ConnectionLost as exc:
            for mail in mails:
                await self._defer(mail, str(exc), quiet=True)
            logger.warning(
                "SMTP server not available (%s); e-mails waiting: %d, next attempt in %d s or more",
                redact(str(exc)),
                len(mails),
                min(retry_delay(mail.attempts + 1) for mail in mails).total_seconds(),
            )
            return None
        self._transport, self._last_used = transport, time.monotonic()
        return transport

    async def _close_transport(self, *, graceful: bool) -> None:
        transport, self._transport = self._transport, None
        if transport is not None:
            await transport.close(graceful=graceful)

    async def _deliver_one(self, transport: Transport, mail: OutboxMail) -> Outcome:
        """Send one row and record the outcome (marking it sent goes on while the next one's
        envelope travels: ``_settle_previous`` ends it before the server can accept another)."""
        try:
            data = message_bytes(mail, self.settings, eight_bit=transport.eight_bit)
            recipients = envelope_recipients(mail)
        except (ValueError, MessageError) as exc:
            await self._settle_previous()
            await self._fail(mail, f"cannot build the message: {exc}")
            return Outcome.FAILED
        try:
            refused = await transport.send(mail, data, recipients, self._settle_previous)
        except PermanentDeliveryError as exc:
            await self._settle_previous()
            await self._fail(mail, str(exc))
            return Outcome.FAILED
        except DeliveryError as exc:
            await self._settle_previous()
            await self._defer(mail, str(exc))
            return Outcome.DISCONNECTED if isinstance(exc, ConnectionLost) else Outcome.DEFERRED
        note = f"refused: {mask_addresses(refused)}" if refused else None
        self._recording = asyncio.ensure_future(self._record_sent(mail, note))
        logger.info("outbox %d (%s) sent", mail.id, mail.kind)
        if refused:
            logger.warning("outbox %d (%s): some recipients refused", mail.id, mail.kind)
        return Outcome.SENT

    async def _settle_previous(self) -> None:
        """Wait until the last accepted mail is marked sent (even when cancelled meanwhile)."""
        recording, self._recording = self._recording, None
        if recording is not None:
            await finish_even_if_cancelled(recording)

    async def _record_sent(self, mail: OutboxMail, note: str | None) -> None:
        """Mark the row sent, waiting out a database another connection keeps locked (as long
        as it takes) or a lost connection (a restart: ``RECORD_RETRY_SECONDS``, while the pool
        reconnects). Giving up would send the mail again once its claim lapses."""
        delay, waited = RECORD_RETRY_FIRST, 0.0
        while True:
            try:
                await self.store.outbox.mark_sent(mail.id, self.clock.now(), error=note)
                self._wal_holds_secrets |= mail.secret == "held"
                return
            except StoreError as exc:
                if not isinstance(exc, StoreBusy) and waited >= RECORD_RETRY_SECONDS:
                    raise
                reason = redact(str(exc))
                logger.warning("outbox %d (%s) sent, not recorded: %s", mail.id, mail.kind, reason)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, LOCKED_RETRY_SECONDS)

    async def _defer(self, mail: OutboxMail, reason: str, *, quiet: bool = False) -> None:
        failures = mail.attempts + 1
        delay = retry_delay(failures)
        await self.store.outbox.mark_retry(
            mail.id, mask_addresses(reason), self.clock.now() + delay, claimer=self.claimer
        )
        log = logger.debug if quiet else logger.warning
        log(
            "outbox %d (%s) not delivered (attempt %d), next attempt in %d s: %s",
            mail.id,
            mail.kind,
            failures,
            delay.total_seconds(),
            redact(reason),
        )

    async def _fail(self, mail: OutboxMail, reason: str) -> None:
        await self.store.outbox.mark_failed(
            mail.id, mask_addresses(reason), self.clock.now(), claimer=self.claimer
        )
        self._wal_holds_secrets |= mail.secret == "held"
        logger.error("outbox %d (%s) failed permanently: %s", mail.id, mail.kind, redact(reason))
