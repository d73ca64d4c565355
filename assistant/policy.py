"""The guide's rules, each as one named, pure function or constant.

The flows call these; the store merely persists what they decide. Nothing here does I/O or
reads the settings: the tunable numbers (``Settings.max_login_attempts``,
``registration_retry_minutes``, ``temp_password_hours``, ``pec_domains``) come in as arguments.

    login lock              login_blocked            "dopo tre tentativi di login errato"
    temporary password      temporary_password_expires_at, temporary_password_expired
    60-minute rule          registration_wait_until  "trascorsi 60 minuti dalla prima registrazione"
    PEC for companies       is_company, pec_missing  "persone giuridiche ... indirizzo PEC"
    paper invoices          REGISTRATION_REVOKES_PAPER_INVOICES
    invoices from 2008      FIRST_INVOICE_YEAR       "tutte le fatture ... dal 2008 in poi"
    password strength       password_problem
    rate limits             RateLimit constants, rate_key
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# --- login lock -----------------------------------------------------------------------------


def login_blocked(failed_logins: int, max_attempts: int) -> bool:
    """Whether ``failed_logins`` wrong passwords in a row (the latest included) block the login.

    The guide: after three wrong logins (``MAX_LOGIN_ATTEMPTS``) the login is blocked — even the
    right password is refused — until /recupero lifts the block. A right password, a password
    of one's own, a recovery or a repeated registration start the count again.
    """
    return failed_logins >= max_attempts


# --- temporary password ---------------------------------------------------------------------


def temporary_password_expires_at(now: datetime, valid_hours: int) -> datetime:
    """When a temporary password issued ``now`` stops working (``TEMP_PASSWORD_HOURS``)."""
    return now + timedelta(hours=valid_hours)


def temporary_password_expired(expires_at: datetime | None, now: datetime) -> bool:
    """Whether a temporary password with this expiry no longer opens a session."""
    return expires_at is None or now >= expires_at


# --- registering again ----------------------------------------------------------------------


def registration_wait_until(
    registered_at: datetime, now: datetime, retry_minutes: int
) -> datetime | None:
    """The moment from which a pending account's customer may register again, or None when
    they may now (the guide: a mistyped address means registering again after 60 minutes,
    ``REGISTRATION_RETRY_MINUTES``; the new registration replaces the pending one)."""
    retry_at = registered_at + timedelta(minutes=retry_minutes)
    return retry_at if now < retry_at else None


# --- companies and PEC ----------------------------------------------------------------------

COMPANY = "company"  # a customer kind in the bank's file (the other is "person")
PARTITA_IVA_DIGITS = 11  # a company's number; a person's codice fiscale has 16 characters


def is_company(kind: str | None, fiscal_code: str = "") -> bool:
    """Whether the customer is a company (*persona giuridica*).

    Its ``kind`` in the bank's file decides once the customer is known. Before (the
    registration's e-mail step, nothing looked up yet) an 11-digit fiscal code, a partita IVA,
    shows a company; a sole proprietorship's 16-character code passes as a person until the
    customer is found at Conferma.
    """
    if kind is not None:
        return kind == COMPANY
    return len(fiscal_code) == PARTITA_IVA_DIGITS


def is_pec(address: str, pec_domains: tuple[str, ...]) -> bool:
    """A PEC address: its domain is (a sub-domain of) a configured PEC provider's domain, or
    its first label is ``pec`` (``pec.company.it``, the usual own-domain PEC)."""
    domain = address.rpartition("@")[2].lower()
    if domain.split(".")[0] == "pec" and domain.count(".") >= 2:
        return True
    return any(domain == d or domain.endswith(f".{d}") for d in pec_domains)


def pec_missing(address: str, *, company: bool, pec_domains: tuple[str, ...]) -> bool:
    """Whether ``address`` breaks the guide's rule that a company registers a PEC address."""
    return company and not is_pec(address, pec_domains)


# --- documents and paper --------------------------------------------------------------------

REGISTRATION_REVOKES_PAPER_INVOICES = True  # the guide: online invoices replace the paper ones
FIRST_INVOICE_YEAR = 2008  # the guide: invoices and credit notes "dal 2008 in poi"


# --- passwords ------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 10


def password_problem(password: str, username: str) -> str | None:
    """Why a chosen password is refused (a ``validation/<reason>`` template), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return "password_too_short"
    if not (any(c.isalpha() for c in password) and any(c.isdigit() for c in password)):
        return "password_letters_digits"
    if username and username.lower() in password.lower():
        return "password_contains_username"
    return None


# --- rate limits ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RateLimit:
    """At most ``limit`` attempts of one key within ``window``."""

    limit: int
    window: timedelta


LOGIN_PER_CHAT = RateLimit(10, timedelta(minutes=15))  # passwords typed (guessing usernames)
REGISTRATION_PER_CHAT = RateLimit(5, timedelta(hours=1))  # confirmed registrations
RECOVERY_PER_CHAT = RateLimit(5, timedelta(hours=1))  # recovery requests ...
RECOVERY_PER_CUSTOMER = RateLimit(3, timedelta(hours=1))  # ... and per matched customer
EMAIL_CODES_PER_ACCOUNT = RateLimit(5, timedelta(hours=1))  # verification codes sent


def rate_key(action: str, scope: str, *ids: object) -> str:
    """The key attempts are counted under: ``login:chat:telegram:42``, ``recovery:customer:7``."""
    return ":".join([action, scope, *map(str, ids)])
