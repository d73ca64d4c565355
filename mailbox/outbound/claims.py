"""The rows one pass of the outbox sender holds: claimed at its start, kept while it runs, let
go at its end.

``take`` claims up to a batch of due rows for ``LEASE`` (``OutboxRepo.claim_due``: one UPDATE
... RETURNING, so no other sender, in this process or another, can take them meanwhile).
``still_ours`` renews the claim once half the lease has gone (a slow server, a database busy
for a while) and says whether a row is still ours: a row whose claim lapsed may have been taken
over by another sender and must not be sent. ``release``, at the end of every pass, drops the
claims: a row deferred is due again at its next attempt, a row the pass did not get to (a lost
connection, an error, a cancellation) at once. A killed process's claims lapse after ``LEASE``.

The one assumption: nothing stalls a pass for half a lease between the check of a row and its
DATA (SMTP steps time out after 30 s; a database write lock is held for a second at most), so
a row is never sent after its claim lapsed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from assistant.clock import Clock
from store.errors import StoreError
from store.outbox import OutboxRepo
from store.records import OutboxMail

logger = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # how long a claim keeps other senders off a row


class BatchClaim:
    """The due outbox rows one pass claimed."""

    def __init__(self, outbox: OutboxRepo, claimer: str, clock: Clock, lease: timedelta) -> None:
        self.outbox = outbox
        self.claimer = claimer
        self.clock = clock
        self.lease = lease
        self.mails: list[OutboxMail] = []
        self._held: set[int] = set()
        self._renew_at: datetime | None = None
        self._claiming = False  # take() was called and found rows (or was cut short)

    async def take(self, limit: int) -> list[OutboxMail]:
        """Claim up to ``limit`` due rows nobody holds, oldest first."""
        now = self.clock.now()
        self._claiming = True
        self.mails = await self.outbox.claim_due(self.claimer, now, now + self.lease, limit)
        self._claiming = bool(self.mails)
        self._held = {mail.id for mail in self.mails}
        self._renew_at = now + self.lease / 2
        return self.mails

    async def still_ours(self, mail: OutboxMail) -> bool:
        """Whether ``mail`` may be sent: renew the claim on the rest first when it is due."""
        now = self.clock.now()
        if self._renew_at is not None and now >= self._renew_at:
            self._renew_at = now + self.lease / 2
            rest = [each.id for each in self.mails if each.id in self._held]
            self._held = await self.outbox.extend_claim(self.claimer, rest, now + self.lease)
            lost = len(rest) - len(self._held)
            if lost:
                logger.warning("outbox: %d claimed rows were taken over by another sender", lost)
        if mail.id not in self._held:
            return False
        self._held.discard(mail.id)  # its outcome settles it
        return True

    async def release(self) -> None:
        """Drop the claims: the rows not sent are due again, for any sender (after an error,
        this includes the one in flight: it may go out again, with the same Message-ID).

        Also right after a cancelled ``take``: the claim may have been made all the same."""
        self._held = set()
        if not self._claiming:
            return  # nothing claimed: no write
        self._claiming = False
        try:
            await self.outbox.release(self.claimer)
        except StoreError as exc:
            logger.warning("outbox: claims not released (%s); they lapse in %s", exc, self.lease)
