"""The message bytes written without ``EmailMessage`` parse to what the row says."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parsedate_to_datetime
from typing import cast

import pytest

from assistant.settings import Settings
from mailbox.outbound.compose import build_message, message_bytes
from store.records import OutboxMail

LONG_SUBJECT = (
    "Area Clienti: è disponibile la fattura n. 2025/000123 del contratto 00012345/01 – perché "
    "la vede solo ora? Più dettagli nell'area riservata, sezione «Documenti»"
)
BODY = "Gentile cliente,\nè disponibile la fattura di 456,78 €.\n\nCordiali saluti\n"
HTML = "<p>Gentile cliente,</p>\n<p>è disponibile la <b>fattura</b> di 456,78 €.</p>"


def outbox_mail(**overrides: object) -> OutboxMail:
    """A row as the store returns it, with accents everywhere they can be."""
    fields: dict[str, object] = {
        "id": 42,
        "message_id": "<20260115090000.1.2@test.areaclienti>",
        "dedup_key": None,
        "kind": "notice",
        "recipient": "Mario Rössi <mario.rossi@example.it>",
        "subject": LONG_SUBJECT,
        "body_text": BODY,
        "body_html": HTML,
        "headers": {"In-Reply-To": "<q1@example.it>", "X-Pratica": "Sì, la n° 7"},
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": datetime(2026, 1, 15, 9, tzinfo=UTC),
        "last_error": None,
        "created_at": datetime(2026, 1, 15, 9, tzinfo=UTC),
        "sent_at": None,
    }
    fields.update(overrides)
    return OutboxMail(**fields)  # type: ignore[arg-type]


def parsed(data: bytes) -> EmailMessage:
    """The bytes read the way a mail client reads them (CRLF as plain line ends)."""
    data = data.replace(b"\r\n", b"\n")
    return cast(EmailMessage, BytesParser(policy=policy.default).parsebytes(data))


def reference(mail: OutboxMail, settings: Settings) -> EmailMessage:
    """The same message built the slow, obviously right way (``EmailMessage``), parsed back."""
    message = EmailMessage(policy=policy.default)
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Auto-Submitted"] = "auto-generated"
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(mail.body_text, charset="utf-8")
    if mail.body_html:
        message.add_alternative(mail.body_html, subtype="html", charset="utf-8")
    return parsed(message.as_bytes())


@pytest.mark.parametrize("eight_bit", [True, False])
def test_fast_message_parses_to_the_same_headers_and_bodies(
    settings: Settings, eight_bit: bool
) -> None:
    settings = dataclasses.replace(settings, mail_from="Área Clienti <areaclienti@localhost>")
    mail = outbox_mail()
    data = message_bytes(mail, settings, eight_bit=eight_bit)

    head, _ = data.split(b"\r\n\r\n", 1)
    assert head.isascii()  # RFC 2047 for every accented header
    assert all(len(line) <= 78 for line in head.split(b"\r\n"))  # folded
    assert b"\n" not in data.replace(b"\r\n", b"")  # CRLF only
    assert data.isascii() is not eight_bit  # 8bit bodies only where the server takes them

    message, expected = parsed(data), reference(mail, settings)
    for name in ("Message-ID", "From", "To", "Subject", "Auto-Submitted", "In-Reply-To"):
        assert message[name] == expected[name], name
    assert message["Subject"] == LONG_SUBJECT
    assert message["To"].addresses[0].display_name == "Mario Rössi"
    assert message["X-Pratica"] == "Sì, la n° 7"
    assert parsedate_to_datetime(message["Date"]) == mail.created_at
    assert message.get_content_type() == "multipart/alternative"
    plain, html = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None and html is not None
    assert plain.get_content_charset() == html.get_content_charset() == "utf-8"
    assert plain.get_content() == BODY
    assert html.get_content() == HTML + "\n"
    expected_html = expected.get_body(("html",))
    assert expected_html is not None and html.get_content() == expected_html.get_content()
    assert not message.defects and not plain.defects and not html.defects


def test_plain_ascii_text_only_and_very_long_lines(settings: Settings) -> None:
    long_line = "x" * 1500 + " è"
    simple = outbox_mail(
        recipient="anna@example.it",
        subject="Codice",
        body_text="Il codice: 123456\n",
        body_html=None,
        headers={"Auto-Submitted": ""},
    )
    data = message_bytes(simple, settings)
    message = parsed(data)
    assert (message["To"], message["Subject"]) == ("anna@example.it", "Codice")
    assert b"Subject: Codice\r\n" in data and "Auto-Submitted" not in message
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == "Il codice: 123456\n"

    long = parsed(message_bytes(outbox_mail(body_text=long_line, body_html=None), settings))
    assert long["Content-Transfer-Encoding"] == "quoted-printable"  # SMTP lines end at 998
    assert long.get_content() == long_line + "\n"


def test_same_row_same_bytes_with_html_and_build_message_agrees(settings: Settings) -> None:
    mail = outbox_mail()
    assert message_bytes(mail, settings) == message_bytes(mail, settings)  # fixed boundary
    assert build_message(mail, settings)["Subject"] == LONG_SUBJECT


@pytest.mark.parametrize(
    "overrides",
    [
        {"subject": "Avviso\r\nBcc: x@evil.example"},
        {"recipient": "a@example.it\nBcc: x@evil.example"},
        {"headers": {"References": "<a@b>\r\nBcc: x@evil.example"}},
    ],
)
def test_a_line_break_in_a_header_cannot_inject_headers(
    settings: Settings, overrides: dict[str, object]
) -> None:
    with pytest.raises(ValueError):
        message_bytes(outbox_mail(**overrides), settings)
