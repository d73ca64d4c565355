"""How the outbox sender hands messages over: one SMTP connection per batch, or files.

Each transport raises ``PermanentDeliveryError`` when retrying cannot help (5xx, an address
SMTP cannot carry), ``ConnectionLost`` when the server is unreachable or dropped us (retry this
mail, stop the batch) and ``DeliveryError`` for other temporary failures (4xx, disk errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from assistant.errors import DeliveryError, PermanentDeliveryError
from assistant.settings import Settings
from mailbox.compose import eml_filename, mask_addresses, write_eml
from store.records import OutboxMail

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30.0
QUIT_TIMEOUT_SECONDS = 5.0


class ConnectionLost(DeliveryError):
    """The server is unreachable or dropped us: retry this mail, stop the batch."""


class Transport(Protocol):
    """One way of handing messages over: SMTP or files."""

    async def open(self) -> None:
        """Get ready for a batch (connect, log in); ``ConnectionLost`` when impossible."""

    async def send(self, mail: OutboxMail, message: EmailMessage, recipients: list[str]) -> str:
        """Hand one message over; return a note on refused recipients ("" when none)."""

    async def close(self, *, graceful: bool) -> None:
        """End the batch (QUIT when graceful, else just drop the connection)."""


class SmtpTransport:
    """Delivery over one aiosmtplib connection per batch."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._smtp: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        """Connect (TLS or STARTTLS per SMTP_SECURITY) and log in when a username is set."""
        settings = self.settings
        self._smtp = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_username,
            password=settings.smtp_password,
            use_tls=settings.smtp_security == "tls",
            start_tls=settings.smtp_security == "starttls",
            timeout=SMTP_TIMEOUT_SECONDS,
        )
        try:
            await self._smtp.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ConnectionLost(describe(exc)) from exc

    async def send(self, mail: OutboxMail, message: EmailMessage, recipients: list[str]) -> str:
        """MAIL FROM, RCPT TO, DATA; the error raised says whether retrying can help."""
        assert self._smtp is not None, "open() first"
        try:
            refused, _ = await self._smtp.send_message(
                message, sender=self.settings.mail_from_address, recipients=recipients
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            reason = "; ".join(f"{each.code} {each.message}" for each in exc.recipients)
            if all(each.code >= 500 for each in exc.recipients):
                raise PermanentDeliveryError(reason) from exc
            raise DeliveryError(reason) from exc
        except aiosmtplib.SMTPResponseException as exc:
            if exc.code >= 500:
                raise PermanentDeliveryError(describe(exc)) from exc
            if exc.code == 421:  # the server is closing the connection
                raise ConnectionLost(describe(exc)) from exc
            raise DeliveryError(describe(exc)) from exc
        except (aiosmtplib.SMTPNotSupported, ValueError) as exc:  # e.g. a non-ASCII address
            raise PermanentDeliveryError(describe(exc)) from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # disconnects, timeouts
            raise ConnectionLost(describe(exc)) from exc
        return "; ".join(f"{response.code} {response.message}" for response in refused.values())

    async def close(self, *, graceful: bool) -> None:
        """QUIT politely when we can, then drop the connection."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        if graceful and smtp.is_connected:
            with contextlib.suppress(aiosmtplib.SMTPException, OSError):
                await smtp.quit(timeout=QUIT_TIMEOUT_SECONDS)
        smtp.close()


class EmlTransport:
    """Delivery as one ``.eml`` file per mail in OUTBOX_DIR (no SMTP_HOST: development)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    async def open(self) -> None:
        """Nothing to open."""

    async def send(self, mail: OutboxMail, message: EmailMessage, recipients: list[str]) -> str:
        """Write the file atomically; a disk error is temporary."""
        data = message.as_bytes()
        try:
            await asyncio.to_thread(write_eml, self.settings.outbox_dir, eml_filename(mail), data)
        except OSError as exc:
            raise DeliveryError(describe(exc)) from exc
        return ""

    async def close(self, *, graceful: bool) -> None:
        """Nothing to close."""


def describe(exc: BaseException) -> str:
    """A short, address-free description of a delivery error, for the outbox row."""
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        text = f"{exc.code} {exc.message}"
    else:
        text = str(exc) or type(exc).__name__
    return mask_addresses(f"{type(exc).__name__}: {text}")


def transport_for(settings: Settings) -> Transport:
    """SMTP when SMTP_HOST is set, else ``.eml`` files in OUTBOX_DIR."""
    if settings.smtp_host is None:
        return EmlTransport(settings)
    return SmtpTransport(settings)
