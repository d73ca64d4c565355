"""How the outbox sender hands messages over: one SMTP connection kept across batches, or files.

Each transport raises ``PermanentDeliveryError`` when retrying cannot help (5xx, an address
SMTP cannot carry), ``ConnectionLost`` when the server is unreachable or dropped us (retry this
mail, stop the batch) and ``DeliveryError`` for other temporary failures (4xx, disk errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Protocol

import aiosmtplib

from assistant.errors import DeliveryError, PermanentDeliveryError
from assistant.settings import Settings
from mailbox.outbound.compose import eml_filename, mask_addresses, write_eml
from store.records import OutboxMail

logger = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 30.0
QUIT_TIMEOUT_SECONDS = 5.0
NOOP_AFTER_SECONDS = 5.0  # a connection unused this long is checked with NOOP before reuse


class ConnectionLost(DeliveryError):
    """The server is unreachable or dropped us: retry this mail, stop the batch."""


class Transport(Protocol):
    """One way of handing messages over: SMTP or files."""

    eight_bit: bool  # whether 8bit bodies may be handed over (else quoted-printable)

    async def open(self) -> None:
        """Get ready (connect, log in); ``ConnectionLost`` when impossible."""

    async def alive(self) -> bool:
        """Whether an open transport still works (SMTP: NOOP); False means open it again."""

    async def send(
        self,
        mail: OutboxMail,
        data: bytes,
        recipients: list[str],
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """Hand one message (CRLF bytes) over, awaiting ``before_data()`` just before the server
        can accept it; return a note on refused recipients ("" if none)."""

    async def close(self, *, graceful: bool) -> None:
        """Done (QUIT when graceful, else just drop the connection)."""


class SmtpTransport:
    """Delivery over one aiosmtplib connection, kept open across batches by the sender."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.eight_bit = False
        self._smtp: aiosmtplib.SMTP | None = None
        self._mail_options: list[str] = []
        self._last_used = 0.0  # time.monotonic() of the last command

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
            if self._smtp.is_ehlo_or_helo_needed:
                await greet(self._smtp)
        except (aiosmtplib.SMTPException, OSError) as exc:
            self._smtp.close()
            self._smtp = None
            raise ConnectionLost(describe(exc)) from exc
        self.eight_bit = self._smtp.supports_extension("8bitmime")
        self._mail_options = ["BODY=8BITMIME"] if self.eight_bit else []
        self._last_used = time.monotonic()

    async def alive(self) -> bool:
        """Still connected, and (after ``NOOP_AFTER_SECONDS`` unused) NOOP answered with 250."""
        smtp = self._smtp
        if smtp is None or not smtp.is_connected:
            return False
        if time.monotonic() - self._last_used < NOOP_AFTER_SECONDS:
            return True
        self._last_used = time.monotonic()
        try:
            response = await smtp.noop(timeout=QUIT_TIMEOUT_SECONDS)
        except (aiosmtplib.SMTPException, OSError):
            return False
        return response.code == 250

    async def send(
        self,
        mail: OutboxMail,
        data: bytes,
        recipients: list[str],
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """MAIL FROM, RCPT TO, ``before_data()``, DATA; the error says whether retrying helps.

        The envelope travels while the previous mail's bookkeeping (``before_data``) finishes;
        the server accepts a message only at the end of DATA, which waits for it.
        """
        smtp = self._smtp
        assert smtp is not None, "open() first"
        self._last_used = time.monotonic()
        with delivery_errors():
            refused = await self._envelope(smtp, data, recipients)
        if before_data is not None:
            await before_data()
        with delivery_errors():
            try:
                await smtp.data(data)
            except aiosmtplib.SMTPResponseException:
                await reset(smtp)
                raise
        return "; ".join(f"{each.code} {each.message}" for each in refused)

    async def _envelope(
        self, smtp: aiosmtplib.SMTP, data: bytes, recipients: list[str]
    ) -> list[aiosmtplib.SMTPRecipientRefused]:
        """MAIL FROM and one RCPT TO per recipient; return the refused ones (not all)."""
        sender = self.settings.mail_from_address
        size = [f"SIZE={len(data)}"] if smtp.supports_extension("size") else []
        refused = []
        try:
            await smtp.mail(sender, options=[*size, *self._mail_options])
            for address in recipients:
                try:
                    await smtp.rcpt(address)
                except aiosmtplib.SMTPRecipientRefused as exc:
                    refused.append(exc)
            if len(refused) == len(recipients):
                raise aiosmtplib.SMTPRecipientsRefused(refused)
        except (aiosmtplib.SMTPResponseException, aiosmtplib.SMTPRecipientsRefused, ValueError):
            await reset(smtp)  # ValueError: an address that cannot travel, e.g. non-ASCII
            raise
        return refused

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
        self.eight_bit = True

    async def open(self) -> None:
        """Nothing to open."""

    async def alive(self) -> bool:
        """Files can always be written (a disk error shows when writing)."""
        return True

    async def send(
        self,
        mail: OutboxMail,
        data: bytes,
        recipients: list[str],
        before_data: Callable[[], Awaitable[None]] | None = None,
    ) -> str:
        """Write the file atomically (plain line ends, as mail clients save); disk errors retry."""
        if before_data is not None:
            await before_data()
        data = data.replace(b"\r\n", b"\n")
        try:
            await asyncio.to_thread(write_eml, self.settings.outbox_dir, eml_filename(mail), data)
        except OSError as exc:
            raise DeliveryError(describe(exc)) from exc
        return ""

    async def close(self, *, graceful: bool) -> None:
        """Nothing to close."""


@contextlib.contextmanager
def delivery_errors() -> Iterator[None]:
    """aiosmtplib's errors as ours: permanent (5xx), connection lost, or temporary."""
    try:
        yield
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


async def reset(smtp: aiosmtplib.SMTP) -> None:
    """RSET after a refusal, so the next mail starts a clean envelope (errors ignored)."""
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        await smtp.rset()


async def greet(smtp: aiosmtplib.SMTP) -> None:
    """EHLO, or HELO for a server that does not know EHLO (learns the extensions now)."""
    try:
        await smtp.ehlo()
    except aiosmtplib.SMTPHeloError:
        await smtp.helo()


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
