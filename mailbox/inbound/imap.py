"""The support mailbox over IMAP: imap-tools wrapped once, blocking, one connection per thread.

Every operation is by UID. Two imap-tools pitfalls are avoided on purpose: ``flag()`` and
``delete()`` follow their STORE with a plain EXPUNGE (which also removes messages someone else
marked deleted), and ``move()`` decides between MOVE and copy+delete+EXPUNGE from the
capabilities read *before* login (Dovecot announces MOVE only after). Here the capabilities are
read again after login, messages move with ``UID MOVE``, or ``UID COPY`` + ``UID EXPUNGE``
(UIDPLUS) on servers without MOVE; without UIDPLUS they are only flagged deleted.

Any network or protocol failure surfaces as ``ImapUnavailable``: the caller reconnects.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
from collections.abc import Callable, Iterable
from typing import ParamSpec, TypeVar

from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted
from imap_tools.errors import ImapToolsError
from imap_tools.mailbox import BaseMailBox
from imap_tools.utils import encode_folder

from assistant.settings import Settings
from mailbox.inbound.imap_wire import (  # what a mailbox returns and raises, imported from here
    FetchedMail,
    ImapUnavailable,
    check,
    chunks,
    mails_from,
    sizes_from,
    uid_set,
)

logger = logging.getLogger(__name__)

HEADER_LIMIT = 64 * 1024  # bytes of header kept from a message over the size limit
UID_CHUNK = 500

P = ParamSpec("P")
R = TypeVar("R")


def _guarded(function: Callable[P, R]) -> Callable[P, R]:
    """Turn every socket, TLS and IMAP error into ``ImapUnavailable``."""

    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return function(*args, **kwargs)
        except ImapUnavailable:
            raise
        except (OSError, imaplib.IMAP4.error, ImapToolsError, EOFError, ValueError) as exc:
            raise ImapUnavailable(f"{function.__name__}: {type(exc).__name__}: {exc}") from exc

    wrapper.__name__ = function.__name__
    wrapper.__doc__ = function.__doc__
    return wrapper


class ImapMailbox:
    """One IMAP connection; call it from a single thread only."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        security: str,
        username: str,
        password: str,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.host, self.port, self.security = host, port, security
        self._username, self._password = username, password
        self.timeout = timeout
        self.ssl_context = ssl_context
        self._box: BaseMailBox | None = None
        self.capabilities: frozenset[str] = frozenset()

    @classmethod
    def from_settings(
        cls, settings: Settings, ssl_context: ssl.SSLContext | None = None
    ) -> ImapMailbox:
        """A mailbox for the IMAP_* settings."""
        return cls(
            host=settings.imap_host or "localhost",
            port=settings.imap_port,
            security=settings.imap_security,
            username=settings.imap_username or "",
            password=settings.imap_password or "",
            timeout=float(settings.imap_timeout_seconds),
            ssl_context=ssl_context,
        )

    @property
    def connected(self) -> bool:
        """Whether a logged-in connection is open."""
        return self._box is not None

    @property
    def client(self) -> imaplib.IMAP4:
        """The underlying imaplib client (raises when not connected)."""
        if self._box is None:
            raise ImapUnavailable("not connected")
        return self._box.client

    @_guarded
    def connect(self) -> None:
        """Open, log in and read the capabilities again (they grow after login)."""
        self.close()
        context = self.ssl_context or ssl.create_default_context()
        box: BaseMailBox
        if self.security == "tls":
            box = MailBox(self.host, self.port, timeout=self.timeout, ssl_context=context)
        elif self.security == "starttls":
            box = MailBoxStartTls(self.host, self.port, timeout=self.timeout, ssl_context=context)
        else:
            box = MailBoxUnencrypted(self.host, self.port, timeout=self.timeout)
        try:
            box.login(self._username, self._password, initial_folder=None)
            status, data = box.client.capability()
            if status != "OK" or not data or not data[-1]:
                raise ImapUnavailable("CAPABILITY failed after login")
            words = data[-1].decode("ascii", "replace").upper().split()
            box.client.capabilities = tuple(words)
            self.capabilities = frozenset(words)
        except BaseException:
            with contextlib.suppress(Exception):
                box.client.shutdown()
            raise
        self._box = box
        logger.info("IMAP connected (%s, idle=%s)", self.security, "IDLE" in self.capabilities)

    def close(self) -> None:
        """Log out (best effort) and forget the connection."""
        box, self._box = self._box, None
        if box is None:
            return
        try:
            box.client.logout()
        except Exception:
            with contextlib.suppress(Exception):
                box.client.shutdown()

    def interrupt(self) -> None:
        """From another thread: wake a blocking read (IDLE) by shutting the socket down."""
        box = self._box
        if box is not None:
            with contextlib.suppress(Exception):
                box.client.sock.shutdown(socket.SHUT_RDWR)

    @_guarded
    def ensure_folder(self, folder: str) -> None:
        """Create the folder unless it exists."""
        box = self._require()
        if not box.folder.exists(folder):
            box.folder.create(folder)
            logger.info("IMAP folder created")

    @_guarded
    def select(self, folder: str) -> int:
        """Select a folder; return its UIDVALIDITY."""
        client = self.client
        status, _ = client.select(encode_folder(folder))  # type: ignore[arg-type]
        if status != "OK":
            raise ImapUnavailable(f"SELECT failed: {status}")
        _, values = client.response("UIDVALIDITY")
        if not values or values[0] is None:
            raise ImapUnavailable("the server gave no UIDVALIDITY")
        client.untagged_responses.clear()
        return int(values[0])

    @_guarded
    def uids(self) -> list[int]:
        """The UIDs in the selected folder not flagged deleted, ascending."""
        check(self.client.noop()[0], "NOOP")  # lets the server report mail that just arrived
        status, data = self.client.uid("SEARCH", "UNDELETED")
        check(status, "UID SEARCH")
        self.client.untagged_responses.clear()
        return sorted(int(word) for word in (data[0] or b"").split())

    @_guarded
    def sizes(self, uids: Iterable[int]) -> dict[int, int]:
        """RFC822.SIZE of each UID still present."""
        found: dict[int, int] = {}
        for chunk in chunks(list(uids), UID_CHUNK):
            status, data = self.client.uid("FETCH", uid_set(chunk), "(UID RFC822.SIZE)")
            check(status, "UID FETCH size")
            found.update(sizes_from(data))
        return found

    @_guarded
    def fetch(self, uids: list[int], *, header_only: bool = False) -> list[FetchedMail]:
        """Download whole messages (or the first 64 KB of their header), without marking seen."""
        part = f"BODY.PEEK[HEADER]<0.{HEADER_LIMIT}>" if header_only else "BODY.PEEK[]"
        status, data = self.client.uid("FETCH", uid_set(uids), f"(UID RFC822.SIZE {part})")
        check(status, "UID FETCH")
        return mails_from(data, header_only=header_only)

    @_guarded
    def archive(self, uids: list[int], folder: str) -> None:
        """Mark seen and move to ``folder``, touching no other message."""
        client = self.client
        for chunk in chunks(uids, UID_CHUNK):
            uid_text = uid_set(chunk)
            status, _ = client.uid("STORE", uid_text, "+FLAGS.SILENT", r"(\Seen)")
            check(status, "UID STORE seen")
            target = encode_folder(folder)
            if "MOVE" in self.capabilities:
                status, _ = client.uid("MOVE", uid_text, target)  # type: ignore[arg-type]
                check(status, "UID MOVE")
                continue
            status, _ = client.uid("COPY", uid_text, target)  # type: ignore[arg-type]
            check(status, "UID COPY")
            status, _ = client.uid("STORE", uid_text, "+FLAGS.SILENT", r"(\Deleted)")
            check(status, "UID STORE deleted")
            if "UIDPLUS" in self.capabilities:
                status, _ = client.uid("EXPUNGE", uid_text)
                check(status, "UID EXPUNGE")
        client.untagged_responses.clear()

    @_guarded
    def wait(self, seconds: float) -> bool:
        """IDLE up to ``seconds``; True when the server announced something.

        Returns False at once when the server has no IDLE (the caller sleeps instead).
        """
        if "IDLE" not in self.capabilities:
            return False
        box = self._require()
        client = self.client
        tag = client._command("IDLE")
        news = False
        while True:  # untagged lines may come before the "+ idling" continuation
            response = client._get_response()
            if client.tagged_commands.get(tag):
                raise ImapUnavailable("IDLE refused")
            if response is None:
                break
            news = True
        box.idle._idle_tag = tag
        if not news:
            news = bool(box.idle.poll(timeout=seconds))
        box.idle.stop()
        client.untagged_responses.clear()
        return news

    @_guarded
    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Store a message in a folder (tests and the benchmark fill the mailbox with it)."""
        self._require().append(raw, folder)

    def _require(self) -> BaseMailBox:
        if self._box is None:
            raise ImapUnavailable("not connected")
        return self._box
