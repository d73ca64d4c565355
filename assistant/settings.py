"""The one frozen ``Settings`` object, built from the environment in ``main.py``.

``Settings.from_environ`` checks every value and reads nothing else; ``check_paths``, called
by ``main.py`` at start, checks that the files and folders named can be used (creating none).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.errors import InvalidHeaderDefect
from email.headerregistry import Address, AddressHeader, HeaderRegistry
from email.utils import parseaddr
from pathlib import Path
from urllib.parse import urlsplit

from assistant.errors import SettingsError
from assistant.service_levels import (
    DEFAULT_BUSINESS_HOURS,
    DEFAULT_FIRST_RESPONSE_HOURS,
    BusinessHours,
    italian_province,
    parse_business_hours,
)

DEFAULT_PEC_DOMAINS = (
    "pec.it",
    "legalmail.it",
    "arubapec.it",
    "pec.aruba.it",
    "postacert.it",
    "pecimprese.it",
    "legalmail.com",
    "postecert.it",
    "cert.legalmail.it",
    "pec.libero.it",
    "gigapec.it",
    "registerpec.it",
    "sicurezzapostale.it",
    "cgn.legalmail.it",
    "pec.buffetti.it",
    "casellapec.com",
    "pec-legal.it",
    "mypec.eu",
    "certificazioneposta.it",
    "postecertificate.it",
    "actaliscertymail.it",
    "cert.postecert.it",
    "ticertifica.it",
    "pec.net",
    "sicurezzapostale.it",
)

SECURITY_CHOICES = ("none", "starttls", "tls")
DEFAULT_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024  # Telegram's bot upload limit is 50 MB
DEFAULT_ATTACHMENT_MAX_BYTES = 10 * 1024 * 1024  # one attachment of an incoming mail
DEFAULT_ATTACHMENTS_MAX_COUNT = 10  # attachments of an incoming mail
LANGUAGES = ("it", "en")
TELEGRAM_MODES = ("polling", "webhook")
WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")  # Telegram's rule for secret_token


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Every tunable of the product. Build it with ``Settings.from_environ``."""

    db_path: Path = Path("var/areaclienti.db")  # the SQLite file, when AREACLIENTI_DB is a path
    db_url: str | None = field(default=None, repr=False)  # AREACLIENTI_DB=postgresql://...
    db_pool_size: int = 5  # PostgreSQL: connections per process
    db_statement_timeout_seconds: int = 30  # PostgreSQL: the longest one statement may run
    data_dir: Path = Path("var")
    telegram_bot_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    telegram_mode: str = "polling"  # or "webhook": updates pushed to POST /telegram/webhook
    telegram_webhook_url: str | None = None  # https://…/telegram/webhook, in webhook mode
    telegram_webhook_secret: str | None = field(default=None, repr=False)  # never logged
    telegram_notices_per_second: int = 25  # one budget per bot token (the leader paces it)
    telegram_notices_in_flight: int = 25  # sent, not yet recorded: what a kill -9 may repeat
    claim_lease_seconds: int = 300  # a killed replica's claimed mails/notices wait this long
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "starttls"
    mail_from: str = "Area Clienti <areaclienti@localhost>"
    outbox_dir: Path = Path("var/outbox")
    imap_host: str | None = None
    imap_port: int = 993
    imap_username: str | None = None
    imap_password: str | None = None
    imap_security: str = "tls"
    imap_folder: str = "INBOX"
    imap_processed_folder: str = "Processed"
    imap_quarantine_folder: str = "Quarantine"
    imap_poll_seconds: int = 60
    imap_timeout_seconds: int = 30
    support_address: str = "areaclienti.ls@bancopopolare.it"
    registration_retry_minutes: int = 60
    max_login_attempts: int = 3
    session_idle_minutes: int = 30
    temp_password_hours: int = 72
    default_language: str = "it"
    pec_domains: tuple[str, ...] = DEFAULT_PEC_DOMAINS
    mail_max_bytes: int = 25 * 1024 * 1024
    auto_reply_limit: int = 5
    document_max_bytes: int = DEFAULT_DOCUMENT_MAX_BYTES
    attachment_max_bytes: int = DEFAULT_ATTACHMENT_MAX_BYTES  # larger: listed, not accepted
    attachments_max_count: int = DEFAULT_ATTACHMENTS_MAX_COUNT  # per mail; further ones refused
    db_busy_timeout_seconds: int = 30  # how long a statement waits for another's write lock
    staff_web_host: str = "127.0.0.1"  # the staff console (web/)
    staff_web_port: int = 8080
    staff_session_idle_minutes: int = 30
    staff_cookie_secure: bool = False  # true behind HTTPS: the session cookie is Secure
    staff_business_hours: BusinessHours = field(  # STAFF_BUSINESS_HOURS, STAFF_HOLIDAY_PROVINCE
        default_factory=lambda: parse_business_hours(DEFAULT_BUSINESS_HOURS)
    )
    sla_first_response_hours: int = DEFAULT_FIRST_RESPONSE_HOURS  # business hours
    templates_dir: Path = field(default=Path(__file__).resolve().parent.parent / "templates")

    @property
    def mail_from_address(self) -> str:
        """The bare address of MAIL_FROM (``areaclienti@localhost``)."""
        return parseaddr(self.mail_from)[1]

    @property
    def mail_domain(self) -> str:
        """The domain of MAIL_FROM, for our Message-IDs (``localhost`` when it has none)."""
        return self.mail_from_address.rpartition("@")[2] or "localhost"

    @property
    def db_target(self) -> Path | str:
        """What ``Store.open`` opens: the PostgreSQL URL, else the SQLite file."""
        return self.db_url if self.db_url is not None else self.db_path

    @property
    def db_label(self) -> str:
        """The database for messages and logs: the file, or the URL without its password."""
        return str(self.db_path) if self.db_url is None else _public_url(self.db_url)

    def check_paths(self) -> None:
        """``SettingsError`` naming the variable when a file or folder named cannot be used.

        A folder must be one, or be creatable (the nearest existing step is a folder we may
        write in); the database must not be a folder, and its folder likewise. Reads the file
        system only: nothing is created.
        """
        _usable_folder("AREACLIENTI_DATA_DIR", self.data_dir)
        _usable_folder("OUTBOX_DIR", self.outbox_dir)
        if self.db_url is not None:  # a server's database: no file here
            return
        _usable_folder("AREACLIENTI_DB", self.db_path.parent, of=self.db_path)
        if self.db_path.is_dir():
            raise SettingsError("AREACLIENTI_DB", f"{self.db_path} is a folder, not a file")

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Settings:
        """Read every variable; a bad value raises ``SettingsError`` naming it."""
        env = {k: v for k, v in environ.items() if v != ""}
        mode, hook_url, hook_secret = _telegram_webhook(env)
        return cls(
            db_path=_db_path(env),
            db_url=_db_url(env),
            db_pool_size=_int(env, "AREACLIENTI_DB_POOL_SIZE", 5, 2, 1000),
            db_statement_timeout_seconds=_int(
                env, "AREACLIENTI_DB_STATEMENT_TIMEOUT_SECONDS", 30, 1, 24 * 3600
            ),
            data_dir=Path(env.get("AREACLIENTI_DATA_DIR", "var")),
            telegram_bot_token=env.get("TELEGRAM_BOT_TOKEN"),
            telegram_api_url=_url(env, "TELEGRAM_API_URL", "https://api.telegram.org"),
            telegram_mode=mode,
            telegram_webhook_url=hook_url,
            telegram_webhook_secret=hook_secret,
            smtp_host=env.get("SMTP_HOST"),
            smtp_port=_int(env, "SMTP_PORT", 587, 1, 65535),
            smtp_username=env.get("SMTP_USERNAME"),
            smtp_password=env.get("SMTP_PASSWORD"),
            smtp_security=_choice(env, "SMTP_SECURITY", "starttls", SECURITY_CHOICES),
            mail_from=_mailbox(env, "MAIL_FROM", "Area Clienti <areaclienti@localhost>"),
            outbox_dir=Path(env.get("OUTBOX_DIR", "var/outbox")),
            imap_host=env.get("IMAP_HOST"),
            imap_port=_int(env, "IMAP_PORT", 993, 1, 65535),
            imap_username=env.get("IMAP_USERNAME"),
            imap_password=env.get("IMAP_PASSWORD"),
            imap_security=_choice(env, "IMAP_SECURITY", "tls", SECURITY_CHOICES),
            imap_folder=env.get("IMAP_FOLDER", "INBOX"),
            imap_processed_folder=env.get("IMAP_PROCESSED_FOLDER", "Processed"),
            imap_quarantine_folder=env.get("IMAP_QUARANTINE_FOLDER", "Quarantine"),
            imap_poll_seconds=_int(env, "IMAP_POLL_SECONDS", 60, 1, 29 * 60),
            imap_timeout_seconds=_int(env, "IMAP_TIMEOUT_SECONDS", 30, 1, 3600),
            support_address=_mailbox(
                env, "SUPPORT_ADDRESS", "areaclienti.ls@bancopopolare.it", bare=True
            ),
            registration_retry_minutes=_int(env, "REGISTRATION_RETRY_MINUTES", 60, 0, 10**6),
            max_login_attempts=_int(env, "MAX_LOGIN_ATTEMPTS", 3, 1, 100),
            session_idle_minutes=_int(env, "SESSION_IDLE_MINUTES", 30, 1, 10**6),
            temp_password_hours=_int(env, "TEMP_PASSWORD_HOURS", 72, 1, 10**5),
            default_language=_choice(env, "DEFAULT_LANGUAGE", "it", LANGUAGES),
            pec_domains=_domains(env, "PEC_DOMAINS", DEFAULT_PEC_DOMAINS),
            mail_max_bytes=_int(env, "MAIL_MAX_BYTES", 25 * 1024 * 1024, 1024, 2**40),
            auto_reply_limit=_int(env, "AUTO_REPLY_LIMIT", 5, 0, 10**6),
            document_max_bytes=_int(
                env, "DOCUMENT_MAX_BYTES", DEFAULT_DOCUMENT_MAX_BYTES, 1024, 2**40
            ),
            attachment_max_bytes=_int(
                env, "ATTACHMENT_MAX_BYTES", DEFAULT_ATTACHMENT_MAX_BYTES, 1024, 2**40
            ),
            attachments_max_count=_int(
                env, "ATTACHMENTS_MAX_COUNT", DEFAULT_ATTACHMENTS_MAX_COUNT, 0, 1000
            ),
            db_busy_timeout_seconds=_int(env, "DB_BUSY_TIMEOUT_SECONDS", 30, 1, 3600),
            telegram_notices_per_second=_int(env, "TELEGRAM_NOTICES_PER_SECOND", 25, 1, 1000),
            telegram_notices_in_flight=_notices_in_flight(env),
            claim_lease_seconds=_int(env, "CLAIM_LEASE_SECONDS", 300, 5, 24 * 3600),
            staff_web_host=env.get("STAFF_WEB_HOST", "127.0.0.1").strip(),
            staff_web_port=_int(env, "STAFF_WEB_PORT", 8080, 1, 65535),
            staff_session_idle_minutes=_int(env, "STAFF_SESSION_IDLE_MINUTES", 30, 1, 24 * 60),
            staff_cookie_secure=_bool(env, "STAFF_COOKIE_SECURE", False),
            staff_business_hours=_business_hours(env),
            sla_first_response_hours=_int(
                env, "SLA_FIRST_RESPONSE_HOURS", DEFAULT_FIRST_RESPONSE_HOURS, 1, 1000
            ),
        )


def _telegram_webhook(env: Mapping[str, str]) -> tuple[str, str | None, str | None]:
    """TELEGRAM_MODE and, in webhook mode, TELEGRAM_WEBHOOK_URL (https) and
    TELEGRAM_WEBHOOK_SECRET (what Telegram accepts as ``secret_token``; never echoed)."""
    mode = _choice(env, "TELEGRAM_MODE", "polling", TELEGRAM_MODES)
    url, secret = env.get("TELEGRAM_WEBHOOK_URL"), env.get("TELEGRAM_WEBHOOK_SECRET")
    if mode == "webhook":
        if not env.get("TELEGRAM_BOT_TOKEN"):
            raise SettingsError("TELEGRAM_MODE", "webhook mode needs TELEGRAM_BOT_TOKEN")
        parts = urlsplit((url or "").strip())
        if parts.scheme.lower() != "https" or not parts.hostname or " " in parts.geturl():
            raise SettingsError(
                "TELEGRAM_WEBHOOK_URL", "webhook mode needs the https:// address Telegram posts to"
            )
        if secret is None or not WEBHOOK_SECRET.fullmatch(secret):
            raise SettingsError(
                "TELEGRAM_WEBHOOK_SECRET",
                "webhook mode needs 1 to 256 characters of A-Z, a-z, 0-9, _ and -",
            )
    return mode, (url.strip() if url else None), secret


def _notices_in_flight(env: Mapping[str, str]) -> int:
    """TELEGRAM_NOTICES_IN_FLIGHT: 1 by default on PostgreSQL, where replicas run and a killed
    leader must repeat one notice at most; 25 on SQLite's one process (faster on a slow link)."""
    return _int(env, "TELEGRAM_NOTICES_IN_FLIGHT", 1 if _db_url(env) else 25, 1, 100)


def _db_url(env: Mapping[str, str]) -> str | None:
    """AREACLIENTI_DB when it is a PostgreSQL URL; another scheme is refused."""
    raw = env.get("AREACLIENTI_DB", "").strip()
    if raw.startswith(("postgresql://", "postgres://")):
        return raw
    if "://" in raw:
        raise SettingsError(
            "AREACLIENTI_DB",
            f"expected a file path or a postgresql:// URL, got {_public_url(raw)!r}",
        )
    return None


def _db_path(env: Mapping[str, str]) -> Path:
    """AREACLIENTI_DB as the SQLite file (the default file when it is a URL: unused then)."""
    raw = env.get("AREACLIENTI_DB", "var/areaclienti.db")
    return Path("var/areaclienti.db") if "://" in raw else Path(raw)


def _public_url(url: str) -> str:
    """``url`` with any password replaced by ``***``."""
    scheme, sep, rest = url.partition("://")
    credentials, at, host = rest.rpartition("@")
    if not at or ":" not in credentials:
        return url
    return f"{scheme}{sep}{credentials.partition(':')[0]}:***@{host}"


def _business_hours(env: Mapping[str, str]) -> BusinessHours:
    """STAFF_BUSINESS_HOURS (``mon-fri 09:00-18:00``) and STAFF_HOLIDAY_PROVINCE (``MI``)."""
    province = env.get("STAFF_HOLIDAY_PROVINCE", "").strip() or None
    if province is not None:
        try:
            province = italian_province(province)
        except ValueError as exc:
            raise SettingsError("STAFF_HOLIDAY_PROVINCE", str(exc)) from None
    try:
        return parse_business_hours(
            env.get("STAFF_BUSINESS_HOURS", DEFAULT_BUSINESS_HOURS), province
        )
    except ValueError as exc:
        raise SettingsError("STAFF_BUSINESS_HOURS", str(exc)) from None


def _int(env: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"expected a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(name, f"expected a number from {low} to {high}, got {value}")
    return value


def _bool(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
        raise SettingsError(name, f"expected true or false, got {raw!r}")
    return value in ("1", "true", "yes", "on")


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().lower()
    if value not in choices:
        raise SettingsError(name, f"expected one of {', '.join(choices)}, got {value!r}")
    return value


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default).strip().rstrip("/")
    if not value.startswith(("http://", "https://")):
        raise SettingsError(name, f"expected an http:// or https:// URL, got {value!r}")
    return value


def _mailbox(env: Mapping[str, str], name: str, default: str, *, bare: bool = False) -> str:
    value = env.get(name, default).strip()
    display, address = parseaddr(value)
    try:
        Address(display_name=display, addr_spec=address)
    except (ValueError, IndexError):
        address = ""
    if "@" not in address or (bare and display) or not _one_address(value):
        expected = "one e-mail address" if bare else "one e-mail address, e.g. Name <a@b.it>"
        raise SettingsError(name, f"expected {expected}, got {value!r}")
    return value


def _one_address(value: str) -> bool:
    """Whether ``value`` holds exactly one address, not a list or a group."""
    header = HeaderRegistry()("To", value)
    assert isinstance(header, AddressHeader)
    return (
        len(header.addresses) == 1
        and len(header.groups) == 1
        and header.groups[0].display_name is None
        and not any(isinstance(defect, InvalidHeaderDefect) for defect in header.defects)
    )


def _usable_folder(name: str, path: Path, *, of: Path | None = None) -> None:
    """``path`` is a folder, or can be created in the nearest existing step (``of``: the file
    that will live in it, for the message)."""
    step = path
    try:
        while not step.exists() and not step.is_symlink():
            step = step.parent
        usable = step.is_dir() and os.access(step, os.W_OK | os.X_OK)
    except OSError as exc:
        raise SettingsError(name, f"{of or path} cannot be used: {exc.strerror}") from None
    if usable:
        return
    if step.is_dir():
        raise SettingsError(name, f"{of or path}: {step} cannot be written to")
    if step == path and of is None:
        raise SettingsError(name, f"{path} is not a folder")
    raise SettingsError(name, f"{of or path} is under {step}, which is not a folder")


def _domains(env: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    raw = env.get(name)
    if raw is None:
        return tuple(dict.fromkeys(default))
    domains = tuple(d.strip().lower() for d in raw.split(",") if d.strip())
    if not domains or any("." not in d or " " in d for d in domains):
        raise SettingsError(name, "expected a comma-separated list of domains")
    return domains
