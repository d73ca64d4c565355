"""Usernames, passwords (argon2) and verification codes. Nothing here is ever logged.

The rule a chosen password must follow is ``policy.password_problem``.

No timing oracle: ``verify_password(None, ...)`` (no such account) runs one argon2 verification
against a hash made once per process with the same parameters, so "unknown username" costs
what "wrong password" costs; codes are compared with ``hmac.compare_digest``.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import secrets
import string

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

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


async def hash_password(password: str) -> str:
    """The argon2 hash (computed off the event loop)."""
    return await asyncio.to_thread(_hasher.hash, password)


@functools.cache
def _stand_in_hash() -> str:
    """A hash of a random password, with our parameters: what "no account" is verified against."""
    return _hasher.hash(secrets.token_urlsafe(16))


async def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (off the event loop).

    ``None`` (no such account) is always False, after the same argon2 work as a real check.
    """

    def check() -> bool:
        stand_in = _stand_in_hash()  # made by the first check in this process, whichever it is
        try:
            matched = _hasher.verify(stand_in if password_hash is None else password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
        return bool(matched) and password_hash is not None

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
