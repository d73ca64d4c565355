"""Turning an outbox row into the e-mail on the wire, or into an ``.eml`` file on disk.

Building is deterministic: the same row always gives the same message (Message-ID and Date
come from the row), so a mail sent again after a crash is recognisably the same mail.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import tempfile
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, getaddresses
from pathlib import Path

from assistant.settings import Settings
from assistant.texts import mask_email
from store.records import OutboxMail

logger = logging.getLogger(__name__)

DEFAULT_AUTO_SUBMITTED = "auto-generated"
# Built from the row's own columns and the settings; the row's extra headers cannot replace them.
RESERVED_HEADERS = frozenset(
    {
        "message-id",
        "date",
        "from",
        "sender",
        "to",
        "cc",
        "bcc",
        "subject",
        "mime-version",
        "content-type",
        "content-transfer-encoding",
    }
)
TEMP_SUFFIX = ".tmp"
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    """The RFC 5322 message of one outbox row: text/plain UTF-8, plus HTML when the row has it.

    Raises ``ValueError`` (or ``email.errors.MessageError``) for a row that can never make a
    valid message, e.g. a header value with a line break.
    """
    message = EmailMessage(policy=policy.default)
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    for name, value in extra_headers(mail).items():
        message[name] = value
    message.set_content(mail.body_text, charset="utf-8")
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html", charset="utf-8")
    return message


def extra_headers(mail: OutboxMail) -> dict[str, str]:
    """The row's own headers over ``Auto-Submitted: auto-generated``; a value of "" omits one."""
    chosen: dict[str, tuple[str, str]] = {
        "auto-submitted": ("Auto-Submitted", DEFAULT_AUTO_SUBMITTED)
    }
    for name, value in mail.headers.items():
        key = name.strip().lower()
        if key in RESERVED_HEADERS:
            logger.warning("outbox %d (%s): header %s ignored", mail.id, mail.kind, name)
            continue
        chosen[key] = (name.strip(), value)
    return {name: value for name, value in chosen.values() if value != ""}


def envelope_recipients(mail: OutboxMail) -> list[str]:
    """The bare addresses of the row's recipient field; ``ValueError`` when there is none."""
    addresses = [address for _, address in getaddresses([mail.recipient]) if address]
    if not addresses or any("@" not in address for address in addresses):
        raise ValueError("no valid recipient address")
    return addresses


def mask_addresses(text: str) -> str:
    """The text with every e-mail address masked (m***@example.it), for staff views and logs."""
    return _EMAIL.sub(lambda match: mask_email(match.group(0)), text)


def mask_recipients(recipient: str) -> str:
    """A recipient field for staff views: each address masked, anything else hidden."""
    addresses = [address for _, address in getaddresses([recipient]) if address]
    return ", ".join(mask_email(address) for address in addresses) or "***"


def eml_filename(mail: OutboxMail) -> str:
    """The file name of a mail in OUTBOX_DIR: outbox id, kind and Message-ID, always the same."""
    kind = _UNSAFE_FILE_CHARS.sub("_", mail.kind)[:40]
    message_id = _UNSAFE_FILE_CHARS.sub("_", mail.message_id.strip().strip("<>"))[:120]
    return f"{mail.id:06d}-{kind}-{message_id}.eml"


def write_eml(directory: Path, filename: str, data: bytes) -> Path:
    """Write one file atomically (temporary file, fsync, rename): never a half-written .eml."""
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / filename
    descriptor, temporary = tempfile.mkstemp(
        dir=directory, prefix=f".{filename}.", suffix=TEMP_SUFFIX
    )
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_directory(directory)
    return target


def remove_stale_temp_files(directory: Path) -> int:
    """Delete the temporary files a killed writer left behind; return how many."""
    removed = 0
    if not directory.is_dir():
        return 0
    for path in directory.glob(f".*.eml.*{TEMP_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)
