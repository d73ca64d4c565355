"""Publication notices: the pending ``notices`` rows and the durable Telegram notice queue.

A Telegram notice is claimed before it is sent (``claim_telegram``; settling ends the claim): two
senders on one table neither send a notice twice nor write to one chat at once.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from store.db import Database
from store.values import iso, parse_iso

_CLAIMED_CHATS = "SELECT chat_id FROM telegram_notices WHERE claimed_until > ?"  # being written to
_UNCLAIMED = "claimed_by = NULL, claimed_until = NULL"


@dataclass(frozen=True)
class PendingNotice:
    id: int
    customer_id: int
    document_id: int | None
    communication_id: int | None


@dataclass(frozen=True)
class NoticeDocument:
    """What a notice says about one published document."""

    id: int
    number: str
    kind: str  # invoice | credit_note
    issue_date: date
    amount_cents: int  # positive, also for credit notes
    contract_label: str

    @property
    def signed_cents(self) -> int:
        """The amount with its accounting sign: negative for a credit note."""
        return -self.amount_cents if self.kind == "credit_note" else self.amount_cents


@dataclass(frozen=True)
class NoticeRecipient:
    """Who hears about a customer's notices: the active account's address and chats."""

    customer_id: int
    customer_name: str
    account_id: int
    email: str
    language: str | None  # None until chosen: the default language applies
    chat_ids: tuple[str, ...]  # linked chats that want notices and did not block the bot


@dataclass(frozen=True)
class TelegramNotice:
    id: int
    dedup_key: str
    chat_id: str
    customer_id: int
    body: str
    buttons: tuple[tuple[str, str], ...]  # (label, callback data)
    status: str  # pending | sent | dropped
    attempts: int
    next_attempt_at: datetime


@dataclass(frozen=True)
class NewTelegramNotice:
    dedup_key: str
    chat_id: str
    customer_id: int
    body: str
    buttons: tuple[tuple[str, str], ...]


class NoticeRepo:
    """Read pending notices, settle them, and run the Telegram notice queue."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # --- the notices table -------------------------------------------------------------------

    async def pending_customers(self, limit: int) -> list[int]:
        """Customers with unprocessed notices, lowest id first."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT customer_id FROM notices WHERE processed_at IS NULL"
            " ORDER BY customer_id LIMIT ?",
            (limit,),
        )
        return [int(r[0]) for r in rows]

    async def pending_for(self, customer_ids: Sequence[int]) -> list[PendingNotice]:
        """Every unprocessed notice of these customers, in the order they were queued."""
        rows = await self.db.fetchall(
            "SELECT id, customer_id, document_id, communication_id FROM notices"
            f" WHERE processed_at IS NULL AND customer_id IN ({_marks(customer_ids)})"
            " ORDER BY customer_id, id",
            tuple(customer_ids),
        )
        return [PendingNotice(r[0], r[1], r[2], r[3]) for r in rows]

    async def documents(self, document_ids: Sequence[int]) -> dict[int, NoticeDocument]:
        """The published documents named by notices, by id."""
        found: dict[int, NoticeDocument] = {}
        for chunk in _chunks(document_ids, 900):
            rows = await self.db.fetchall(
                "SELECT d.id, d.number, d.kind, d.issue_date, d.amount_cents,"
                " c.contract_number, c.module_number FROM documents d"
                f" JOIN contracts c ON c.id = d.contract_id WHERE d.id IN ({_marks(chunk)})",
                tuple(chunk),
            )
            for r in rows:
                found[r[0]] = NoticeDocument(
                    id=r[0],
                    number=r[1],
                    kind=r[2],
                    issue_date=date.fromisoformat(r[3]),
                    amount_cents=r[4],
                    contract_label=f"{r[5]}/{r[6]}",
                )
        return found

    async def recipients(self, customer_ids: Sequence[int]) -> dict[int, NoticeRecipient]:
        """The customers among these with an active account, with their notice chats."""
        rows = await self.db.fetchall(
            "SELECT c.id, c.name, a.id, a.email, a.language, a.telegram_notices"
            " FROM customers c JOIN accounts a ON a.customer_id = c.id"
            f" WHERE a.status = 'active' AND c.id IN ({_marks(customer_ids)})",
            tuple(customer_ids),
        )
        accounts = {r[2]: r for r in rows}
        chats: dict[int, list[str]] = {}
        wanting = [account_id for account_id, r in accounts.items() if r[5]]
        if wanting:
            for chat in await self.db.fetchall(
                "SELECT account_id, chat_id FROM chats WHERE channel = 'telegram'"
                f" AND notices_stopped_at IS NULL AND account_id IN ({_marks(wanting)})"
                " ORDER BY chat_id",
                tuple(wanting),
            ):
                chats.setdefault(chat[0], []).append(chat[1])
        return {
            r[0]: NoticeRecipient(
                customer_id=r[0],
                customer_name=r[1],
                account_id=r[2],
                email=r[3],
                language=r[4],
                chat_ids=tuple(chats.get(r[2], ())),
            )
            for r in rows
        }

    async def mark_processed(self, notice_ids: Sequence[int], now: datetime) -> int:
        """Settle notices (inside the caller's transaction); return how many were still pending."""
        changed = 0
        for chunk in _chunks(notice_ids, 900):
            changed += await self.db.execute_rowcount(
                f"UPDATE notices SET processed_at = ? WHERE id IN ({_marks(chunk)})"
                " AND processed_at IS NULL",
                (iso(now), *chunk),
            )
        return changed

    async def count_pending(self) -> int:
        """How many notices wait for their fan-out."""
        row = await self.db.fetchone("SELECT COUNT(*) FROM notices WHERE processed_at IS NULL")
        return int(row[0]) if row else 0

    # --- the Telegram queue ------------------------------------------------------------------

    async def enqueue_telegram(self, notices: Iterable[NewTelegramNotice], now: datetime) -> None:
        """Queue Telegram messages (inside the caller's transaction); known keys are skipped."""
        at = iso(now)
        await self.db.executemany(
            "INSERT INTO telegram_notices (dedup_key, chat_id, customer_id, body, buttons,"
            " next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (dedup_key) DO NOTHING",
            [
                (n.dedup_key, n.chat_id, n.customer_id, n.body, json.dumps(n.buttons), at, at)
                for n in notices
            ],
        )

    async def due_telegram(
        self, now: datetime, limit: int = 500, *, exclude_chats: Iterable[str] = ()
    ) -> list[TelegramNotice]:
        """Pending Telegram notices whose time has come, oldest first, skipping busy chats."""
        excluded = tuple(exclude_chats)
        where = f" AND chat_id NOT IN ({_marks(excluded)})" if excluded else ""
        rows = await self.db.fetchall(
            "SELECT * FROM telegram_notices WHERE status = 'pending' AND next_attempt_at <= ?"
            f" AND chat_id NOT IN ({_CLAIMED_CHATS}){where} ORDER BY next_attempt_at, id LIMIT ?",
            (iso(now), iso(now), *excluded, limit),
        )
        return [_telegram(r) for r in rows]

    async def claim_telegram(
        self, notice_id: int, claimer: str, now: datetime, until: datetime
    ) -> bool:
        """Make a due notice ``claimer``'s until ``until``; False when it is settled, claimed,
        or another notice of its chat is claimed (another sender is writing to that chat).

        The row's own claim is checked on the row too: on PostgreSQL two senders updating the
        same row at once queue on its row lock, and the second re-reads the row (not the
        subquery's snapshot), finds it claimed and leaves it."""
        return bool(
            await self.db.execute_alone(
                "UPDATE telegram_notices SET claimed_by = ?, claimed_until = ?"
                " WHERE id = ? AND status = 'pending' AND next_attempt_at <= ?"
                " AND (claimed_until IS NULL OR claimed_until <= ?)"
                f" AND chat_id NOT IN ({_CLAIMED_CHATS})",
                (claimer, iso(until), notice_id, iso(now), iso(now), iso(now)),
            )
        )

    async def release_telegram(self, claimer: str) -> None:
        """Let go of the notices ``claimer`` still holds (they stay due, for any sender)."""
        await self.db.execute_alone(
            f"UPDATE telegram_notices SET {_UNCLAIMED} WHERE claimed_until IS NOT NULL"
            " AND claimed_by = ?",
            (claimer,),
        )

    async def next_telegram_due_at(self) -> datetime | None:
        """When the earliest pending Telegram notice becomes due (a claimed one: when its claim
        lapses, as far as this sender knows), or None."""
        row = await self.db.fetchone(
            "SELECT MIN(at) FROM (SELECT * FROM (SELECT next_attempt_at AS at"
            " FROM telegram_notices WHERE status = 'pending' AND claimed_until IS NULL"
            " ORDER BY next_attempt_at LIMIT 1) AS unclaimed UNION ALL"
            " SELECT CASE WHEN next_attempt_at > claimed_until THEN next_attempt_at"
            " ELSE claimed_until END FROM telegram_notices"
            " WHERE claimed_until IS NOT NULL) AS due"  # only pending rows are claimed
        )
        return parse_iso(row[0]) if row and row[0] else None

    async def mark_telegram_sent(self, notice_id: int, now: datetime) -> None:
        """Telegram accepted the message (one statement, one hop: it ends the claim)."""
        await self.db.execute_alone(
            "UPDATE telegram_notices SET status = 'sent', sent_at = ?,"
            f" attempts = attempts + 1, last_error = NULL, {_UNCLAIMED} WHERE id = ?",
            (iso(now), notice_id),
        )

    async def mark_telegram_retry(self, notice_id: int, error: str, at: datetime) -> None:
        """A temporary failure: try again at ``at``."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE telegram_notices SET attempts = attempts + 1, last_error = ?,"
                f" next_attempt_at = ?, {_UNCLAIMED} WHERE id = ?",
                (error[:500], iso(at), notice_id),
            )

    async def mark_telegram_dropped(self, notice_id: int, error: str) -> None:
        """Give up on one notice (too many failed attempts)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE telegram_notices SET status = 'dropped', attempts = attempts + 1,"
                f" last_error = ?, {_UNCLAIMED} WHERE id = ?",
                (error[:500], notice_id),
            )

    async def stop_chat(self, chat_id: str, error: str, now: datetime) -> int:
        """The user blocked the bot: flag the chat and drop its pending notices; return how many."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE chats SET notices_stopped_at = ?, updated_at = ?"
                " WHERE channel = 'telegram' AND chat_id = ?",
                (iso(now), iso(now), chat_id),
            )
            return await self.db.execute_rowcount(
                f"UPDATE telegram_notices SET status = 'dropped', last_error = ?, {_UNCLAIMED}"
                " WHERE chat_id = ? AND status = 'pending'",
                (error[:500], chat_id),
            )

    async def telegram_counts(self) -> dict[str, int]:
        """How many Telegram notices are in each status."""
        rows = await self.db.fetchall(
            "SELECT status, COUNT(*) FROM telegram_notices GROUP BY status"
        )
        return {r[0]: int(r[1]) for r in rows}

    async def telegram_for_chat(self, chat_id: str) -> list[TelegramNotice]:
        """Every Telegram notice of one chat, oldest first (staff and tests)."""
        rows = await self.db.fetchall(
            "SELECT * FROM telegram_notices WHERE chat_id = ? ORDER BY id", (chat_id,)
        )
        return [_telegram(r) for r in rows]


def _telegram(row: sqlite3.Row) -> TelegramNotice:
    return TelegramNotice(
        id=row["id"],
        dedup_key=row["dedup_key"],
        chat_id=row["chat_id"],
        customer_id=row["customer_id"],
        body=row["body"],
        buttons=tuple((label, data) for label, data in json.loads(row["buttons"])),
        status=row["status"],
        attempts=row["attempts"],
        next_attempt_at=parse_iso(row["next_attempt_at"]),
    )


def _marks(values: Sequence[object]) -> str:
    return ", ".join("?" * len(values))


def _chunks(values: Sequence[int], size: int) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
