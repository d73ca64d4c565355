"""The chat's FAQ answers, one row each (a moment, a channel, which answer): the dashboard counts
the questions settled without a person. No chat id and no text are kept."""

from __future__ import annotations

from datetime import datetime

from store.db import Database
from store.values import iso


class FaqAnswerRepo:
    """Count the questions the chat answered from the FAQ."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def record(self, channel: str, faq_id: str, now: datetime) -> None:
        """One question answered (joins the caller's transaction when there is one)."""
        await self.db.execute_alone(
            "INSERT INTO faq_answers (at, channel, faq_id) VALUES (?, ?, ?)",
            (iso(now), channel, faq_id),
        )
