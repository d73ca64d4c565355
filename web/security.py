"""The console's security rules as pure functions and constants: no I/O, tested alone.

Session ids and CSRF values: the cookie holds a random id; the store keeps its SHA-256; the
CSRF value of a form is an HMAC of the id, so it needs no storage and cannot be computed
without the cookie. Second factor: RFC 6238 TOTP (30-second steps, six digits), one step of
drift either way, and a step once used is refused (no replay). Lockout: ``MAX_FAILURES`` wrong
passwords, or wrong codes, in a row lock the account until ``main.py staff reset``.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import datetime, timedelta

import pyotp

MAX_FAILURES = 5  # wrong passwords (or wrong codes) in a row before the account locks
SESSION_MAX_HOURS = 12  # a session ends after this long however busy it is
TOUCH_EVERY = timedelta(seconds=60)  # last_seen_at is written at most this often
TOTP_STEP_SECONDS = 30
TOTP_DRIFT_STEPS = 1
TOTP_ISSUER = "Area Clienti staff"
SESSION_COOKIE = "ac_staff"
LOGIN_COOKIE = "ac_login"  # before a session exists: the login form's CSRF value hangs on it
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
SECURITY_HEADERS = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-content-type-options", "nosniff"),
    ("x-frame-options", "DENY"),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-opener-policy", "same-origin"),
    ("permissions-policy", "camera=(), microphone=(), geolocation=()"),
    ("cache-control", "no-store"),
)


def new_token() -> str:
    """A fresh random session id (or login-form nonce), 256 bits."""
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    """What the store keeps of a session id."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_value(token: str) -> str:
    """The CSRF value of forms served under the session (or login nonce) ``token``."""
    return hmac.new(token.encode(), b"staff-console csrf", hashlib.sha256).hexdigest()


def csrf_matches(token: str | None, submitted: str | None) -> bool:
    """Whether a form's CSRF value belongs to ``token`` (constant time)."""
    if not token or not submitted:
        return False
    return hmac.compare_digest(csrf_value(token), submitted)


def locked_after(failures: int) -> bool:
    """Whether this many failures in a row lock the account."""
    return failures >= MAX_FAILURES


def session_expired(
    created_at: datetime, last_seen_at: datetime, now: datetime, idle_minutes: int
) -> bool:
    """Whether a session has been idle too long, or lived too long."""
    return now - last_seen_at > timedelta(minutes=idle_minutes) or now - created_at > timedelta(
        hours=SESSION_MAX_HOURS
    )


def needs_touch(last_seen_at: datetime, now: datetime) -> bool:
    """Whether the session's last use is worth writing down again."""
    return now - last_seen_at >= TOUCH_EVERY


def new_totp_secret() -> str:
    """A fresh base32 TOTP secret (160 bits)."""
    return pyotp.random_base32(32)


def totp_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name=TOTP_ISSUER)


def totp_step(now: datetime) -> int:
    """The 30-second step of ``now``."""
    return int(now.timestamp()) // TOTP_STEP_SECONDS


def totp_code(secret: str, now: datetime) -> str:
    """The code of ``now`` (for tests and the enrolment check)."""
    return pyotp.TOTP(secret).at(now)


def matching_step(secret: str, code: str, now: datetime, last_step: int) -> int | None:
    """The step whose code ``code`` is (within the drift), if not used yet; else None."""
    code = "".join(code.split())
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = totp_step(now)
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        expected = totp.generate_otp(step)
        if hmac.compare_digest(expected, code) and step > last_step:
            return step
    return None
