"""Raw .eml fixtures (tests/data/mail) paired with the values expected from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from assistant.ticket_mail import ticket_reference
from mailbox.inbound.parse import parse_mail
from mailbox.inbound.question import find_question
from mailbox.inbound.triage import (
    ACCOUNT_DATA,
    automatic_reason,
    detect_language,
    is_failure_report,
)

DATA = Path(__file__).parent / "data" / "mail"
FIXTURES = sorted(path.stem for path in DATA.glob("*.eml"))
OWN = ("areaclienti@localhost", "areaclienti.ls@bancopopolare.it")


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    """The raw bytes of a fixture and its expected values."""
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return (DATA / f"{name}.eml").read_bytes(), expected


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_parses_to_its_expected_values(name: str) -> None:
    raw, expected = load(name)
    mail = parse_mail(raw)
    plain = {
        "message_id": mail.message_id,
        "sender": mail.sender,
        "sender_name": mail.sender_name,
        "reply_to": mail.reply_to,
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
        "in_reply_to": list(mail.in_reply_to),
        "references": list(mail.references),
        "new_text": mail.new_text,
        "bounced_message_ids": list(mail.bounced_message_ids),
        "bounced_recipients": list(mail.bounced_recipients),
        "bounce_status": mail.bounce_status,
        "content_type": mail.content_type,
        "report_type": mail.report_type,
    }
    for key, value in expected.items():
        if key in plain:
            assert plain[key] == value, key
    if "text_contains" in expected:
        assert expected["text_contains"] in mail.text
    if "text_excludes" in expected:
        assert expected["text_excludes"] not in mail.text
    if "defects_min" in expected:
        assert mail.defects >= expected["defects_min"]
    if "automatic" in expected:
        assert automatic_reason(mail, OWN) == expected["automatic"]
    if "failure" in expected:
        assert is_failure_report(mail) is expected["failure"]
    if "question" in expected:
        requests = find_question(mail.text, mail.subject).requests
        assert " ".join(r.text for r in requests) == expected["question"]
    if "language" in expected:
        assert detect_language(f"{mail.subject}\n{mail.new_text}") == expected["language"]
    if "reference" in expected:
        assert ticket_reference(mail.subject) == expected["reference"]
    if "asks_for_account_data" in expected:
        found = bool(ACCOUNT_DATA.search(f"{mail.subject}\n{mail.new_text}"))
        assert found is expected["asks_for_account_data"]


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x00\x01\x02 not a mail at all \xff\xfe",
        b"Subject: =?utf-8?B?!!!?=\n\n",
        b"From: <<<@>>>\nMessage-ID: no brackets here\nDate: yesterday-ish\n\nbody",
        b"Content-Type: multipart/mixed; boundary=\n\n--\n--\n",
        b"Content-Type: multipart/alternative; boundary=a\n\n--a\nContent-Type: multipart/mixed;"
        b" boundary=a\n\n--a\n--a--\n" * 50,
        b"From: a@b.it\nSubject: " + b"x" * 100_000 + b"\n\n" + b"y" * 200_000,
        "From: Zoë <zoe@example.it>\nSubject: ünïcödé raw\n\nçà".encode(),
    ],
)
def test_hostile_input_never_raises(raw: bytes) -> None:
    mail = parse_mail(raw)
    assert len(mail.subject) <= 300
    assert "\x00" not in mail.text
    mail.text.encode("utf-8")  # no surrogates left: the store can hold it


def test_own_address_is_never_answered() -> None:
    mail = parse_mail(b"From: Area Clienti <areaclienti@localhost>\nSubject: x\n\ny")
    assert automatic_reason(mail, OWN) == "own address"


def test_auto_submitted_no_is_a_person() -> None:
    mail = parse_mail(b"From: p@example.it\nAuto-Submitted: no\nSubject: x\n\ny")
    assert automatic_reason(mail, OWN) is None


def test_header_only_mail_keeps_headers_and_no_body() -> None:
    raw, _ = load("plain_it")
    header = raw.split(b"\n\n", 1)[0] + b"\n\n"
    mail = parse_mail(header, size=40_000_000, header_only=True)
    assert mail.header_only and mail.size == 40_000_000
    assert mail.subject == "Password non arrivata" and mail.text == ""
