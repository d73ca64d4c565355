"""Turning an outbox row into the e-mail on the wire or an ``.eml`` file; staff views of rows.

Building is deterministic: the same row always gives the same message (Message-ID and Date
come from the row), so a mail sent again after a crash is recognisably the same mail.
"""

from __future__ import annotations

import binascii
import contextlib
import functools
import hashlib
import itertools
import logging
import os
import re
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, getaddresses
from pathlib import Path
from typing import cast

from assistant.private_files import private_temporary_file
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
_SHORT_HEADER = 74  # name, ": " and value within the 78 characters of RFC 5322
_MAX_LINE_BYTES = 998
_UNSAFE_FILE_CHARS = re.compile(r"[^A-Za-z0-9._@-]+")
_BARE_ADDRESS = re.compile(r"[A-Za-z0-9.+_-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def build_message(mail: OutboxMail, settings: Settings) -> EmailMessage:
    """The message of one outbox row as an ``EmailMessage`` (``message_bytes`` parsed back).

    Raises ``ValueError`` for a row that can never make a valid message.
    """
    data = message_bytes(mail, settings).replace(b"\r\n", b"\n")
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(data))


def message_bytes(mail: OutboxMail, settings: Settings, *, eight_bit: bool = True) -> bytes:
    """The RFC 5322 bytes (CRLF) of one row: text/plain UTF-8, plus HTML when the row has it.

    Written directly rather than through ``EmailMessage`` (whose header parsing costs ~100 times
    more); headers that are not short plain ASCII go through ``policy.SMTP``'s own folding and
    RFC 2047 encoding. Without ``eight_bit`` (a server lacking 8BITMIME) non-ASCII bodies are
    quoted-printable. Raises ``ValueError`` for a row that can never make a valid message, e.g.
    a header value with a line break.
    """
    lines = [
        _header("Message-ID", mail.message_id),
        _header("Date", format_datetime(mail.created_at)),
        _header("From", settings.mail_from),
        _header("To", mail.recipient),
        _header("Subject", mail.subject),
    ]
    lines.extend(_header(name, value) for name, value in extra_headers(mail).items())
    lines.append("MIME-Version: 1.0\r\n")
    head = "".join(lines).encode("ascii")
    text_headers, text_body = _text_part("plain", mail.body_text, eight_bit)
    if not mail.body_html:
        return head + text_headers + b"\r\n" + text_body
    html_headers, html_body = _text_part("html", mail.body_html, eight_bit)
    boundary = _boundary(mail.message_id, text_body + html_body)
    return b"".join(
        (
            head,
            b'Content-Type: multipart/alternative;\r\n boundary="%s"\r\n\r\n' % boundary,
            b"--%s\r\n%s\r\n%s" % (boundary, text_headers, text_body),
            b"\r\n--%s\r\n%s\r\n%s" % (boundary, html_headers, html_body),
            b"\r\n--%s--\r\n" % boundary,
        )
    )


def _header(name: str, value: str) -> str:
    """One folded ``Name: value\\r\\n`` line; ``ValueError`` on a line break in the value."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name} contains a line break")
    if (
        len(name) + len(value) <= _SHORT_HEADER
        and value.isascii()
        and value.isprintable()
        and "=?" not in value
        and value == value.strip()
        and "  " not in value
    ):
        return f"{name}: {value}\r\n"
    return _folded(name, value)


@functools.lru_cache(maxsize=4096)
def _folded(name: str, value: str) -> str:
    """``policy.SMTP``'s folding and RFC 2047 encoding of one header (cached: From, subjects)."""
    return policy.SMTP.fold(name, policy.SMTP.header_factory(name, value))


def _text_part(subtype: str, text: str, eight_bit: bool) -> tuple[bytes, bytes]:
    """(headers, body) of one UTF-8 text part: 7bit or 8bit when lines allow, else QP."""
    lines = text.encode("utf-8").splitlines()
    fits = max(map(len, lines), default=0) <= _MAX_LINE_BYTES
    body = b"\r\n".join(lines) + b"\r\n"
    if fits and body.isascii():
        encoding = b"7bit"
    elif fits and eight_bit:
        encoding = b"8bit"
    else:
        encoding = b"quoted-printable"
        body = binascii.b2a_qp(b"\n".join(lines) + b"\n", istext=True).replace(b"\n", b"\r\n")
    headers = b'Content-Type: text/%s; charset="utf-8"\r\nContent-Transfer-Encoding: %s\r\n' % (
        subtype.encode("ascii"),
        encoding,
    )
    return headers, body


def _boundary(message_id: str, content: bytes) -> bytes:
    """A MIME boundary derived from the Message-ID (same row, same bytes), absent from content."""
    digest = hashlib.sha256(message_id.encode("utf-8", "replace")).hexdigest()[:32]
    for attempt in itertools.count():
        boundary = f"=_{digest}_{attempt}".encode("ascii")
        if boundary not in content:
            return boundary
    raise AssertionError("unreachable")


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
    if _BARE_ADDRESS.fullmatch(mail.recipient):
        return [mail.recipient]  # the common case, without the parser's cost
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
    target = directory / filename
    descriptor, temporary = private_temporary_file(  # 0600 in 0700 folders, whatever the umask
        directory, f".{filename}.", TEMP_SUFFIX
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
