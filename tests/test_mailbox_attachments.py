"""Attachments of incoming mail for staff: which parts they are, their hostile names made safe,
the limits (with a note to the sender), ``tickets show`` and ``tickets attachment N K``."""

from __future__ import annotations

import dataclasses
import io
import os
import stat
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from mailbox.inbound.attachments import (
    TOO_LARGE,
    TOO_MANY,
    Attachment,
    attachment_bytes,
    refused_attachments,
    safe_filename,
)
from mailbox.inbound.batch import PreparedMail, prepare
from mailbox.inbound.imap import FetchedMail
from mailbox.inbound.ledger import MailLedger
from mailbox.inbound.parse import parse_mail
from main import build_parser
from store.store import Store
from tests.fixtures.commands import run_tickets
from tests.mailbox_support import keyword_answer

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 300
HOSTILE_NAME = "../../\x1b]0;pwned\x07fattura\u202efdp.exe"


@pytest.mark.parametrize(
    ("name", "kind", "expected"),
    [
        ("Visura camerale.pdf", "application/pdf", "Visura camerale.pdf"),
        ("../../etc/passwd", "text/plain", "passwd"),
        ("..\\..\\Windows\\System32\\cmd.exe", "application/octet-stream", "cmd.exe"),
        ("\x1b]0;pwned\x07\x1b[2Jscan.pdf", "application/pdf", "]0;pwned[2Jscan.pdf"),
        ("fattura\u202efdp.exe", "application/pdf", "fatturafdp.exe"),
        ("riepilogo\u200b\u2066.pdf\u2069", "application/pdf", "riepilogo.pdf"),
        ('a:b*c?d<e>f|g".pdf', "application/pdf", "a_b_c_d_e_f_g_.pdf"),
        ("  .bashrc  ", "text/plain", "bashrc"),
        ("CON.txt", "text/plain", "_CON.txt"),
        ("riga\nnuova\r\t.pdf", "application/pdf", "riga nuova .pdf"),
        ("=?UTF-8?B?RmF0dHVyYSDigJMgbWFyem8ucGRm?=", "application/pdf", "Fattura – marzo.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 116 + ".pdf"),
        ("..", "application/pdf", "attachment-3.pdf"),
        (None, "image/png", "attachment-3.png"),
        ("", "application/x-unknown-thing", "attachment-3.bin"),
    ],
)
def test_hostile_file_names_are_made_plain(name: str | None, kind: str, expected: str) -> None:
    safe = safe_filename(name, kind, 3)
    assert safe == expected
    assert "/" not in safe and "\\" not in safe and not safe.startswith(".")
    assert all(ord(c) >= 32 and c not in "\u202e\u2066\u2069\u200b" for c in safe)


def customer_mail(
    *,
    sender: str = "mario.rossi@example.it",
    in_reply_to: str | None = None,
    attachments: bool = True,
) -> EmailMessage:
    """A mail as a phone or Outlook sends it: text, HTML with an inline logo, a photo, a PDF."""
    message = EmailMessage()
    message["From"] = f"Mario Rossi <{sender}>"
    message["To"] = "areaclienti.ls@bancopopolare.it"
    message["Subject"] = "Documenti per il contratto"
    message["Message-ID"] = make_msgid(domain="example.it")
    if in_reply_to:
        message["In-Reply-To"] = message["References"] = in_reply_to
    message.set_content("Buongiorno, allego i documenti richiesti.")
    if not attachments:
        return message
    message.add_alternative(
        "<p>Buongiorno, allego i documenti.</p><img src='cid:logo'>", subtype="html"
    )
    html = next(part for part in message.iter_parts() if part.get_content_subtype() == "html")
    assert isinstance(html, EmailMessage)
    html.add_related(PNG, maintype="image", subtype="png", cid="<logo>")  # no file name
    message.add_attachment(PNG, "image", "jpeg", filename="IMG_0001.jpeg", disposition="inline")
    message.add_attachment(PDF, maintype="application", subtype="pdf", filename=HOSTILE_NAME)
    return message


def test_the_attachments_are_the_parts_that_are_not_the_text() -> None:
    message = customer_mail()
    forwarded = EmailMessage()
    forwarded["Subject"] = "Fwd: il contratto"
    forwarded.set_content("testo inoltrato")
    message.add_attachment(forwarded)  # an attached message: one attachment, not opened
    mail = parse_mail(message.as_bytes())
    listed = [(a.number, a.filename, a.content_type, a.size) for a in mail.attachments]
    assert listed == [
        (1, "attachment-1.png", "image/png", len(PNG)),
        (2, "IMG_0001.jpeg", "image/jpeg", len(PNG)),
        (3, "]0;pwnedfatturafdp.exe", "application/pdf", len(PDF)),
        (4, "Fwd_ il contratto.eml", "message/rfc822", mail.attachments[3].size),
    ]
    assert mail.text == "Buongiorno, allego i documenti richiesti."
    raw = message.as_bytes()
    assert attachment_bytes(raw, 3, mail.attachments[2].sha256) == PDF
    assert attachment_bytes(raw, 1, mail.attachments[2].sha256) == PDF  # found by its hash
    assert attachment_bytes(raw, 3, "0" * 64) is None


def test_a_signature_and_report_parts_are_not_attachments() -> None:
    signed = EmailMessage()
    signed["From"] = "a@example.it"
    signed.set_content("firmato")
    signed.make_mixed()
    signed.set_type("multipart/signed")
    signed.attach(_part(b"0\x82\x01", "application", "pkcs7-signature", "smime.p7s"))
    assert parse_mail(signed.as_bytes()).attachments == ()
    report = (Path(__file__).parent / "data" / "mail" / "dsn_bounce.eml").read_bytes()
    assert parse_mail(report).attachments == ()


def _part(data: bytes, maintype: str, subtype: str, filename: str) -> EmailMessage:
    part = EmailMessage()
    part.set_content(data, maintype=maintype, subtype=subtype, filename=filename)
    return part


def test_limits_refuse_the_large_ones_then_those_past_the_count() -> None:
    def one(number: int, size: int) -> Attachment:
        return Attachment(number, f"f{number}", "application/pdf", size, "")

    attachments = [one(1, 50), one(2, 5000), one(3, 10), one(4, 10)]
    assert refused_attachments(attachments, max_bytes=100, max_count=2) == {
        2: TOO_LARGE,
        4: TOO_MANY,
    }
    assert refused_attachments(attachments, max_bytes=10**6, max_count=10) == {}


def prepared(*raws: bytes) -> list[PreparedMail]:
    fetched = [FetchedMail(n, len(raw), raw, False) for n, raw in enumerate(raws, 1)]
    return prepare(fetched, 10**7, ())


async def record(store: Store, settings: Settings, clock: ManualClock, *raws: bytes) -> list[str]:
    texts = Texts(settings.templates_dir)
    ledger = MailLedger(
        settings, TicketService(store, texts, settings), keyword_answer, lambda point: None
    )
    batch = prepared(*raws)
    return [
        r.outcome for r in await store.inbound.record_batch(ledger.record, 7, batch, clock.now())
    ]


def limited(settings: Settings, *, count: int = 2, auto_reply_limit: int = 5) -> Settings:
    """Limits a test mail reaches: 1 KiB an attachment, ``count`` a mail."""
    return dataclasses.replace(
        settings,
        attachment_max_bytes=1024,
        attachments_max_count=count,
        auto_reply_limit=auto_reply_limit,
    )


async def tickets(settings: Settings, *argv: str) -> tuple[int, str]:
    """``main.py tickets ARGV`` in this process: exit status and what it printed."""
    out = io.StringIO()
    args = build_parser().parse_args(["tickets", *argv])
    return await run_tickets(settings, args, out=out), out.getvalue()


async def test_staff_see_the_attachments_and_write_one_out_of_the_kept_mail(
    store: Store, settings: Settings, clock: ManualClock, tmp_path: Path
) -> None:
    settings = limited(settings)
    assert await record(store, settings, clock, customer_mail().as_bytes()) == ["ticket"]
    [ticket] = await store.tickets.recent()

    status, shown = await tickets(settings, "show", ticket.reference)
    assert status == 0
    assert "attachment 1: attachment-1.png  image/png  308 B" in shown
    assert "attachment 2: IMG_0001.jpeg  image/jpeg  308 B" in shown
    assert "attachment 3: ]0;pwnedfatturafdp.exe  application/pdf  2.0 KB  NOT ACCEPTED" in shown
    assert f"tickets attachment {ticket.reference} K --out FILE" in shown
    assert "\x1b" not in shown and "\u202e" not in shown

    folder = tmp_path / "saved"
    folder.mkdir()
    status, said = await tickets(
        settings, "attachment", ticket.reference, "2", "--out", str(folder)
    )
    assert status == 0 and "written to" in said
    saved = folder / "IMG_0001.jpeg"
    assert saved.read_bytes() == PNG
    assert stat.S_IMODE(saved.stat().st_mode) == 0o600  # never executable, the owner's only

    status, _ = await tickets(settings, "attachment", ticket.reference, "2", "--out", str(folder))
    assert status == 1 and saved.read_bytes() == PNG  # an existing file is never overwritten
    chosen = tmp_path / "logo.png"
    assert (await tickets(settings, "attachment", str(ticket.id), "1", "--out", str(chosen)))[
        0
    ] == 0
    assert chosen.read_bytes() == PNG
    for number in ("3", "4", "0"):  # refused (over 1 KiB), not there, not a number staff see
        status, _ = await tickets(
            settings, "attachment", ticket.reference, number, "--out", str(folder)
        )
        assert status == 1
    assert sorted(os.listdir(folder)) == ["IMG_0001.jpeg"]


async def test_the_sender_is_told_which_limits_their_attachments_broke(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    settings = limited(settings, count=1)
    await record(store, settings, clock, customer_mail().as_bytes())
    [ticket] = await store.tickets.recent()
    mails = {m.kind: m for m in await store.outbox.list()}
    assert set(mails) == {"ticket_acknowledgement", "ticket_attachments_refused"}
    note = mails["ticket_attachments_refused"]
    assert note.recipient == "mario.rossi@example.it" and ticket.reference in note.subject
    assert "2 allegati non sono stati accettati" in note.body_text
    assert "un allegato supera il limite di 1 KB per allegato;" in note.body_text
    assert "un allegato supera il numero massimo di 1 allegati" in note.body_text
    assert "fattura" not in note.body_text  # no file name is sent back
    assert note.headers["Auto-Submitted"] == "auto-replied"
    kinds = [m.kind for m in await store.tickets.messages(ticket.id)]
    assert kinds == ["message", "acknowledgement", "attachments_refused"]


async def test_a_reply_with_a_refused_attachment_gets_only_the_note(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    settings = limited(settings)
    first = customer_mail(attachments=False)
    again = customer_mail(in_reply_to=first["Message-ID"])
    assert await record(store, settings, clock, first.as_bytes(), again.as_bytes()) == [
        "ticket",
        "reply",
    ]
    kinds = sorted(m.kind for m in await store.outbox.list())
    assert kinds == ["ticket_acknowledgement", "ticket_attachments_refused"]


async def test_the_note_respects_the_loop_guard(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    settings = limited(settings, auto_reply_limit=1)  # room for the acknowledgement only
    await record(store, settings, clock, customer_mail().as_bytes())
    assert [m.kind for m in await store.outbox.list()] == ["ticket_acknowledgement"]


async def test_within_the_limits_nothing_is_refused_and_no_note_is_sent(
    store: Store, settings: Settings, clock: ManualClock
) -> None:
    await record(store, settings, clock, customer_mail().as_bytes())
    [ticket] = await store.tickets.recent()
    assert [a.refused for a in await store.inbound.ticket_attachments(ticket.id)] == ["", "", ""]
    assert [m.kind for m in await store.outbox.list()] == ["ticket_acknowledgement"]
