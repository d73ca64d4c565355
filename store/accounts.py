"""Customer accounts: credentials, block state, settings, pending e-mail changes."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from store.db import Database
from store.values import iso, parse_iso


@dataclass(frozen=True)
class Account:
    id: int
    customer_id: int
    username: str
    email: str
    status: str  # pending | active
    password_hash: str
    password_temporary: bool
    password_expires_at: datetime | None
    failed_logins: int
    blocked_at: datetime | None
    language: str | None
    telegram_notices: bool
    email_failed_at: datetime | None
    registered_at: datetime
    activated_at: datetime | None

    @property
    def blocked(self) -> bool:
        """True while "Login bloccata" (until recovery)."""
        return self.blocked_at is not None


@dataclass(frozen=True)
class EmailChange:
    account_id: int
    new_email: str
    code_hash: str
    salt: str
    expires_at: datetime
    wrong_codes: int


class AccountRepo:
    """Read and change accounts. Every write joins the caller's transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def get(self, account_id: int) -> Account | None:
        """One account by id."""
        row = await self.db.fetchone("SELECT * FROM accounts WHERE id = ?", (account_id,))
        return _account(row) if row else None

    async def by_customer(self, customer_id: int) -> Account | None:
        """The customer's account, if registered."""
        row = await self.db.fetchone("SELECT * FROM accounts WHERE customer_id = ?", (customer_id,))
        return _account(row) if row else None

    async def by_username(self, username: str) -> Account | None:
        """The account with this username (case-insensitive)."""
        row = await self.db.fetchone(
            "SELECT * FROM accounts WHERE username = ?", (username.strip().lower(),)
        )
        return _account(row) if row else None

    async def create_pending(
        self,
        *,
        customer_id: int,
        username: str,
        email: str,
        password_hash: str,
        expires_at: datetime,
        language: str | None,
        now: datetime,
    ) -> int:
        """A new account waiting for its first login; returns its id."""
        async with self.db.transaction():
            return await self.db.execute(
                "INSERT INTO accounts (customer_id, username, email, status, password_hash,"
                " password_temporary, password_expires_at, language, registered_at, updated_at)"
                " VALUES (?, ?, ?, 'pending', ?, 1, ?, ?, ?, ?)",
                (
                    customer_id,
                    username,
                    email,
                    password_hash,
                    iso(expires_at),
                    language,
                    iso(now),
                    iso(now),
                ),
            )

    async def replace_pending(
        self,
        account_id: int,
        *,
        email: str,
        password_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """A repeated registration: new address and temporary password, the old one invalid."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET email = ?, password_hash = ?, password_temporary = 1,"
                " password_expires_at = ?, failed_logins = 0, blocked_at = NULL,"
                " email_failed_at = NULL, registered_at = ?, updated_at = ? WHERE id = ?",
                (email, password_hash, iso(expires_at), iso(now), iso(now), account_id),
            )

    async def count_failed_login(self, account_id: int, now: datetime) -> int:
        """One more wrong password in a row; return how many (``policy.login_blocked`` decides)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET failed_logins = failed_logins + 1, updated_at = ?"
                " WHERE id = ?",
                (iso(now), account_id),
            )
            row = await self.db.fetchone(
                "SELECT failed_logins FROM accounts WHERE id = ?", (account_id,)
            )
        return int(row["failed_logins"]) if row else 0

    async def block_login(self, account_id: int, now: datetime) -> None:
        """Block the login ("Login bloccata") until a recovery lifts it (``reset_password``)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET blocked_at = COALESCE(blocked_at, ?), updated_at = ?"
                " WHERE id = ?",
                (iso(now), iso(now), account_id),
            )

    async def record_login(self, account_id: int, now: datetime) -> None:
        """A right password: the count of wrong ones starts again."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET failed_logins = 0, updated_at = ? WHERE id = ?",
                (iso(now), account_id),
            )

    async def set_password(self, account_id: int, password_hash: str, now: datetime) -> None:
        """The customer's own password: the account becomes (or stays) active."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET password_hash = ?, password_temporary = 0,"
                " password_expires_at = NULL, status = 'active', failed_logins = 0,"
                " activated_at = COALESCE(activated_at, ?), updated_at = ? WHERE id = ?",
                (password_hash, iso(now), iso(now), account_id),
            )

    async def reset_password(
        self, account_id: int, password_hash: str, expires_at: datetime, now: datetime
    ) -> None:
        """Recovery: a new temporary password, the block lifted."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET password_hash = ?, password_temporary = 1,"
                " password_expires_at = ?, failed_logins = 0, blocked_at = NULL,"
                " updated_at = ? WHERE id = ?",
                (password_hash, iso(expires_at), iso(now), account_id),
            )

    async def set_email(self, account_id: int, email: str, now: datetime) -> None:
        """A confirmed new address (clears a bounce mark)."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE accounts SET email = ?, email_failed_at = NULL, updated_at = ?"
                " WHERE id = ?",
                (email, iso(now), account_id),
            )

    async def set_language(self, account_id: int, language: str, now: datetime) -> None:
        """The customer's language for the chat and e-mails."""
        await self._set(account_id, "language", language, now)

    async def set_telegram_notices(self, account_id: int, enabled: bool, now: datetime) -> None:
        """Publication notices on Telegram on or off."""
        await self._set(account_id, "telegram_notices", int(enabled), now)

    async def mark_email_failing(self, email: str, now: datetime) -> list[int]:
        """Our mail to this address bounced: flag the accounts using it; return their ids."""
        async with self.db.transaction():
            ids: list[int] = await self.db.run(mark_email_failing_rows, email, now)
        return ids

    async def start_email_change(
        self,
        account_id: int,
        *,
        new_email: str,
        code_hash: str,
        salt: str,
        expires_at: datetime,
        now: datetime,
    ) -> None:
        """Remember the requested address and its code (replacing an earlier request)."""
        async with self.db.transaction():
            await self.db.execute(
                "INSERT INTO email_changes (account_id, new_email, code_hash, salt, expires_at,"
                " wrong_codes, created_at) VALUES (?, ?, ?, ?, ?, 0, ?)"
                " ON CONFLICT (account_id) DO UPDATE SET new_email = excluded.new_email,"
                " code_hash = excluded.code_hash, salt = excluded.salt,"
                " expires_at = excluded.expires_at, wrong_codes = 0,"
                " created_at = excluded.created_at",
                (account_id, new_email, code_hash, salt, iso(expires_at), iso(now)),
            )

    async def email_change(self, account_id: int) -> EmailChange | None:
        """The pending e-mail change, if any."""
        row = await self.db.fetchone(
            "SELECT * FROM email_changes WHERE account_id = ?", (account_id,)
        )
        if row is None:
            return None
        return EmailChange(
            account_id=row["account_id"],
            new_email=row["new_email"],
            code_hash=row["code_hash"],
            salt=row["salt"],
            expires_at=parse_iso(row["expires_at"]),
            wrong_codes=row["wrong_codes"],
        )

    async def count_wrong_code(self, account_id: int) -> int:
        """One more wrong code; return the count."""
        async with self.db.transaction():
            await self.db.execute(
                "UPDATE email_changes SET wrong_codes = wrong_codes + 1 WHERE account_id = ?",
                (account_id,),
            )
            row = await self.db.fetchone(
                "SELECT wrong_codes FROM email_changes WHERE account_id = ?", (account_id,)
            )
        return int(row["wrong_codes"]) if row else 0

    async def drop_email_change(self, account_id: int) -> None:
        """Forget the pending e-mail change."""
        async with self.db.transaction():
            await self.db.execute("DELETE FROM email_changes WHERE account_id = ?", (account_id,))

    async def _set(self, account_id: int, column: str, value: object, now: datetime) -> None:
        async with self.db.transaction():
            await self.db.execute(
                f"UPDATE accounts SET {column} = ?, updated_at = ? WHERE id = ?",
                (value, iso(now), account_id),
            )


def _account(row: sqlite3.Row) -> Account:
    def moment(name: str) -> datetime | None:
        return parse_iso(row[name]) if row[name] else None

    return Account(
        id=row["id"],
        customer_id=row["customer_id"],
        username=row["username"],
        email=row["email"],
        status=row["status"],
        password_hash=row["password_hash"],
        password_temporary=bool(row["password_temporary"]),
        password_expires_at=moment("password_expires_at"),
        failed_logins=row["failed_logins"],
        blocked_at=moment("blocked_at"),
        language=row["language"],
        telegram_notices=bool(row["telegram_notices"]),
        email_failed_at=moment("email_failed_at"),
        registered_at=parse_iso(row["registered_at"]),
        activated_at=moment("activated_at"),
    )


def mark_email_failing_rows(conn: sqlite3.Connection, email: str, now: datetime) -> list[int]:
    """Flag the accounts using a bouncing address, on the database thread; return their ids."""
    rows = conn.execute("SELECT id FROM accounts WHERE lower(email) = lower(?)", (email,))
    ids = [int(row[0]) for row in rows.fetchall()]
    conn.execute(
        "UPDATE accounts SET email_failed_at = ?, updated_at = ? WHERE lower(email) = lower(?)",
        (iso(now), iso(now), email),
    )
    return ids
