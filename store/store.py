"""``Store``: the open database and one repository per capability."""

from __future__ import annotations

from pathlib import Path

from store.audit import AuditRepo
from store.db import Database
from store.outbox import OutboxRepo


class Store:
    """The repositories over one database. Open with ``await Store.open(path)``."""

    def __init__(self, db: Database, *, message_id_domain: str = "localhost") -> None:
        self.db = db
        self.outbox = OutboxRepo(db, message_id_domain)
        self.audit = AuditRepo(db)

    @classmethod
    async def open(cls, path: Path, *, message_id_domain: str = "localhost") -> Store:
        """Open the file, apply migrations, build the repositories."""
        return cls(await Database.open(path), message_id_domain=message_id_domain)

    async def close(self) -> None:
        """Close the database."""
        await self.db.close()
