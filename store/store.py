"""``Store``: the open database and one repository per capability."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from pathlib import Path

from store.accounts import AccountRepo
from store.attempts import AttemptRepo
from store.audit import AuditRepo
from store.chats import ChatRepo
from store.communications import CommunicationRepo
from store.contracts import ContractRepo
from store.customer_care import CustomerCareRepo
from store.customers import CustomerRepo
from store.db import BUSY_TIMEOUT_MS, Database
from store.documents import DocumentRepo
from store.faq_answers import FaqAnswerRepo
from store.health import HealthRepo
from store.import_runs import ImportRunRepo
from store.imports import ImportRepo
from store.inbound import InboundRepo
from store.inbox import InboxRepo
from store.notices import NoticeRepo
from store.outbox import OutboxRepo
from store.postgres import DEFAULT_POOL_SIZE, DEFAULT_STATEMENT_TIMEOUT, PostgresDatabase
from store.postgres_sql import is_url
from store.staff import StaffRepo
from store.staff_views import StaffViewRepo
from store.tickets import TicketRepo
from store.updates import UpdateRepo


class Store:
    """The repositories over one database. Open with ``await Store.open(path or url)``."""

    def __init__(self, db: Database, *, message_id_domain: str = "localhost") -> None:
        self.db = db
        self.outbox = OutboxRepo(db, message_id_domain)
        self.audit = AuditRepo(db)
        self.customers = CustomerRepo(db)
        self.contracts = ContractRepo(db)
        self.documents = DocumentRepo(db)
        self.accounts = AccountRepo(db)
        self.chats = ChatRepo(db)
        self.attempts = AttemptRepo(db)
        self.tickets = TicketRepo(db)
        self.inbound = InboundRepo(db)
        self.notices = NoticeRepo(db)
        self.communications = CommunicationRepo(db)
        self.imports = ImportRepo(db)
        self.staff = StaffRepo(db)  # the staff console (migration 0010)
        self.inbox = InboxRepo(db)
        self.staff_views = StaffViewRepo(db.reads)  # the console's pages, dashboard (0011)
        self.customer_care = CustomerCareRepo(db)
        self.import_runs = ImportRunRepo(db)
        self.faq_answers = FaqAnswerRepo(db)
        self.updates = UpdateRepo(db)  # Telegram updates: once each, chats in turn (0013)
        self.health = HealthRepo(db)  # /readyz

    @classmethod
    async def open(
        cls,
        target: Path | str,
        *,
        message_id_domain: str = "localhost",
        busy_timeout: float = BUSY_TIMEOUT_MS / 1000,
        exclusive: bool = False,
        pool_size: int = DEFAULT_POOL_SIZE,
        statement_timeout: float = DEFAULT_STATEMENT_TIMEOUT,
    ) -> Store:
        """Open the database, apply migrations, build the repositories.

        ``target``: a SQLite file's path, or a ``postgresql://`` URL (``pool_size`` and
        ``statement_timeout`` apply to it; ``exclusive`` only to a file: replicas share a
        server). ``busy_timeout``: seconds a statement waits for another's write lock before
        ``StoreBusy``. ``exclusive``: the one service on this file (``StoreInUse`` if not).
        """
        db: Database
        if is_url(target):
            db = await PostgresDatabase.open(
                str(target),
                busy_timeout=busy_timeout,
                pool_size=pool_size,
                statement_timeout=statement_timeout,
            )
        else:
            db = await Database.open(Path(target), busy_timeout=busy_timeout, exclusive=exclusive)
        return cls(db, message_id_domain=message_id_domain)

    def transaction(self) -> AbstractAsyncContextManager[Database]:
        """``async with store.transaction():`` one transaction; nested calls join the outer one."""
        return self.db.transaction()

    async def close(self) -> None:
        """Close the database."""
        await self.updates.close()  # the chat locks' own connections (PostgreSQL)
        await self.db.close()
