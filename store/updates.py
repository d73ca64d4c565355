"""Telegram updates: each handled once, one chat's updates one at a time, on every replica.

Telegram delivers an update again when it got no 200 in time, possibly to another replica, and
consecutive updates of one chat may reach different replicas. So the front-end handles each
update inside its chat's turn::

    async with store.updates.chat_turn(chat_id, update_id):
        if not await store.updates.handled_before(update_id):
            ...                                      # handle and answer
            await store.updates.record_handled(update_id, now)

The turn is two locks. In this process, the updates of one chat waiting for their turn are
served lowest ``update_id`` first (``ChatQueue``), so a burst that arrived out of order is
answered in Telegram's order, and waiters hold no database connection. Across processes, the
PostgreSQL's session-level ``pg_advisory_lock`` on the chat, held by the replica handling it
(``store.chat_locks``: the same keys as ``Database.advisory_lock``, on reused connections).
SQLite has one service per file (the service lock), so there the process's own turn is the
whole lock, and it is dropped when the chat has no update in hand.

On PostgreSQL the turn's queries ride on the chat lock's connection, from the event loop:
``handled_before`` of the turn's update is answered by a query sent with the lock, in its round
trip (``ChatLockPool.hold``'s ``then``); every statement the turn sends outside a transaction
(reading the chat and the account, saving the chat) goes on that connection too
(``PostgresDatabase.riding``); and ``record_handled`` inside the turn is sent with the unlock,
committed just before it. Outside a turn all go through the engine as before. Same statements,
fewer round trips, no worker thread to wake and no pooled connection to check out.

The update is recorded *after* it was handled: a delivery repeated while the first is still
being handled waits for the turn, then finds it recorded; a replica killed in the middle leaves
no record, so Telegram's retry is handled again elsewhere (at most that one update twice).
"""

from __future__ import annotations

import asyncio
import contextvars
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from psycopg import sql

from store.chat_locks import ChatLockPool, HeldChat
from store.db import Database
from store.postgres import PostgresDatabase
from store.values import iso

KEPT = timedelta(days=2)  # Telegram stops retrying an update after 24 hours
PRUNE_EVERY = 1_000  # records between two prunings, per process
RECORD = (
    "INSERT INTO telegram_updates (update_id, handled_at) VALUES (?, ?)"
    " ON CONFLICT (update_id) DO NOTHING"
)
RECORD_ON_LOCK = RECORD.replace("?", "{}")  # the same, composed with literals, sent with the unlock
HANDLED = "SELECT 1 FROM telegram_updates WHERE update_id = ?"


@dataclass
class _Held:
    """The PostgreSQL chat turn in hand: its update, what the lock's round trip found."""

    owner: ChatLockPool  # whose turn: another store's calls do not ride on it
    update_id: int
    chat: HeldChat
    handled: bool | None  # the answer sent with the lock (None: used, ask again)


_in_turn: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("_in_turn", default=None)


@dataclass
class _Turn:
    """One chat's turn in this process: who holds it, who waits (a heap by update_id)."""

    busy: bool = False
    users: int = 0
    waiting: list[tuple[int, int, asyncio.Future[None]]] = field(default_factory=list)


class ChatQueue:
    """Per-chat turns of this process; waiters served lowest ``order`` first."""

    def __init__(self) -> None:
        self._turns: dict[str, _Turn] = {}
        self._arrivals = itertools.count()

    @asynccontextmanager
    async def hold(self, key: str, order: int) -> AsyncIterator[None]:
        """Run the block alone for ``key``; among waiters the lowest ``order`` goes next."""
        turn = self._turns.setdefault(key, _Turn())
        turn.users += 1
        try:
            if turn.busy:
                await self._wait(turn, order)
            else:
                turn.busy = True
            try:
                yield
            finally:
                _pass_on(turn)
        finally:
            turn.users -= 1
            if not turn.users:
                del self._turns[key]

    async def _wait(self, turn: _Turn, order: int) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (order, next(self._arrivals), waiter)
        heapq.heappush(turn.waiting, entry)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                _pass_on(turn)  # handed the turn just as we were cancelled: hand it on
            else:
                turn.waiting.remove(entry)
                heapq.heapify(turn.waiting)
            raise

    def waiting(self, key: str | None = None) -> int:
        """How many wait for ``key``'s turn (any chat's: None) in this process."""
        turns = self._turns.values() if key is None else [self._turns.get(key) or _Turn()]
        return sum(len(turn.waiting) for turn in turns)


def _pass_on(turn: _Turn) -> None:
    """The turn goes to the lowest waiter still waiting, or becomes free."""
    while turn.waiting:
        _, _, waiter = heapq.heappop(turn.waiting)
        if not waiter.done():
            waiter.set_result(None)  # ``busy`` stays: the waiter holds the turn now
            return
    turn.busy = False


class UpdateRepo:
    """Handled update ids and the chats' turns over one database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.queue = ChatQueue()
        self._records = 0
        self._locks = (
            ChatLockPool(db.url, options=db.options) if isinstance(db, PostgresDatabase) else None
        )

    @asynccontextmanager
    async def chat_turn(self, chat_id: str, update_id: int) -> AsyncIterator[None]:
        """Handle ``update_id`` of ``chat_id`` alone: nobody else, in any replica, handles an
        update of that chat meanwhile."""
        key = f"telegram-chat:{chat_id}"
        async with self.queue.hold(key, update_id):
            if self._locks is None:  # SQLite: one service per file, the process's turn is all
                yield
                return
            handled = sql.SQL(
                "SELECT EXISTS (SELECT 1 FROM telegram_updates WHERE update_id = {})"
            ).format(sql.Literal(int(update_id)))
            async with self._locks.hold(key, then=handled) as chat:
                found = chat.then_row is not None and bool(chat.then_row[0])
                token = _in_turn.set(_Held(self._locks, update_id, chat, found))
                try:
                    assert isinstance(self.db, PostgresDatabase)
                    with self.db.riding(chat):
                        yield
                finally:
                    _in_turn.reset(token)

    def _held(self) -> _Held | None:
        """This repository's PostgreSQL turn in hand here, if any."""
        held = _in_turn.get()
        return held if held is not None and held.owner is self._locks else None

    async def close(self) -> None:
        """Let the chat locks' connections go (``Store.close``)."""
        if self._locks is not None:
            await self._locks.close()

    async def handled_before(self, update_id: int) -> bool:
        """Whether this update was handled already (by any replica)."""
        held = self._held()
        if held is not None and held.update_id == update_id and held.handled is not None:
            found, held.handled = held.handled, None  # a second question is asked anew
            return found
        row = await self.db.fetchone(HANDLED, (update_id,))
        return row is not None

    async def record_handled(self, update_id: int, now: datetime) -> bool:
        """Record the update as handled; False when it was already. Every ``PRUNE_EVERY``
        records, rows older than ``KEPT`` are forgotten."""
        held = self._held()
        if held is not None and not (isinstance(self.db, PostgresDatabase) and self.db.joined()):
            # Sent with the unlock, committed before it: one round trip less. Nobody else can
            # have recorded it meanwhile (the turn was found unhandled, under the chat's lock).
            held.chat.release_with(
                sql.SQL(RECORD_ON_LOCK).format(sql.Literal(int(update_id)), sql.Literal(iso(now)))
            )
            held.handled = None
            added = 1
        else:
            added = await self.db.execute_alone(RECORD, (update_id, iso(now)))
        self._records += 1
        if self._records % PRUNE_EVERY == 0:
            await self.prune(now - KEPT)
        return added == 1

    async def prune(self, before: datetime) -> int:
        """Forget updates handled before ``before``; how many."""
        return await self.db.execute_alone(
            "DELETE FROM telegram_updates WHERE handled_at < ?", (iso(before),)
        )
