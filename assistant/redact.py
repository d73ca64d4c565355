"""Scrub secrets and personal data from log records before any handler sees them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from assistant.private_files import private_log_file

_VALUE = r"""(?:"[^"]*"|'[^']*'|\S+)"""  # a value: quoted, or up to the next space
_PATTERNS = (
    # Telegram bot tokens, also inside URLs (``/bot123456789:AAH.../getUpdates``)
    (re.compile(r"(?<![0-9])\d{5,}:[A-Za-z0-9_-]{30,}(?![A-Za-z0-9_-])"), "<bot-token>"),
    # e-mail addresses
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    # codice fiscale (16 chars, omocodia letters included)
    (
        re.compile(
            r"\b[A-Za-z]{6}[0-9LMNPQRSTUVlmnpqrstuv]{2}[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{2}"
            r"[A-Za-z][0-9LMNPQRSTUVlmnpqrstuv]{3}[A-Za-z]\b"
        ),
        "<cf>",
    ),
    # partita IVA (with or without the IT prefix) and other 11-digit numbers
    (re.compile(r"\b(?:[Ii][Tt])?\d{11}\b"), "<piva>"),
    # the lines of our own e-mails that carry a secret
    (
        re.compile(
            r"(?i)\b(password\s+temporanea|temporary\s+password|codice\s+di\s+verifica"
            r"|verification\s+code)(\s*[=:]\s*)" + _VALUE
        ),
        r"\1\2<secret>",
    ),
    # the staff console's cookies and form values (session id, login nonce, CSRF value)
    (re.compile(r"(?i)\b(ac_staff|ac_login|csrf)(\s*[=:]\s*)" + _VALUE), r"\1\2<secret>"),
    # TOTP secrets inside otpauth:// URIs (also caught below as secret=...)
    (re.compile(r"(?i)(otpauth://\S*?[?&]secret=)[A-Z2-7]+"), r"\1<secret>"),
    # key=value secrets, also as variables (SMTP_PASSWORD=..., TELEGRAM_BOT_TOKEN=...)
    (
        re.compile(
            r"(?i)\b((?:\w*_)?(?:password|passwd|pwd|token|code|codice|secret))(\s*[=:]\s*)"
            + _VALUE
        ),
        r"\1\2<secret>",
    ),
)


def redact(text: str) -> str:
    """The text with every e-mail, codice fiscale, partita IVA and secret replaced."""
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that rewrites each record's message through ``redact``."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the formatted message (and the exception text) in place."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not hide the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


def install(level: int = logging.INFO, logfile: Path | None = None) -> None:
    """Configure the root logger with redaction on every handler.

    With ``logfile`` (the console chat, where log lines would mix with the conversation) the
    records go to that file (owner-only) and only warnings reach the terminal.
    """
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    terminal = logging.StreamHandler()
    handlers: list[logging.Handler] = [terminal]
    if logfile is not None:
        private_log_file(logfile)  # 0600 in a 0700 folder, whatever the umask
        terminal.setLevel(logging.WARNING)
        handlers.append(logging.FileHandler(logfile, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
