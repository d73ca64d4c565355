"""A company writes by PEC, end to end against Dovecot and aiosmtpd.

The provider's envelope is opened and the question inside answered (or ticketed), the answer
goes out by SMTP to the PEC box the company wrote from, and the receipts that follow
(acceptance by our provider, delivery by theirs, or a failed delivery) are recorded against
our mail and never answered. The raw mails are the fixtures of tests/data/pec (two providers'
layouts); a receipt is made to certify our real answer by ``certifying``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import AsyncIterator
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from mailbox.inbound.worker import MailboxWorker
from mailbox.outbound.sender import OutboxSender
from main import build_parser
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.commands import run_tickets
from tests.fixtures.dovecot import ImapAccount
from tests.fixtures.smtp import SmtpServer
from tests.mailbox_support import mailbox_settings, make_worker

PEC = Path(__file__).parent / "data" / "pec"
FIXTURE_REPLY = "reply-1@test.areaclienti"  # the answer of ours the receipt fixtures certify
ROSSI = "amministrazione@pec.rossisrl.it"
BIANCHI = "contabilita@legalmail.it"
RECEIPTS = sorted(
    p.stem for p in PEC.glob("*.eml") if "envelope" not in p.stem and "anomalia" not in p.stem
)


def fixture(name: str) -> bytes:
    return (PEC / f"{name}.eml").read_bytes()


def certifying(name: str, message_id: str) -> bytes:
    """The receipt fixture ``name``, made to certify our mail ``message_id``: its
    X-Riferimento-Message-ID, the <msgid> of its daticert.xml and the original it quotes."""
    msg = message_from_bytes(fixture(name), policy=compat32)
    bare = message_id.strip("<>")
    if msg["X-Riferimento-Message-ID"]:
        msg.replace_header("X-Riferimento-Message-ID", message_id)
    for part in msg.walk():
        if part.get_filename() == "daticert.xml":
            xml = part.get_payload(decode=True)
            assert isinstance(xml, bytes)
            xml = xml.replace(FIXTURE_REPLY.encode(), bare.encode())
            encoded = str(part["Content-Transfer-Encoding"]).lower() == "base64"
            part.set_payload(base64.encodebytes(xml).decode() if encoded else xml.decode())
        elif part["Message-ID"] == f"<{FIXTURE_REPLY}>" and part is not msg:
            part.replace_header("Message-ID", message_id)
    return msg.as_bytes()


@pytest.fixture
def settings(tmp_path: Path, imap_account: ImapAccount) -> Settings:
    """Our support box is a PEC box too: the receipts of our answers come back to it."""
    return mailbox_settings(
        tmp_path, imap_account, SUPPORT_ADDRESS="areaclienti.ls@pec.bancopopolare.it"
    )


@pytest.fixture
async def worker(
    settings: Settings, store: Store, clock: ManualClock
) -> AsyncIterator[MailboxWorker]:
    """The worker with the stand-in FAQ (questions about the password get that answer)."""
    made = make_worker(settings, store, clock)
    yield made
    await made.aclose()


async def send_answers(
    store: Store, settings: Settings, smtp: SmtpServer, clock: ManualClock
) -> int:
    """The outbox sender delivers what is due to the SMTP server."""
    return await OutboxSender(store, smtp.settings_for(settings), clock).send_due()


async def show(settings: Settings, reference: str) -> str:
    """``python main.py tickets show REFERENCE`` as staff read it."""
    out = io.StringIO()
    args = build_parser().parse_args(["tickets", "show", reference])
    assert await run_tickets(settings, args, out=out) == 0
    return out.getvalue()


def header(mail: Message, name: str) -> str:
    return str(mail[name] or "")


async def test_a_pec_question_is_answered_at_the_pec_box_and_its_receipts_recorded(
    worker: MailboxWorker,
    store: Store,
    settings: Settings,
    clock: ManualClock,
    area: AreaData,
    imap_account: ImapAccount,
    smtp_server: SmtpServer,
) -> None:
    company = await area.customer("Rossi S.r.l.", kind="company")
    await area.account(company, email=ROSSI)  # a company registers with its PEC address
    imap_account.append(fixture("aruba_envelope"))

    assert await worker.process_once() == 1

    [record] = await store.inbound.recent()
    assert record.outcome == "faq"
    [ticket] = await store.tickets.recent()
    assert (ticket.contact, ticket.customer_id, ticket.status) == (ROSSI, company, "auto_answered")
    assert ticket.subject == "Richiesta credenziali area clienti"  # not "POSTA CERTIFICATA: ..."
    question = (await store.tickets.messages(ticket.id))[0]
    assert "non abbiamo mai ricevuto la password temporanea" in question.body
    assert "posta certificata" not in question.body.lower()
    [answer] = await store.outbox.list()
    assert answer.recipient == ROSSI and answer.kind == "ticket_faq"
    assert answer.headers["In-Reply-To"] == "<000a01da7460$5e2c1b40$1a8451c0$@pec.rossisrl.it>"
    assert "ANSWER[password-non-ricevuta/it]" in answer.body_text

    assert await send_answers(store, settings, smtp_server, clock) == 1
    [sent] = await smtp_server.wait_for(1)
    assert sent.rcpt_tos == (ROSSI,)
    assert header(sent.message(), "Message-ID") == answer.message_id

    # our provider accepts the answer, theirs delivers it: both receipts reach our PEC box
    imap_account.append_many(
        [
            certifying("legalmail_accettazione", answer.message_id),
            certifying("aruba_avvenuta_consegna", answer.message_id),
        ]
    )
    assert await worker.process_once() == 2

    outcomes = [(r.outcome, r.detail) for r in await store.inbound.recent()]
    assert outcomes[:2] == [("automatic", "pec receipt")] * 2
    assert [m.id for m in await store.outbox.list()] == [answer.id]  # no answer to a receipt
    assert await store.tickets.recent() == [ticket]
    receipts = await store.inbound.receipts_for([answer.message_id])
    assert [(r.kind, r.outbox_id) for r in receipts] == [
        ("accettazione", answer.id),
        ("avvenuta-consegna", answer.id),
    ]
    assert receipts[1].delivered_to == (ROSSI,)
    assert await send_answers(store, settings, smtp_server, clock) == 0
    assert len(smtp_server.messages) == 1
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 3

    shown = await show(settings, ticket.reference)
    assert (
        f"by PEC from {ROSSI}, certified by ARUBA PEC S.p.A. on 2024-03-12 at 10:42:33 +0100"
    ) in shown
    assert "attachment 1: image001.png  image/png  427 B" in shown  # the signature's logo
    assert "PEC accettazione: accepted by our PEC provider on 2024-03-12 at 10:44:02" in shown
    assert (
        f"PEC avvenuta-consegna: delivered to the PEC box of {ROSSI} on 2024-03-12 at 10:44:05"
    ) in shown


async def test_a_failed_pec_delivery_of_our_answer_marks_the_address_like_a_bounce(
    worker: MailboxWorker,
    store: Store,
    settings: Settings,
    clock: ManualClock,
    area: AreaData,
    imap_account: ImapAccount,
    smtp_server: SmtpServer,
) -> None:
    account = await area.account(await area.customer("Bianchi Snc", kind="company"), email=BIANCHI)
    imap_account.append(fixture("legalmail_envelope"))  # early payoff: a person must answer
    await worker.process_once()
    [ticket] = await store.tickets.recent()
    assert (ticket.contact, ticket.status) == (BIANCHI, "open")
    [ack] = await store.outbox.list()
    assert (ack.kind, ack.recipient) == ("ticket_acknowledgement", BIANCHI)
    await send_answers(store, settings, smtp_server, clock)
    assert (await smtp_server.wait_for(1))[0].rcpt_tos == (BIANCHI,)

    imap_account.append_many(
        [
            certifying("legalmail_non_accettazione", ack.message_id),
            certifying("aruba_preavviso_errore_consegna", ack.message_id),
        ]
    )
    await worker.process_once()
    assert await store.inbound.failing(BIANCHI) is None  # neither says the address is wrong

    imap_account.append(certifying("legalmail_errore_consegna", ack.message_id))
    await worker.process_once()

    [record, *_] = await store.inbound.recent()
    assert (record.outcome, record.detail) == ("bounce", "bounce (pec receipt)")
    failure = await store.inbound.failing(BIANCHI)
    assert failure is not None and (failure.message_id, failure.status) == (ack.message_id, "5.1.1")
    marked = await store.accounts.get(account)
    assert marked is not None and marked.email_failed_at is not None  # the bot will ask
    assert [m.id for m in await store.outbox.list()] == [ack.id]
    shown = await show(settings, ticket.reference)
    assert f"PEC errore-consegna: NOT DELIVERED to {BIANCHI} on 2024-03-12 at 11:06:41" in shown
    assert "casella inesistente" in shown
    assert "attachment 1: Delega estinzione – LS0012345.pdf" in shown


async def test_no_receipt_of_any_kind_is_ever_answered(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    """Even when the receipts name no mail of ours (a loop needs only one answer to start)."""
    imap_account.append_many([fixture(name) for name in RECEIPTS])
    assert await worker.process_once() == len(RECEIPTS)
    assert {r.outcome for r in await store.inbound.recent()} == {"automatic"}
    assert await store.outbox.list() == []
    assert await store.tickets.recent() == []


async def test_an_uncertified_mail_to_the_pec_box_is_answered_at_its_sender(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(fixture("aruba_anomalia"))
    await worker.process_once()
    [ack] = await store.outbox.list()
    assert ack.recipient == "john.smith.leasing@gmail.com"
    assert ack.body_text.startswith("Dear Customer")  # the language of the mail inside
