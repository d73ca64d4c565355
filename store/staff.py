"""Staff accounts of the web console and their server-side sessions.

The store only counts and records: whether a count locks an account is ``web.security``'s rule.
A session is kept under the SHA-256 of its cookie value, never the value itself. Every change
made for a staff user is audited in the same transaction, with that user's id.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.errors import StoreError
from store.values import iso, parse_iso

ROLES = ("agent", "admin")
STAGES = ("totp", "enrol", "active")  # a session's second factor: to type, to enrol, done


@dataclass(frozen=True)
class StaffAccount:
    id: int
    username: str
    role: str  # agent | admin
    password_hash: str
    totp_secret: str | None
    totp_confirmed: bool
    totp_last_step: int
    password_failures: int
    totp_failures: int
    locked_at: datetime | None
    disabled_at: datetime | None
    created_at: datetime


@dataclass(frozen=True)
class StaffSession:
    token_hash: str
    staff_id: int
    stage: str  # totp | enrol | active
    created_at: datetime
    last_seen_at: datetime


@dataclass(frozen=True)
class AuditLine:
    """One audit event as the admins' page shows it."""

    id: int
    at: datetime
    event: str
    staff_id: int | None
    customer_id: int | None
    channel: str | None
    detail: str


class UsernameTaken(StoreError):
    """A staff account with this username exists already."""


class StaffRepo:
    """Create, find and change staff accounts; open, find and end their sessions."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(
        self, username: str, role: str, password_hash: str, now: datetime, *, by: int | None
    ) -> int:
        """A new account (no second factor yet); ``UsernameTaken`` when the name is used.

        ``by``: the admin who acted (None: the command line), as for every change below.
        """
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        async with self.db.transaction():
            if await self.by_username(username) is not None:
                raise UsernameTaken(username)
            staff_id = await self.db.execute(
                "INSERT INTO staff_accounts (username, role, password_hash, created_at,"
                " updated_at) VALUES (?, ?, ?, ?, ?)",
                (username.lower(), role, password_hash, iso(now), iso(now)),
            )
            await self.audit("staff_created", now, staff_id=by, detail=f"staff {staff_id} {role}")
        return staff_id

    async def get(self, staff_id: int) -> StaffAccount | None:
        """One account by id."""
        row = await self.db.reads.fetchone("SELECT * FROM staff_accounts WHERE id = ?", (staff_id,))
        return _account(row) if row else None

    async def by_username(self, username: str) -> StaffAccount | None:
        """One account by username (case does not matter)."""
        row = await self.db.fetchone(
            "SELECT * FROM staff_accounts WHERE username = ?", (username.strip().lower(),)
        )
        return _account(row) if row else None

    async def all(self) -> list[StaffAccount]:
        """Every account, by username."""
        rows = await self.db.reads.fetchall("SELECT * FROM staff_accounts ORDER BY username")
        return [_account(r) for r in rows]

    async def names(self) -> dict[int, str]:
        """Every account's username by id (for showing who did what)."""
        rows = await self.db.reads.fetchall("SELECT id, username FROM staff_accounts")
        return {r["id"]: r["username"] for r in rows}

    async def count(self) -> int:
        """How many accounts exist."""
        row = await self.db.fetchone("SELECT COUNT(*) FROM staff_accounts")
        return int(row[0]) if row else 0

    async def record_password_failure(self, staff_id: int, now: datetime) -> int:
        """One more wrong password; return the count in a row."""
        return await self._count_failure("password_failures", staff_id, now)

    async def record_totp_failure(self, staff_id: int, now: datetime) -> int:
        """One more wrong code; return the count in a row."""
        return await self._count_failure("totp_failures", staff_id, now)

    async def _count_failure(self, column: str, staff_id: int, now: datetime) -> int:
        async with self.db.transaction():
            await self.db.execute(
                f"UPDATE staff_accounts SET {column} = {column} + 1, updated_at = ? WHERE id = ?",
                (iso(now), staff_id),
            )
            row = await self.db.fetchone(
                f"SELECT {column} FROM staff_accounts WHERE id = ?", (staff_id,)
            )
            await self.audit(f"staff_{column.removesuffix('s')}", now, staff_id=staff_id)
        return int(row[0]) if row else 0

    async def lock(self, staff_id: int, reason: str, now: datetime) -> None:
        """Lock the account (too many failures) and end its sessions."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE staff_accounts SET locked_at = ?, updated_at = ? WHERE id = ?",
                (iso(now), iso(now), staff_id),
            )
            await self.db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", (staff_id,))
            await self.audit("staff_locked", now, staff_id=staff_id, detail=reason)

    async def password_ok(self, staff_id: int, now: datetime) -> None:
        """The right password: the count of wrong ones starts again."""
        await self.db.execute_alone(
            "UPDATE staff_accounts SET password_failures = 0, updated_at = ? WHERE id = ?",
            (iso(now), staff_id),
        )

    async def start_enrolment(self, staff_id: int, secret: str, now: datetime) -> None:
        """Keep a new TOTP secret, not yet confirmed."""
        await self.db.execute_alone(
            "UPDATE staff_accounts SET totp_secret = ?, totp_confirmed = 0, updated_at = ?"
            " WHERE id = ? AND totp_confirmed = 0",
            (secret, iso(now), staff_id),
        )

    async def totp_ok(self, staff_id: int, step: int, now: datetime) -> bool:
        """A right code of ``step``: confirm the secret, count again; False if the step was used."""
        async with self.db.transaction():
            changed = await self.db.execute_rowcount(
                "UPDATE staff_accounts SET totp_last_step = ?, totp_confirmed = 1,"
                " totp_failures = 0, updated_at = ? WHERE id = ? AND totp_last_step < ?",
                (step, iso(now), staff_id, step),
            )
        return changed == 1

    async def reset(
        self, staff_id: int, password_hash: str, now: datetime, *, by: int | None
    ) -> None:
        """New password, second factor to enrol again, unlocked, enabled, every session ended."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE staff_accounts SET password_hash = ?, totp_secret = NULL,"
                " totp_confirmed = 0, totp_last_step = 0, password_failures = 0,"
                " totp_failures = 0, locked_at = NULL, disabled_at = NULL, updated_at = ?"
                " WHERE id = ?",
                (password_hash, iso(now), staff_id),
            )
            await self.db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", (staff_id,))
            await self.audit("staff_reset", now, staff_id=by, detail=f"staff {staff_id}")

    async def disable(self, staff_id: int, now: datetime, *, by: int | None) -> None:
        """The account can no longer log in; its sessions end."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE staff_accounts SET disabled_at = ?, updated_at = ? WHERE id = ?",
                (iso(now), iso(now), staff_id),
            )
            await self.db.execute("DELETE FROM staff_sessions WHERE staff_id = ?", (staff_id,))
            await self.audit("staff_disabled", now, staff_id=by, detail=f"staff {staff_id}")

    # --- sessions ------------------------------------------------------------------------

    async def open_session(self, token_hash: str, staff_id: int, stage: str, now: datetime) -> None:
        """A new session under the hash of its cookie value."""
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        await self.db.execute_alone(
            "INSERT INTO staff_sessions (token_hash, staff_id, stage, created_at, last_seen_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (token_hash, staff_id, stage, iso(now), iso(now)),
        )

    async def session(self, token_hash: str) -> StaffSession | None:
        """The session under this hash, or None."""
        row = await self.db.reads.fetchone(
            "SELECT * FROM staff_sessions WHERE token_hash = ?", (token_hash,)
        )
        return _session(row) if row else None

    async def touch_session(self, token_hash: str, now: datetime) -> None:
        """The session was used now (its idle time starts again)."""
        await self.db.execute_alone(
            "UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?",
            (iso(now), token_hash),
        )

    async def replace_session(
        self, old_hash: str, new_hash: str, stage: str, now: datetime
    ) -> None:
        """The session moves on a stage under a new id (no fixation across a login step)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE staff_sessions SET token_hash = ?, stage = ?, last_seen_at = ?"
                " WHERE token_hash = ?",
                (new_hash, stage, iso(now), old_hash),
            )

    async def end_sessions_idle_since(self, moment: datetime) -> None:
        """Forget every session not used since ``moment`` (they can no longer be used)."""
        await self.db.execute_alone(
            "DELETE FROM staff_sessions WHERE last_seen_at < ?", (iso(moment),)
        )

    async def end_session(self, token_hash: str) -> None:
        """Forget one session."""
        await self.db.execute_alone(
            "DELETE FROM staff_sessions WHERE token_hash = ?", (token_hash,)
        )

    async def audit_log(self, *, before: int | None = None, limit: int = 100) -> list[AuditLine]:
        """The newest audit events (of everyone), older than event ``before`` when given."""
        rows = await self.db.reads.fetchall(
            "SELECT id, at, event, staff_id, customer_id, channel, detail FROM audit_log"
            " WHERE id < ? ORDER BY id DESC LIMIT ?",
            (before if before is not None else 2**63 - 1, limit),
        )
        return [
            AuditLine(
                r["id"],
                parse_iso(r["at"]),
                r["event"],
                r["staff_id"],
                r["customer_id"],
                r["channel"],
                r["detail"],
            )
            for r in rows
        ]

    async def audit(
        self, event: str, now: datetime, *, staff_id: int | None, detail: str = ""
    ) -> None:
        """One staff event in the audit log, with the staff user's id (no secret in detail)."""
        async with self.db.transaction():
            await self.db.run(insert_staff_audit, event, now, staff_id, detail)


def insert_staff_audit(
    conn: sqlite3.Connection,
    event: str,
    now: datetime,
    staff_id: int | None,
    detail: str = "",
    customer_id: int | None = None,
) -> None:
    """Append a staff event to the audit log, on the database thread."""
    conn.execute(
        "INSERT INTO audit_log (at, event, staff_id, customer_id, channel, detail)"
        " VALUES (?, ?, ?, ?, 'staff', ?)",
        (iso(now), event, staff_id, customer_id, detail),
    )


def _account(row: sqlite3.Row) -> StaffAccount:
    return StaffAccount(
        id=row["id"],
        username=row["username"],
        role=row["role"],
        password_hash=row["password_hash"],
        totp_secret=row["totp_secret"],
        totp_confirmed=bool(row["totp_confirmed"]),
        totp_last_step=row["totp_last_step"],
        password_failures=row["password_failures"],
        totp_failures=row["totp_failures"],
        locked_at=parse_iso(row["locked_at"]) if row["locked_at"] else None,
        disabled_at=parse_iso(row["disabled_at"]) if row["disabled_at"] else None,
        created_at=parse_iso(row["created_at"]),
    )


def _session(row: sqlite3.Row) -> StaffSession:
    return StaffSession(
        token_hash=row["token_hash"],
        staff_id=row["staff_id"],
        stage=row["stage"],
        created_at=parse_iso(row["created_at"]),
        last_seen_at=parse_iso(row["last_seen_at"]),
    )
