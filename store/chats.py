"""Chats: the session and the dialog state of each conversation, so a restart continues it."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from store.db import Database
from store.values import iso, parse_iso


@dataclass(frozen=True)
class ChatState:
    """One chat's row. ``data`` is plain JSON-able data owned by the flow in progress."""

    channel: str
    chat_id: str
    language: str | None = None
    account_id: int | None = None
    logged_in: bool = False
    last_seen_at: datetime | None = None
    flow: str | None = None
    step: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    notices_stopped_at: datetime | None = None
    pending_action: dict[str, str] | None = None  # asked without a session; run after login
    pending_at: datetime | None = None


class ChatRepo:
    """Load and save chat states (and Telegram's file ids of files sent to chats)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, channel: str, chat_id: str) -> ChatState | None:
        """The chat's state, or None for a chat never seen."""
        row = await self.db.fetchone(
            "SELECT * FROM chats WHERE channel = ? AND chat_id = ?", (channel, chat_id)
        )
        return _chat(row) if row else None

    async def save(self, state: ChatState, now: datetime) -> None:
        """Insert or replace the chat's state: joins the caller's transaction, else runs alone
        (one statement that writes the whole row: nothing to check first, so it needs neither
        a transaction of its own nor, on PostgreSQL, the replicas' shared write lock)."""
        await self.db.execute_alone(
            "INSERT INTO chats (channel, chat_id, language, account_id, logged_in,"
            " last_seen_at, flow, step, data, notices_stopped_at, pending_action,"
            " pending_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (channel, chat_id) DO UPDATE SET language = excluded.language,"
            " account_id = excluded.account_id, logged_in = excluded.logged_in,"
            " last_seen_at = excluded.last_seen_at, flow = excluded.flow,"
            " step = excluded.step, data = excluded.data,"
            " notices_stopped_at = excluded.notices_stopped_at,"
            " pending_action = excluded.pending_action, pending_at = excluded.pending_at,"
            " updated_at = excluded.updated_at",
            (
                state.channel,
                state.chat_id,
                state.language,
                state.account_id,
                int(state.logged_in),
                iso(state.last_seen_at) if state.last_seen_at else None,
                state.flow,
                state.step,
                json.dumps(state.data, ensure_ascii=False),
                iso(state.notices_stopped_at) if state.notices_stopped_at else None,
                json.dumps(state.pending_action) if state.pending_action else None,
                iso(state.pending_at) if state.pending_at else None,
                iso(now),
            ),
        )

    async def end_sessions(self, account_id: int, now: datetime) -> int:
        """Log the account out of every chat; return how many sessions were open."""
        async with self.db.transaction():
            return await self.db.execute_rowcount(
                "UPDATE chats SET logged_in = 0, updated_at = ? WHERE account_id = ?"
                " AND logged_in = 1",
                (iso(now), account_id),
            )

    async def telegram_file_id(self, key: str) -> str | None:
        """Telegram's file_id kept for the file named by ``key`` (e.g. a built guide), or None."""
        row = await self.db.fetchone("SELECT file_id FROM telegram_files WHERE key = ?", (key,))
        return str(row["file_id"]) if row else None

    async def keep_telegram_file_id(self, key: str, file_id: str) -> None:
        """Remember Telegram's file_id of the file named by ``key`` (replacing a refused one)."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO telegram_files (key, file_id) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET file_id = excluded.file_id",
                (key, file_id),
            )


def _chat(row: sqlite3.Row) -> ChatState:
    return ChatState(
        channel=row["channel"],
        chat_id=row["chat_id"],
        language=row["language"],
        account_id=row["account_id"],
        logged_in=bool(row["logged_in"]),
        last_seen_at=parse_iso(row["last_seen_at"]) if row["last_seen_at"] else None,
        flow=row["flow"],
        step=row["step"],
        data=json.loads(row["data"]),
        notices_stopped_at=(
            parse_iso(row["notices_stopped_at"]) if row["notices_stopped_at"] else None
        ),
        pending_action=json.loads(row["pending_action"]) if row["pending_action"] else None,
        pending_at=parse_iso(row["pending_at"]) if row["pending_at"] else None,
    )
