"""Usernames, passwords (argon2) and verification codes. Nothing here is ever logged."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_LENGTH = 10
TEMP_PASSWORD_LENGTH = 12
CODE_DIGITS = 6
_UNAMBIGUOUS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_hasher = PasswordHasher()


def new_username() -> str:
    """A fresh username: ``ac`` and eight digits (check it is free before use)."""
    return "ac" + "".join(secrets.choice(string.digits) for _ in range(8))


def new_temporary_password() -> str:
    """A random password with letters and digits and no look-alike characters."""
    while True:
        value = "".join(secrets.choice(_UNAMBIGUOUS) for _ in range(TEMP_PASSWORD_LENGTH))
        if any(c.isdigit() for c in value) and any(c.isalpha() for c in value):
            return value


def password_problem(password: str, username: str) -> str | None:
    """Why a chosen password is refused (a template reason), or None when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short"
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        return "password_letters_digits"
    if username and username.lower() in password.lower():
        return "password_contains_username"
    return None


async def hash_password(password: str) -> str:
    """The argon2 hash (computed off the event loop)."""
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (off the event loop)."""

    def check() -> bool:
        try:
            return bool(_hasher.verify(password_hash, password))
        except (VerificationError, InvalidHashError):
            return False

    return await asyncio.to_thread(check)


def new_code() -> str:
    """A 6-digit verification code."""
    return "".join(secrets.choice(string.digits) for _ in range(CODE_DIGITS))


def new_salt() -> str:
    """A random salt for a code hash."""
    return secrets.token_hex(16)


def hash_code(code: str, salt: str) -> str:
    """The stored form of a verification code."""
    return hashlib.sha256(f"{salt}:{code.strip()}".encode()).hexdigest()


def code_matches(code: str, salt: str, code_hash: str) -> bool:
    """Whether a typed code matches (constant time)."""
    return hmac.compare_digest(hash_code(code, salt), code_hash)
