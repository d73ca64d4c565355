"""The changes staff make on the customer page, each audited with the staff user's id and the
customer's in the same transaction: unlink a chat, paper invoices on or off, and the record of
a recovery e-mail sent (the reset itself is the recovery's own code)."""

from __future__ import annotations

from datetime import datetime

from store.db import Database
from store.staff import insert_staff_audit
from store.values import iso


class CustomerCareRepo:
    """Staff actions on a customer's account."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def unlink_chat(
        self, customer_id: int, channel: str, chat_id: str, *, staff_id: int, now: datetime
    ) -> bool:
        """Detach a chat from the customer's account and end its session; False when that chat
        is not linked to this customer's account."""
        async with self.db.transaction():
            changed = await self.db.execute_rowcount(
                "UPDATE chats SET account_id = NULL, logged_in = 0, pending_action = NULL,"
                " pending_at = NULL, updated_at = ? WHERE channel = ? AND chat_id = ?"
                " AND account_id = (SELECT id FROM accounts WHERE customer_id = ?)",
                (iso(now), channel, chat_id, customer_id),
            )
            if changed:
                await self.record(
                    "staff_chat_unlinked", customer_id, staff_id=staff_id, now=now,
                    detail=channel,
                )  # fmt: skip
        return bool(changed)

    async def set_paper_invoices(
        self, customer_id: int, on: bool, *, staff_id: int, now: datetime
    ) -> None:
        """Invoices by post too (or not), as the customer asked staff."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE customers SET paper_invoices = ? WHERE id = ?", (int(on), customer_id)
            )
            event = "staff_paper_invoices_on" if on else "staff_paper_invoices_off"
            await self.record(event, customer_id, staff_id=staff_id, now=now)

    async def record(
        self, event: str, customer_id: int, *, staff_id: int, now: datetime, detail: str = ""
    ) -> None:
        """One staff action on a customer in the audit log (ids only, no personal data)."""
        async with self.db.transaction():
            await self.db.run(insert_staff_audit, event, now, staff_id, detail, customer_id)
