"""Helpers shared by the mailbox tests: settings for a Dovecot account, a stand-in FAQ, mails."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

from assistant.clock import Clock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from mailbox.inbound.batch import InlinePreparer, MailPreparer
from mailbox.inbound.connection import FETCH_BATCH_COUNT
from mailbox.inbound.worker import FaultHook, MailboxWorker
from store.store import Store
from tests.fixtures.dovecot import ImapAccount

DATA = Path(__file__).parent / "data" / "mail"


def mailbox_settings(tmp_path: Path, account: ImapAccount, **extra: str) -> Settings:
    """Every file under the test's folder, IMAP_* at the test's Dovecot user."""
    return Settings.from_environ(
        {
            "AREACLIENTI_DB": str(tmp_path / "areaclienti.db"),
            "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
            "IMAP_POLL_SECONDS": "5",
            "IMAP_TIMEOUT_SECONDS": "5",
            **account.env,
            **extra,
        }
    )


@dataclass(frozen=True)
class Verdict:
    """What the FAQ matcher answers (the fields the worker reads)."""

    kind: str
    faq_id: str | None
    language: str
    score: float = 1.0
    suggestions: tuple[str, ...] = ()


class KeywordFaq:
    """A plain stand-in matcher: questions about the password get that FAQ; "explode" raises."""

    def match(self, text: str) -> Verdict:
        """The verdict on one question."""
        lowered = text.lower()
        if "explode" in lowered:
            raise RuntimeError("matcher failure")
        language = "en" if " the " in f" {lowered} " else "it"
        if "password" in lowered:
            return Verdict("answer", "password-non-ricevuta", language)
        return Verdict("not_understood", None, language)


def keyword_answer(faq_id: str, language: str) -> str:
    """The stand-in FAQ answer."""
    return f"ANSWER[{faq_id}/{language}]"


def make_worker(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    fault: FaultHook | None = None,
    batch_size: int = FETCH_BATCH_COUNT,
    preparer: MailPreparer | None = None,
    **changes: Any,
) -> MailboxWorker:
    """A worker with the stand-in FAQ (or ``preparer``); ``changes`` adjust the settings."""
    settings = dataclasses.replace(settings, **changes) if changes else settings
    return MailboxWorker(
        settings,
        store,
        TicketService(store, Texts(settings.templates_dir), settings),
        preparer=preparer or InlinePreparer(KeywordFaq()),
        faq_answer=keyword_answer,
        clock=clock,
        fault=fault,
        reconnect_delays=(0.05, 0.2),
        batch_size=batch_size,
    )


def mail(
    body: str = "Buongiorno, non riesco ad accedere al profilo.",
    *,
    sender: str = "Mario Rossi <mario.rossi@example.it>",
    subject: str = "Problema di accesso",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    headers: dict[str, str] | None = None,
    attachment: bytes | None = None,
) -> bytes:
    """A customer's mail as raw bytes."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "areaclienti.ls@bancopopolare.it"
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="example.it")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="scan.pdf"
        )
    return message.as_bytes()


def fixture_bytes(name: str) -> bytes:
    """A raw fixture of tests/data/mail."""
    return (DATA / f"{name}.eml").read_bytes()


def run_child() -> None:
    """A worker process for the kill -9 test: settings from the environment, pauses per step."""
    import asyncio
    import os
    import time

    from assistant.clock import SystemClock

    pause = float(os.environ.get("MAILBOX_CHILD_PAUSE", "0"))

    def slow_down(point: str) -> None:
        time.sleep(pause)  # widens every window the kill can land in

    async def main() -> None:
        settings = Settings.from_environ(os.environ)
        store = await Store.open(settings.db_target)
        batch = int(os.environ.get("MAILBOX_CHILD_BATCH", "5"))
        worker = make_worker(settings, store, SystemClock(), fault=slow_down, batch_size=batch)
        try:
            while await worker.process_once():
                pass
        finally:
            await worker.aclose()
            await store.close()

    asyncio.run(main())


def process_alive(pid: int) -> bool:
    """Running, not merely a zombie waiting to be reaped (Linux /proc)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
