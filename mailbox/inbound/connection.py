"""The IMAP connection on its own thread, awaited from asyncio.

imaplib is blocking and not thread-safe: one ``ImapMailbox`` lives on one dedicated thread and
every operation goes through it, so the event loop never blocks on the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from assistant.settings import Settings
from mailbox.inbound.imap import FetchedMail, ImapMailbox

logger = logging.getLogger(__name__)

FETCH_BATCH_COUNT = 100
FETCH_BATCH_BYTES = 16 * 1024 * 1024

P = ParamSpec("P")
R = TypeVar("R")


class MailboxConnection:
    """An ``ImapMailbox`` driven from asyncio; every call runs on one dedicated thread."""

    def __init__(self, mailbox: ImapMailbox, settings: Settings) -> None:
        self.mailbox = mailbox
        self.settings = settings
        self.uidvalidity: int | None = None
        self._executor: ThreadPoolExecutor | None = None

    @property
    def has_idle(self) -> bool:
        """Whether the server offers IDLE (known once connected)."""
        return "IDLE" in self.mailbox.capabilities

    async def open(self) -> int:
        """Connect, create the folders, select IMAP_FOLDER; return its UIDVALIDITY."""
        if not self.mailbox.connected or self.uidvalidity is None:
            self.uidvalidity = await self._call(self._open)
        return self.uidvalidity

    def _open(self) -> int:
        self.mailbox.connect()
        self.mailbox.ensure_folder(self.settings.imap_processed_folder)
        self.mailbox.ensure_folder(self.settings.imap_quarantine_folder)
        return self.mailbox.select(self.settings.imap_folder)

    async def uids(self) -> list[int]:
        """The UIDs in the folder, ascending."""
        return await self._call(self.mailbox.uids)

    async def sizes(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID still present."""
        return await self._call(self.mailbox.sizes, uids) if uids else {}

    async def fetch(self, uids: list[int], *, header_only: bool) -> list[FetchedMail]:
        """Download messages (or their header only)."""
        return await self._call(self.mailbox.fetch, uids, header_only=header_only)

    async def archive(self, uids: list[int], folder: str) -> None:
        """Mark seen and move to a folder."""
        if uids:
            await self._call(self.mailbox.archive, uids, folder)

    async def wait(self, seconds: float) -> bool:
        """IDLE up to ``seconds`` (False at once without IDLE); True when mail arrived."""
        return await self._call(self.mailbox.wait, seconds)

    async def disconnect(self) -> None:
        """Log out (best effort); the next ``open`` connects again."""
        self.uidvalidity = None
        if self._executor is not None:
            with contextlib.suppress(Exception):
                await self._call(self.mailbox.close)

    async def aclose(self) -> None:
        """Wake a blocking IDLE, log out, stop the thread."""
        self.mailbox.interrupt()
        await self.disconnect()
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _call(self, function: Callable[P, R], *args: P.args, **kwargs: P.kwargs) -> R:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="imap")
        call = functools.partial(function, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)


def fetch_plan(
    uids: list[int], sizes: dict[int, int], max_bytes: int, count: int = FETCH_BATCH_COUNT
) -> list[tuple[list[int], bool]]:
    """Fetch batches as (UIDs, header only): whole mails grouped by ``count`` and bytes, then
    one header-only fetch per mail over ``max_bytes``. UIDs without a size (gone) are left out."""
    batches: list[tuple[list[int], bool]] = []
    current: list[int] = []
    current_bytes = 0
    too_large = []
    for uid in uids:
        if uid not in sizes:
            continue
        if sizes[uid] > max_bytes:
            too_large.append(uid)
            continue
        full = len(current) >= count or current_bytes + sizes[uid] > FETCH_BATCH_BYTES
        if current and full:
            batches.append((current, False))
            current, current_bytes = [], 0
        current.append(uid)
        current_bytes += sizes[uid]
    if current:
        batches.append((current, False))
    batches.extend(([uid], True) for uid in too_large)
    return batches
