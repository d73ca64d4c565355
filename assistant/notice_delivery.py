"""Sending the queued Telegram notices at the pace the channel allows, resumably.

Rows of ``telegram_notices`` are written by the fan-out (``assistant.notices``). This sender
takes the due ones, oldest first, and hands each to a ``Notifier`` (the Telegram front-end):

    accepted                   -> status sent, right away (shielded from cancellation)
    PermanentDeliveryError     -> the user blocked the bot: the chat is flagged
                                  (chats.notices_stopped_at), its pending notices dropped,
                                  an audit row written; e-mail notices are not affected
    any other error            -> retried later (30 s, doubling, at most 30 min apart),
                                  dropped after MAX_ATTEMPTS

Claims: each notice is claimed just before it is sent (``NoticeRepo.claim_telegram``), so a
second sender on the same table skips it, and the chat it goes to, until it is settled or the
claim lapses (``LEASE``, after a kill); a cancelled sender releases what it claimed and did not
send.

Pacing: the notifier declares the ``Pacing`` its channel needs (Telegram's numbers live in
``bot/telegram_render.py``): at most ``per_second`` messages per second overall, evenly spaced,
and at most one message per ``chat_interval_seconds`` to one chat, one at a time. A kill
between the channel's acceptance and the status update resends the messages then on the wire
once their claims lapse (at-least-once): at most ``max_in_flight`` of them, the claimed and not
yet settled ones. ``main.py`` sets it from TELEGRAM_NOTICES_IN_FLIGHT: 1 on PostgreSQL, where
replicas run and a killed leader may repeat one notice at most (claim, send, record, then the
next: the pace is then also at most one per round trip), ``MAX_IN_FLIGHT`` on SQLite. A
database away for a moment (a restart) delays the status update, which is retried, rather than
cause a resend. A cancelled sender lets the messages already on the wire settle first. With
several replicas one leader runs the sender (``assistant.leadership``): the pace is the bot's,
not each replica's.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from assistant.clock import Clock
from assistant.dialogs.messages import Button, Reply
from assistant.errors import PermanentDeliveryError
from assistant.wakeup import (
    backoff,
    finish_even_if_cancelled,
    raise_if_cancelled,
    wait_or_timeout,
)
from store.errors import StoreError
from store.notices import TelegramNotice
from store.outbox import new_claimer
from store.store import Store

logger = logging.getLogger(__name__)

MAX_IN_FLIGHT = 25  # messages sent and not yet recorded, one process (SQLite)
POLL_SECONDS = 1.0
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
MAX_RETRY = timedelta(minutes=30)
SETTLE_SECONDS = 5.0
LEASE = timedelta(minutes=5)  # how long a claim keeps other senders off a notice and its chat
RECORD_RETRY_FIRST = 0.2  # a sent notice's record is retried this soon, then less often,
RECORD_RETRY_SECONDS = 60.0  # for about this long (a database restarting)


@dataclass(frozen=True)
class Pacing:
    """How fast a channel takes the messages we start (not answers to the customer)."""

    per_second: float  # overall, spaced evenly
    chat_interval_seconds: float  # between two messages to the same chat


class Notifier(Protocol):
    """Sends one message to a chat outside an update (the Telegram front-end)."""

    @property
    def pacing(self) -> Pacing:
        """How fast the channel takes our messages."""
        ...

    async def send(self, chat_id: str, reply: Reply) -> object:
        """Deliver; ``PermanentDeliveryError`` when the chat refuses us (bot blocked)."""
        ...


class PacedLimiter:
    """Starts spaced evenly, ``rate`` per second: never a burst that could pass the limit."""

    def __init__(self, rate: float) -> None:
        self.interval = 1.0 / rate
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait for the next free slot and take it."""
        loop = asyncio.get_running_loop()
        async with self._lock:
            now = loop.time()
            if self._next > now:
                await asyncio.sleep(self._next - now)
                now = self._next
            self._next = now + self.interval


def retry_delay(attempts: int) -> timedelta:
    """Wait after the n-th failed attempt: 30 s, 1 min, 2 min, ... at most 30 min."""
    return backoff(attempts, FIRST_RETRY, MAX_RETRY)


def notice_reply(notice: TelegramNotice) -> Reply:
    """The chat message of a queued notice: its text, one button per row."""
    return Reply(
        text=notice.body,
        buttons=tuple((Button(label, data),) for label, data in notice.buttons),
    )


class TelegramNoticeSender:
    """Delivers due Telegram notices until cancelled, at the notifier's pace (or ``pacing``)."""

    def __init__(
        self,
        store: Store,
        notifier: Notifier,
        clock: Clock,
        *,
        pacing: Pacing | None = None,
        max_in_flight: int = MAX_IN_FLIGHT,
        poll_seconds: float = POLL_SECONDS,
        lease: timedelta = LEASE,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.clock = clock
        self.pacing = pacing or notifier.pacing
        self.max_in_flight = max_in_flight
        self.poll_seconds = poll_seconds
        self.lease = lease  # a killed sender's claims lapse after it
        self.limiter = PacedLimiter(self.pacing.per_second)
        self.sent = 0
        self.claimer = new_claimer()
        self._chat_ready: dict[str, float] = {}
        self._wake = asyncio.Event()
        self._pass_lock = asyncio.Lock()

    def wake(self) -> None:
        """Ask for a pass now (the fan-out queued something)."""
        self._wake.set()

    async def run(self) -> None:
        """Send until cancelled: a pass on every wake-up and at least every poll interval."""
        while True:
            raise_if_cancelled()
            self._wake.clear()
            timeout = self.poll_seconds
            try:
                await self.send_due()
                next_due = await self.store.notices.next_telegram_due_at()
            except Exception:
                logger.exception("telegram notice pass failed; trying again shortly")
                next_due = None
            if next_due is not None:
                wait = (next_due - self.clock.now()).total_seconds()
                timeout = min(timeout, max(wait, 0.05))
            await wait_or_timeout(self._wake, timeout)

    async def send_due(self) -> int:
        """Send every notice due now (waiting out the limits); return how many were accepted."""
        async with self._pass_lock:
            before = self.sent
            in_flight: dict[str, asyncio.Task[None]] = {}
            try:
                await self._drain(in_flight)
            except asyncio.CancelledError:
                if in_flight:  # let the messages on the wire settle: no resend after restart
                    await asyncio.wait(list(in_flight.values()), timeout=SETTLE_SECONDS)
                for task in in_flight.values():
                    task.cancel()
                await finish_even_if_cancelled(self.store.notices.release_telegram(self.claimer))
                raise
            return self.sent - before

    async def _drain(self, in_flight: dict[str, asyncio.Task[None]]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            rows = await self.store.notices.due_telegram(
                self.clock.now(), limit=200, exclude_chats=list(in_flight)
            )
            now = loop.time()
            self._forget_cool_chats(now)
            ready: dict[str, TelegramNotice] = {}
            cooling_until: float | None = None
            for row in rows:
                ready_at = self._chat_ready.get(row.chat_id, 0.0)
                if ready_at > now:
                    cooling_until = min(cooling_until or ready_at, ready_at)
                elif row.chat_id not in ready:
                    ready[row.chat_id] = row
            if not ready:
                if in_flight:
                    await asyncio.wait(list(in_flight.values()), return_when="FIRST_COMPLETED")
                elif cooling_until is not None:
                    await asyncio.sleep(cooling_until - now)
                else:
                    return
                continue
            for chat_id, row in ready.items():
                while len(in_flight) >= self.max_in_flight:
                    await asyncio.wait(list(in_flight.values()), return_when="FIRST_COMPLETED")
                now_utc = self.clock.now()
                if not await self.store.notices.claim_telegram(
                    row.id, self.claimer, now_utc, now_utc + self.lease
                ):
                    continue  # sent meanwhile, or another sender is writing to this chat
                await self.limiter.acquire()
                task = asyncio.create_task(self._send(row))
                in_flight[chat_id] = task
                task.add_done_callback(functools.partial(_forget, in_flight, chat_id))

    def _forget_cool_chats(self, now: float) -> None:
        if len(self._chat_ready) > 10_000:
            self._chat_ready = {c: t for c, t in self._chat_ready.items() if t > now}

    async def _send(self, row: TelegramNotice) -> None:
        """Send one notice and record the outcome."""
        try:
            await self.notifier.send(row.chat_id, notice_reply(row))
        except PermanentDeliveryError as exc:
            await finish_even_if_cancelled(self._stop_chat(row, str(exc)))
        except Exception as exc:
            await finish_even_if_cancelled(self._retry(row, f"{type(exc).__name__}: {exc}"))
        else:
            await finish_even_if_cancelled(self._record_sent(row))
            self.sent += 1
        finally:
            # Counted from the channel's answer: the next message to this chat arrives at least
            # chat_interval_seconds after this one did, whatever the network's jitter.
            interval = self.pacing.chat_interval_seconds
            self._chat_ready[row.chat_id] = asyncio.get_running_loop().time() + interval

    async def _record_sent(self, row: TelegramNotice) -> None:
        """Mark the notice sent, waiting out a database that is away for a moment (a restart,
        a lost connection): giving up would send the message again once its claim lapses."""
        delay, waited = RECORD_RETRY_FIRST, 0.0
        while True:
            try:
                await self.store.notices.mark_telegram_sent(row.id, self.clock.now())
                return
            except StoreError as exc:
                if waited >= RECORD_RETRY_SECONDS:
                    raise
                logger.warning("telegram notice %d sent; not recorded yet (%s)", row.id, exc)
            await asyncio.sleep(delay)
            waited += delay
            delay = min(delay * 2, 5.0)

    async def _stop_chat(self, row: TelegramNotice, error: str) -> None:
        now = self.clock.now()
        async with self.store.db.transaction():
            dropped = await self.store.notices.stop_chat(row.chat_id, error, now)
            await self.store.audit.record(
                "telegram_notices_stopped",
                now,
                customer_id=row.customer_id,
                channel="telegram",
                chat_id=row.chat_id,
                detail=f"bot blocked; {dropped} pending notices dropped",
            )
        logger.warning(
            "telegram notice %d: the chat refused it (bot blocked); notices to it stopped", row.id
        )

    async def _retry(self, row: TelegramNotice, error: str) -> None:
        attempts = row.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self.store.notices.mark_telegram_dropped(row.id, error)
            logger.error("telegram notice %d dropped after %d attempts", row.id, attempts)
            return
        delay = retry_delay(attempts)
        await self.store.notices.mark_telegram_retry(row.id, error, self.clock.now() + delay)
        logger.warning(
            "telegram notice %d not sent (attempt %d), next in %d s: %s",
            row.id,
            attempts,
            delay.total_seconds(),
            error[:200],
        )


def _forget(in_flight: dict[str, asyncio.Task[None]], chat_id: str, _: object) -> None:
    in_flight.pop(chat_id, None)
