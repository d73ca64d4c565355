"""Tickets from chat and e-mail; staff answers by the command line, threaded both ways."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from assistant.clock import ManualClock, SystemClock
from assistant.errors import NotAllowed
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.ticket_mail import reply_subject
from assistant.tickets import TicketService
from mailbox.outbound.sender import OutboxSender
from store.store import Store
from tests.fixtures.commands import run_tickets
from tests.fixtures.dialogs import RecordingNotifier
from tests.fixtures.dovecot import ImapAccount
from tests.fixtures.smtp import SmtpServer
from tests.mailbox_support import mail, mailbox_settings, make_worker


@pytest.fixture
def settings(tmp_path: Path, imap_account: ImapAccount) -> Settings:
    """IMAP_* pointing at this test's Dovecot user."""
    return mailbox_settings(tmp_path, imap_account)


@pytest.fixture
def service(store: Store, settings: Settings) -> TicketService:
    """The ticket service with a recording chat notifier."""
    return TicketService(
        store, Texts(settings.templates_dir), settings, notifier=RecordingNotifier()
    )


async def staff(settings: Settings, *argv: str, notifier: object = None) -> tuple[int, str]:
    """Run ``tickets ...`` as staff would; return (exit status, what it printed)."""
    from main import build_parser

    args = build_parser().parse_args(["tickets", *argv])
    out = io.StringIO()
    status = await run_tickets(settings, args, notifier=notifier, out=out)  # type: ignore[arg-type]
    return status, out.getvalue()


async def email_ticket(settings: Settings, store: Store, clock: ManualClock, account: ImapAccount):
    """A ticket opened by a customer's mail (acknowledged)."""
    account.append(mail("Non vedo i miei dati.", message_id="<cust-1@example.it>"))
    worker = make_worker(settings, store, clock)
    try:
        await worker.process_once()
    finally:
        await worker.aclose()
    [ticket] = await store.tickets.recent()
    return ticket


async def test_chat_ticket_gets_the_staff_reply_in_the_chat(
    service: TicketService, store: Store, settings: Settings, clock: ManualClock
) -> None:
    reference = await service.open_from_chat(
        "telegram", "4242", None, "Non riesco a scaricare il PDF della fattura", "it", clock.now()
    )
    notifier = RecordingNotifier()
    body = Path(settings.data_dir / "reply.txt")
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text("Abbiamo risolto, riprova ora.", encoding="utf-8")

    status, printed = await staff(
        settings, "reply", reference, "--body-file", str(body), notifier=notifier
    )

    assert status == 0 and reference in printed
    [(chat_id, reply)] = notifier.sent
    assert chat_id == "4242" and reference in reply.text
    assert "Abbiamo risolto, riprova ora." in reply.text
    ticket = await store.tickets.by_reference(reference)
    assert ticket is not None and ticket.status == "answered"
    assert [(b.label, b.data) for row in reply.buttons for b in row] == [
        ("✍️ Rispondi", f"tkt:r:{ticket.id}")
    ]
    assert await store.outbox.list() == []  # nothing by e-mail for a chat ticket


async def test_chat_reply_without_a_notifier_fails_visibly(
    service: TicketService, settings: Settings, clock: ManualClock
) -> None:
    reference = await service.open_from_chat("telegram", "1", None, "aiuto", "it", clock.now())
    body = settings.data_dir / "r.txt"
    body.parent.mkdir(parents=True, exist_ok=True)
    body.write_text("ok")
    status, _ = await staff(settings, "reply", reference[3:], "--body-file", str(body))
    assert status == 1


async def test_chat_follow_up_only_from_the_same_chat(
    service: TicketService, store: Store, clock: ManualClock
) -> None:
    reference = await service.open_from_chat("telegram", "7", None, "prima", "en", clock.now())
    ticket = await service.add_from_chat(reference, "telegram", "7", "seconda", clock.now())
    assert len(await store.tickets.messages(ticket.id)) == 2
    with pytest.raises(NotAllowed):
        await service.add_from_chat(reference, "telegram", "8", "intruso", clock.now())


async def test_staff_reply_to_a_mail_is_threaded_both_ways(
    settings: Settings,
    smtp_settings: Settings,
    smtp_server: SmtpServer,
    store: Store,
    clock: ManualClock,
    imap_account: ImapAccount,
    tmp_path: Path,
) -> None:
    ticket = await email_ticket(settings, store, clock, imap_account)
    [ack] = await store.outbox.list()
    body = tmp_path / "reply.txt"
    body.write_text("Ora i dati sono visibili nel bot.", encoding="utf-8")

    status, _ = await staff(settings, "reply", str(ticket.id), "--body-file", str(body))
    assert status == 0

    sender = OutboxSender(store, smtp_settings, SystemClock())  # the CLI queued it "now"
    assert await sender.send_due() == 2
    replies = [m.message() for m in smtp_server.messages]
    staff_reply = next(m for m in replies if "Ora i dati" in m.get_content())
    assert staff_reply["To"] == "mario.rossi@example.it"
    assert staff_reply["Subject"] == f"Re: Problema di accesso [{ticket.reference}]"
    assert staff_reply["In-Reply-To"] == "<cust-1@example.it>"
    assert staff_reply["References"].split() == ["<cust-1@example.it>", ack.message_id]
    assert staff_reply["Auto-Submitted"] is None  # a person wrote it
    answered = await store.tickets.get(ticket.id)
    assert answered is not None and answered.status == "answered"

    # ...and the customer's answer to it comes back into the same ticket, reopening it
    imap_account.append(
        mail("Grazie, ora va.", subject="Re: risposta", in_reply_to=staff_reply["Message-ID"])
    )
    worker = make_worker(settings, store, clock)
    try:
        await worker.process_once()
    finally:
        await worker.aclose()
    assert [t.id for t in await store.tickets.recent()] == [ticket.id]
    reopened = await store.tickets.get(ticket.id)
    assert reopened is not None and reopened.status == "open"


async def test_list_show_close(
    settings: Settings, store: Store, clock: ManualClock, imap_account: ImapAccount
) -> None:
    ticket = await email_ticket(settings, store, clock, imap_account)

    status, listing = await staff(settings, "list", "--open")
    assert status == 0 and ticket.reference in listing and "open" in listing

    status, shown = await staff(settings, "show", ticket.reference)
    assert status == 0 and "Non vedo i miei dati." in shown and "<cust-1@example.it>" in shown

    status, _ = await staff(settings, "close", ticket.reference)
    assert status == 0
    _, listing = await staff(settings, "list", "--open")
    assert ticket.reference not in listing
    _, listing = await staff(settings, "list")
    assert ticket.reference in listing and "closed" in listing

    status, _ = await staff(settings, "show", "999999")
    assert status == 1


async def test_list_reports_quarantined_mail_and_failing_addresses(
    settings: Settings, store: Store, clock: ManualClock, imap_account: ImapAccount
) -> None:
    raw = mail("explode")
    imap_account.append(raw)
    worker = make_worker(settings, store, clock)
    try:
        await worker.process_once()
    finally:
        await worker.aclose()
    await store.inbound.mark_failing("old@example.it", "<x@test>", "5.1.1", clock.now())
    _, listing = await staff(settings, "list")
    assert "Quarantined mails" in listing and "RuntimeError" in listing
    assert "old@example.it" in listing and "5.1.1" in listing

    [quarantined] = await store.inbound.recent("quarantined")
    assert f"mail {quarantined.id}:" in listing
    target = settings.db_path.parent / "quarantined.eml"
    status, said = await staff(settings, "mail", str(quarantined.id), "--out", str(target))
    assert status == 0 and str(target) in said
    assert target.read_bytes().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")
    assert (await staff(settings, "mail", "9999", "--out", str(target)))[0] == 1


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Domanda", "Re: Domanda [AC-123456]"),
        ("Re: R: RE: Domanda [AC-123456]", "Re: Domanda [AC-123456]"),
        ("Fwd: Domanda", "Re: Domanda [AC-123456]"),
        ("", "Re: Richiesta [AC-123456]"),
    ],
)
def test_reply_subject(subject: str, expected: str) -> None:
    assert reply_subject(subject, "AC-123456", "Richiesta") == expected
