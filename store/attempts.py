"""Attempt counters for rate limits: one row per attempt, counted over a sliding window."""

from __future__ import annotations

from datetime import datetime, timedelta

from store.db import Database
from store.values import iso


class AttemptRepo:
    """Record attempts under a key (``recovery:chat:telegram:42``) and count recent ones."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def add(self, key: str, now: datetime) -> None:
        """Record one attempt (joins the caller's transaction)."""
        async with self.db.transaction():
            await self.db.execute("INSERT INTO attempts (key, at) VALUES (?, ?)", (key, iso(now)))

    async def count(self, key: str, since: datetime) -> int:
        """How many attempts under ``key`` since ``since``."""
        row = await self.db.fetchone(
            "SELECT COUNT(*) FROM attempts WHERE key = ? AND at >= ?", (key, iso(since))
        )
        return int(row[0]) if row else 0

    async def allow(self, key: str, *, limit: int, window: timedelta, now: datetime) -> bool:
        """Record an attempt if fewer than ``limit`` happened in ``window``; else refuse."""
        async with self.db.transaction():
            if await self.count(key, now - window) >= limit:
                return False
            await self.add(key, now)
        return True

    async def prune(self, before: datetime) -> int:
        """Forget attempts older than ``before``; return how many."""
        async with self.db.transaction():
            return await self.db.execute_rowcount(
                "DELETE FROM attempts WHERE at < ?", (iso(before),)
            )

    async def count_unknown_login(self, digest: str, now: datetime) -> int:
        """One more wrong password for a username that names no account; the failures so far."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO unknown_logins (digest, failures, updated_at) VALUES (?, 1, ?)"
                " ON CONFLICT (digest) DO UPDATE SET failures = unknown_logins.failures + 1,"
                " updated_at = excluded.updated_at",
                (digest, iso(now)),
            )
            row = await self.db.fetchone(
                "SELECT failures FROM unknown_logins WHERE digest = ?", (digest,)
            )
        return int(row[0]) if row else 0

    async def block_unknown_login(self, digest: str, now: datetime) -> None:
        """Answer "blocked" for this unknown username from now on, as for an account."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE unknown_logins SET blocked_at = ? WHERE digest = ?", (iso(now), digest)
            )

    async def unknown_login_blocked(self, digest: str) -> bool:
        """Whether wrong passwords blocked this unknown username."""
        row = await self.db.fetchone(
            "SELECT blocked_at FROM unknown_logins WHERE digest = ?", (digest,)
        )
        return row is not None and row[0] is not None
