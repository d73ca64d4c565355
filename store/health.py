"""Whether the database answers: the load balancer's readiness check asks it (``/readyz``)."""

from __future__ import annotations

from store.db import Database


class HealthRepo:
    """One trivial query over the store's own connection (pool)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def database_answers(self) -> bool:
        """``SELECT 1`` came back (a failure raises ``StoreError``)."""
        row = await self.db.fetchone("SELECT 1")
        return row is not None and int(row[0]) == 1
