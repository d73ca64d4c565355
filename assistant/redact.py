"""Scrub secrets and personal data from log records before any handler sees them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

_PATTERNS = (
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
    # partita IVA and other 11-digit numbers
    (re.compile(r"\b\d{11}\b"), "<piva>"),
    # key=value secrets
    (
        re.compile(r"(?i)\b(password|passwd|pwd|token|code|codice|secret)(\s*[=:]\s*)\S+"),
        r"\1\2<secret>",
    ),
    # Telegram bot tokens (also inside URLs)
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), "<bot-token>"),
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
    records go to that file and only warnings reach the terminal.
    """
    formatter = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    terminal = logging.StreamHandler()
    handlers: list[logging.Handler] = [terminal]
    if logfile is not None:
        logfile.parent.mkdir(parents=True, exist_ok=True)
        terminal.setLevel(logging.WARNING)
        handlers.append(logging.FileHandler(logfile, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(formatter)
        handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    for noisy in ("httpx", "httpcore", "aiosqlite", "telegram.ext.Updater"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
