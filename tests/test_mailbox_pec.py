"""PEC: raw envelopes and receipts of two providers' layouts (tests/data/pec) paired with the
values expected from them; ``daticert.xml`` read defensively."""

from __future__ import annotations

import json
from base64 import b64decode
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from mailbox.inbound.parse import parse_mail
from mailbox.inbound.pec import RECEIPT_KINDS, read_daticert
from mailbox.inbound.triage import automatic_reason, detect_language, is_failure_report, triage

DATA = Path(__file__).parent / "data" / "pec"
FIXTURES = sorted(path.stem for path in DATA.glob("*.eml"))
OWN = ("areaclienti.ls@pec.bancopopolare.it",)


def load(name: str) -> tuple[bytes, dict[str, Any]]:
    """The raw bytes of a fixture and its expected values."""
    expected = json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))
    return (DATA / f"{name}.eml").read_bytes(), expected


def test_every_receipt_kind_has_a_fixture() -> None:
    kinds = {load(name)[1]["pec"]["kind"] for name in FIXTURES}
    assert kinds >= RECEIPT_KINDS
    assert {"posta-certificata", "errore"} <= kinds
    assert {name.split("_")[0] for name in FIXTURES} == {"aruba", "legalmail"}


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
        "bounced_message_ids": list(mail.bounced_message_ids),
        "bounced_recipients": list(mail.bounced_recipients),
        "bounce_status": mail.bounce_status,
        "attachments": [[a.filename, a.content_type, a.size] for a in mail.attachments],
        "automatic": automatic_reason(mail, OWN),
    }
    for key, value in expected.items():
        if key in plain:
            assert plain[key] == value, key
    assert mail.pec is not None
    certificate = {
        "kind": mail.pec.kind,
        "sender": mail.pec.sender,
        "provider": mail.pec.provider,
        "certified_at": mail.pec.certified_at.isoformat() if mail.pec.certified_at else None,
        "identifier": mail.pec.identifier,
        "message_id": mail.pec.message_id,
        "refers_to": mail.pec.refers_to,
        "delivered_to": list(mail.pec.delivered_to),
        "error": mail.pec.error,
    }
    for key, value in expected["pec"].items():
        assert certificate[key] == value, f"pec.{key}"
    if "text_contains" in expected:
        assert expected["text_contains"] in mail.text
    if "text_excludes" in expected:
        assert expected["text_excludes"] not in mail.text
    if "language" in expected:
        assert detect_language(f"{mail.subject}\n{mail.new_text}") == expected["language"]
    if "failure" in expected:
        assert is_failure_report(mail) is expected["failure"]
    assert mail.defects == 0


@pytest.mark.parametrize("name", ["aruba_envelope", "legalmail_envelope", "aruba_anomalia"])
def test_an_envelope_is_triaged_as_the_customers_mail_answered_at_the_pec_box(name: str) -> None:
    raw, expected = load(name)
    seen = triage(parse_mail(raw), OWN)
    assert seen.automatic is None and not seen.failure_report
    assert seen.reply_to == expected["reply_to"] and seen.sender == expected["sender"]
    assert seen.language == expected["language"]
    assert seen.question.text and "certificata" not in seen.question.text.lower()


@pytest.mark.parametrize(
    "name", [n for n in FIXTURES if "envelope" not in n and "anomalia" not in n]
)
def test_every_receipt_is_automatic_even_with_only_its_header_read(name: str) -> None:
    raw, _ = load(name)
    header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    mail = parse_mail(header, size=len(raw), header_only=True)
    if name.endswith("headers_dropped"):  # only its daticert.xml told, and it is not read
        assert mail.pec is None and automatic_reason(mail, OWN) == "system sender"
        return
    assert mail.pec is not None and mail.pec.is_receipt
    assert automatic_reason(mail, OWN) == "pec receipt"


def test_an_envelope_over_the_size_limit_still_answers_the_pec_box() -> None:
    raw, _ = load("legalmail_envelope")
    header = raw.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n"
    mail = parse_mail(header, size=30_000_000, header_only=True)
    assert mail.pec is not None and mail.pec.kind == "posta-certificata"
    assert (mail.sender, mail.reply_to) == ("contabilita@legalmail.it",) * 2
    assert mail.subject == "Estinzione anticipata contratto LS0012345 – Bianchi Snc"
    assert automatic_reason(mail, OWN) is None and mail.attachments == ()


def test_without_reply_to_the_answer_goes_to_the_box_the_envelope_speaks_for() -> None:
    raw, _ = load("aruba_envelope")
    raw = raw.replace(b"Reply-To: amministrazione@pec.rossisrl.it\r\n", b"")
    mail = parse_mail(raw)
    assert mail.reply_to == "amministrazione@pec.rossisrl.it"  # "Per conto di: ..."


def test_a_forwarded_pec_is_an_attachment_not_an_envelope() -> None:
    raw, _ = load("aruba_envelope")
    forward = EmailMessage()
    forward["From"] = "Mario Rossi <mario.rossi@example.it>"
    forward["To"] = "areaclienti.ls@bancopopolare.it"
    forward["Subject"] = "I: POSTA CERTIFICATA: Richiesta credenziali area clienti"
    forward.set_content("Vi inoltro la PEC ricevuta.")
    forward.add_attachment(raw, maintype="message", subtype="rfc822", filename="PEC.eml")
    mail = parse_mail(forward.as_bytes())
    assert mail.pec is None and mail.sender == "mario.rossi@example.it"
    assert [(a.filename, a.content_type) for a in mail.attachments] == [
        ("PEC.eml", "message/rfc822")
    ]


def test_a_persons_mail_with_a_file_named_daticert_is_no_envelope() -> None:
    raw, _ = load("aruba_envelope")
    mail = EmailMessage()
    mail["From"] = "Mario Rossi <mario.rossi@example.it>"
    mail["Subject"] = "i dati del certificato"
    mail.set_content("In allegato.")
    daticert = raw[raw.index(b"PD94bWwg") :].split(b"\r\n\r\n", 1)[0]  # its base64 XML
    mail.add_attachment(b64decode(daticert), "application", "xml", filename="daticert.xml")
    parsed = parse_mail(mail.as_bytes())
    assert parsed.pec is None and parsed.sender == "mario.rossi@example.it"
    assert [a.filename for a in parsed.attachments] == ["daticert.xml"]


def test_an_unknown_transport_value_is_no_envelope() -> None:
    raw, _ = load("aruba_envelope")
    raw = raw.replace(b"X-Trasporto: posta-certificata", b"X-Trasporto: qualcosa")
    assert parse_mail(raw).pec is not None  # its daticert.xml still says what it is
    stripped = raw.replace(b'filename="daticert.xml"', b'filename="altro.xml"')
    stripped = stripped.replace(b'name="daticert.xml"', b'name="altro.xml"')
    assert parse_mail(stripped).pec is None


DATICERT = b"""<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE postacert SYSTEM "Postacert.dtd">
<postacert tipo="avvenuta-consegna" errore="nessuno">
  <intestazione><mittente>a@pec.it</mittente></intestazione>
  <dati><msgid>&lt;x@y&gt;</msgid><consegna>b@pec.it</consegna></dati>
</postacert>"""


def test_daticert_is_read_with_its_doctype_ignored() -> None:
    data = read_daticert(DATICERT)
    assert data is not None
    assert data.attributes["postacert"]["tipo"] == "avvenuta-consegna"
    assert (data.first("mittente"), data.first("msgid"), data.first("consegna")) == (
        "a@pec.it",
        "<x@y>",
        "b@pec.it",
    )


@pytest.mark.parametrize(
    "xml",
    [
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaaaaaaaa">'
            b'<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;">]>'
            b'<postacert tipo="accettazione"><mittente>&c;</mittente></postacert>',
            id="entity expansion",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<postacert tipo="accettazione"><mittente>&x;</mittente></postacert>',
            id="external entity",
        ),
        pytest.param(
            b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY % x SYSTEM "http://example.com/x">%x;]>'
            b'<postacert tipo="accettazione"/>',
            id="parameter entity",
        ),
        pytest.param(b"<postacert>" + b"<a/>" * 600 + b"</postacert>", id="too many elements"),
        pytest.param(b"<postacert>" + b"x" * 70_000 + b"</postacert>", id="too large"),
        pytest.param(b"<postacert tipo='accettazione'><mittente>", id="truncated"),
        pytest.param(b"\xff\xfe not xml at all", id="not xml"),
        pytest.param(b"", id="empty"),
    ],
)
def test_hostile_or_broken_daticert_is_refused(xml: bytes) -> None:
    assert read_daticert(xml) is None


def test_a_receipt_with_a_hostile_daticert_is_still_automatic_and_marks_nothing() -> None:
    raw, _ = load("legalmail_errore_consegna")
    head, _, rest = raw.partition(b"<?xml")
    hostile = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><postacert tipo="x"/>'
    raw = head + hostile + rest[rest.index(b"</postacert>") + len(b"</postacert>") :]
    mail = parse_mail(raw)
    assert mail.pec is not None and mail.pec.kind == "errore-consegna"  # from X-Ricevuta
    assert mail.pec.sender == "" and mail.pec.refers_to == "<reply-1@test.areaclienti>"
    assert automatic_reason(mail, OWN) == "pec receipt"
    assert mail.bounced_message_ids == ("<reply-1@test.areaclienti>",)
    assert mail.bounced_recipients == ()  # whom it failed for is unknown: the outbox tells
