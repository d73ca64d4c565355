"""Leader-only services: what exactly one replica of the service may run at a time.

Two things cannot be shared between replicas: the support mailbox (one reader of the IMAP
folder) and the pace of Telegram notices (30 messages a second is one budget per bot token).
``Leadership(locks, name, service)`` runs ``service()`` only while this process holds the
store's advisory lock ``leader:<name>`` (``Database.try_advisory_lock``):

    follower --lock free (tried every RETRY_SECONDS)--> leader: a fresh service() started
    leader   --hold.alive() False or silent (checked every CHECK_SECONDS)--> follower:
                 service cancelled and drained, lock let go
    leader   --service ends by itself--> lock let go, tried again
    leader   --service fails--> lock let go, the failure raised (main.py stops the service)
    any      --cancelled (SIGTERM)--> service cancelled and drained, lock let go, then out

On SQLite (one process, by the service's lock file) the lock is always free: the service runs
at once and for good. On PostgreSQL the lock is a session lock on a connection of its own: a
replica killed with ``kill -9`` loses it with its connection, a server restart drops it, and
another replica takes over at its next try, within ``RETRY_SECONDS``.

Between the loss of a lock and its holder's next check, two replicas may both run the service
for a moment. The services stay correct then too (the mailbox records a mail once, its folder
and UID a unique key, in the batch's one transaction; a Telegram notice is claimed before it is
sent): the lock keeps that moment short and the pace one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from assistant.wakeup import raise_if_cancelled
from store.db import LockHold
from store.errors import StoreError

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0  # a follower tries to take the lock this often
CHECK_SECONDS = 5.0  # a leader asks its lock's connection this often
CHECK_TIMEOUT_SECONDS = 10.0  # a connection silent this long has lost the lock for us

Service = Callable[[], Coroutine[Any, Any, None]]


class AdvisoryLocks(Protocol):
    """Where the lock is taken: the store's ``Database``."""

    def try_advisory_lock(self, name: str) -> AbstractAsyncContextManager[LockHold]:
        """Hold ``name`` while the block runs if it is free now (the hold is false if not)."""
        ...


class Leadership:
    """Runs ``service()`` while this process leads ``name``; until cancelled."""

    def __init__(
        self,
        locks: AdvisoryLocks,
        name: str,
        service: Service,
        *,
        retry_seconds: float = RETRY_SECONDS,
        check_seconds: float = CHECK_SECONDS,
        check_timeout: float = CHECK_TIMEOUT_SECONDS,
    ) -> None:
        """``service`` is called anew at each start of a leadership (the last one was
        cancelled: a fresh worker each time)."""
        self.locks = locks
        self.name = name
        self.service = service
        self.retry_seconds = retry_seconds
        self.check_seconds = check_seconds
        self.check_timeout = check_timeout
        self.leading = False  # what a health page or a test may ask
        self.terms = 0  # how many times this process became the leader

    async def run(self) -> None:
        """Follow, lead, follow again ... until cancelled (or the service fails)."""
        while True:
            raise_if_cancelled()
            failure: BaseException | None = None
            try:
                async with self.locks.try_advisory_lock(f"leader:{self.name}") as hold:
                    if hold:
                        try:
                            failure = await self._lead(hold)
                        finally:
                            self.leading = False  # the lock goes as the block ends
                            logger.info("%s: leadership released", self.name)
            except StoreError as exc:
                logger.warning("%s: leader lock not reachable (%s); trying again", self.name, exc)
            if failure is not None:
                raise failure
            await asyncio.sleep(self.retry_seconds)

    async def _lead(self, hold: LockHold) -> BaseException | None:
        """Run the service until it ends or the lock is lost; return its failure, if any."""
        self.leading = True
        self.terms += 1
        logger.info("%s: this replica is the leader now", self.name)
        service = asyncio.create_task(self.service(), name=self.name)
        watch = asyncio.create_task(self._watch(hold), name=f"{self.name} lock")
        try:
            done, _ = await asyncio.wait([service, watch], return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (watch, service):
                task.cancel()
            # The service drains (the item in hand finishes) before the lock goes.
            await asyncio.gather(watch, service, return_exceptions=True)
        if service in done:
            return service.exception()  # None: it ended by itself; lead again if the lock allows
        logger.warning("%s: leader lock lost; the service stops until it is taken again", self.name)
        return None

    async def _watch(self, hold: LockHold) -> None:
        """Return once the lock is lost (its connection gone, or silent too long)."""
        while True:
            try:
                async with asyncio.timeout(self.check_timeout):
                    alive = await hold.alive()
            except (TimeoutError, StoreError, OSError):
                alive = False
            if not alive:
                return
            await asyncio.sleep(self.check_seconds)
