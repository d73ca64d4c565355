"""Staff accounts of the web console: the rules for usernames and passwords, and the three
changes (add, reset, disable) shared by ``main.py staff ...`` and the console's admin pages.

A password is shown once (generated) or typed by the admin; only its argon2 hash is kept.
``reset`` also forgets the second factor (enrolled again at the next login), lifts a lock and
ends every session.
"""

from __future__ import annotations

import re
import secrets

from assistant.clock import Clock
from assistant.credentials import hash_password
from store.staff import ROLES, StaffAccount
from store.store import Store

USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,31}$")
MIN_PASSWORD_LENGTH = 12
GENERATED_LENGTH = 16
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def username_problem(username: str) -> str | None:
    """Why ``username`` cannot name a staff account, or None."""
    if not USERNAME.match(username):
        return "3 to 32 characters: lower-case letters, digits, '.', '_' or '-', a letter first"
    return None


def password_problem(password: str, username: str) -> str | None:
    """Why ``password`` is not good enough for a staff account, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"at least {MIN_PASSWORD_LENGTH} characters"
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        return "letters and digits"
    if username.lower() in password.lower():
        return "not containing the username"
    return None


def new_password() -> str:
    """A random password with letters and digits and no look-alike characters."""
    while True:
        value = "".join(secrets.choice(_ALPHABET) for _ in range(GENERATED_LENGTH))
        if password_problem(value, "-") is None:
            return value


class StaffAccounts:
    """Add, reset and disable staff accounts (``by``: the acting admin, None from the shell)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def add(
        self, username: str, role: str, password: str | None, *, by: int | None
    ) -> tuple[int, str]:
        """A new account; return its id and its password. ``ValueError`` names a problem."""
        username = username.strip().lower()
        problem = username_problem(username) or (None if role in ROLES else "unknown role")
        password = new_password() if password is None else password
        problem = problem or password_problem(password, username)
        if problem:
            raise ValueError(problem)
        digest = await hash_password(password)
        staff_id = await self.store.staff.create(username, role, digest, self.clock.now(), by=by)
        return staff_id, password

    async def reset(self, account: StaffAccount, password: str | None, *, by: int | None) -> str:
        """New password, second factor to enrol again, unlocked; return the password."""
        password = new_password() if password is None else password
        problem = password_problem(password, account.username)
        if problem:
            raise ValueError(problem)
        digest = await hash_password(password)
        await self.store.staff.reset(account.id, digest, self.clock.now(), by=by)
        return password

    async def disable(self, account: StaffAccount, *, by: int | None) -> None:
        """The account can no longer log in; its sessions end."""
        await self.store.staff.disable(account.id, self.clock.now(), by=by)


DEMO_USERNAME = "demo"
DEMO_PASSWORD = "Console-2008-prova"  # the demo data's admin only; `make run` prints it


async def add_demo_staff(store: Store, clock: Clock) -> None:
    """The demo data's admin account (made with the demo customers, never otherwise)."""
    if await store.staff.by_username(DEMO_USERNAME) is None:
        await StaffAccounts(store, clock).add(DEMO_USERNAME, "admin", DEMO_PASSWORD, by=None)


async def demo_login(store: Store) -> tuple[str, str] | None:
    """The demo admin's username and password while they still work, else None."""
    from assistant.credentials import verify_password

    account = await store.staff.by_username(DEMO_USERNAME)
    if account is None or account.disabled_at is not None:
        return None
    if not await verify_password(account.password_hash, DEMO_PASSWORD):
        return None
    return DEMO_USERNAME, DEMO_PASSWORD
