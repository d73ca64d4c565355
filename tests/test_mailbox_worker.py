"""The support mailbox worker against a real Dovecot: what each kind of mail leads to."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.errors import FaqUnavailable
from assistant.settings import Settings
from mailbox.inbound.worker import MailboxWorker
from store.store import Store
from tests.fixtures.area_data import AreaData
from tests.fixtures.dovecot import ImapAccount
from tests.mailbox_support import fixture_bytes, mail, mailbox_settings, make_worker

AUTOMATIC = [
    "out_of_office",
    "precedence_bulk",
    "mailing_list",
    "x_autoreply",
    "exchange_suppress",
    "noreply_sender",
    "dsn_delayed",
]


@pytest.fixture
def settings(tmp_path: Path, imap_account: ImapAccount) -> Settings:
    """The conftest settings, with IMAP_* pointing at this test's Dovecot user."""
    return mailbox_settings(tmp_path, imap_account)


@pytest.fixture
async def worker(
    settings: Settings, store: Store, clock: ManualClock
) -> AsyncIterator[MailboxWorker]:
    """A worker with the stand-in FAQ."""
    made = make_worker(settings, store, clock)
    yield made
    await made.aclose()


async def test_new_mail_opens_a_ticket_and_acknowledges_it_in_thread(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount, settings: Settings
) -> None:
    raw = mail(message_id="<first@example.it>")
    imap_account.append(raw)

    assert await worker.process_once() == 1

    [ticket] = await store.tickets.recent()
    assert (ticket.channel, ticket.contact, ticket.status) == (
        "email",
        "mario.rossi@example.it",
        "open",
    )
    assert ticket.reference.startswith("AC-") and len(ticket.reference) == 9
    [ack] = await store.outbox.list()
    assert ack.kind == "ticket_acknowledgement"
    assert ack.recipient == "mario.rossi@example.it"
    assert ack.subject == f"Re: Problema di accesso [{ticket.reference}]"
    assert ack.headers["In-Reply-To"] == "<first@example.it>"
    assert ack.headers["References"] == "<first@example.it>"
    assert ack.headers["Auto-Submitted"] == "auto-replied"
    assert ticket.reference in ack.body_text and "Gentile Cliente" in ack.body_text
    messages = await store.tickets.messages(ticket.id)
    assert [m.direction for m in messages] == ["in", "out"]
    assert messages[1].message_id == ack.message_id  # our Message-ID kept for threading
    # seen, moved to the processed folder (created), raw bytes kept for audit
    assert imap_account.uids("INBOX") == []
    assert imap_account.seen("Processed") == imap_account.uids("Processed") != []
    [record] = await store.inbound.recent()
    kept = await store.inbound.raw(record.id)
    assert kept is not None and hashlib.sha256(kept).hexdigest() == record.sha256
    assert b"non riesco ad accedere" in kept


async def test_english_mail_is_acknowledged_in_english(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(fixture_bytes("english_question"))
    await worker.process_once()
    [ack] = await store.outbox.list()
    assert ack.body_text.startswith("Dear Customer")
    assert ack.subject.startswith("Re: Online invoices [AC-")


@pytest.mark.parametrize("name", AUTOMATIC)
async def test_automatic_mail_is_recorded_and_never_answered(
    name: str, worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(fixture_bytes(name))
    assert await worker.process_once() == 1
    assert await store.outbox.list() == []
    assert await store.tickets.recent() == []
    [record] = await store.inbound.recent()
    assert record.outcome == "automatic"
    assert len(imap_account.uids("Processed")) == 1


@pytest.mark.parametrize(
    ("name", "message_id", "address"),
    [
        ("dsn_bounce", "<bounced-1@test.areaclienti>", "wrong.address@example.com"),
        ("postmaster_plain_bounce", "<bounced-2@test.areaclienti>", "nobody@other.example"),
    ],
)
async def test_bounce_of_our_mail_marks_the_address_failing(
    name: str,
    message_id: str,
    address: str,
    worker: MailboxWorker,
    store: Store,
    area: AreaData,
    clock: ManualClock,
    imap_account: ImapAccount,
) -> None:
    account_id = await area.account(await area.customer(), email=address.upper())
    await store.outbox.enqueue(
        kind="temp_password", recipient=address, subject="s", body_text="b",
        now=clock.now(), message_id=message_id,
    )  # fmt: skip
    imap_account.append(fixture_bytes(name))

    await worker.process_once()

    failure = await store.inbound.failing(address)
    assert failure is not None and failure.message_id == message_id
    assert [f.address for f in await store.inbound.failing_addresses()] == [address]
    account = await store.accounts.get(account_id)
    assert account is not None and account.email_failed_at is not None  # the bot will ask
    [event] = await store.audit.list("mail_address_failing")
    assert event.account_id == account_id and "@" not in event.detail.replace(message_id, "")
    assert len(await store.outbox.list()) == 1  # nothing answered
    assert await store.tickets.recent() == []


async def test_delayed_report_marks_nothing(
    worker: MailboxWorker, store: Store, clock: ManualClock, imap_account: ImapAccount
) -> None:
    await store.outbox.enqueue(
        kind="notice", recipient="wrong.address@example.com", subject="s", body_text="b",
        now=clock.now(), message_id="<bounced-1@test.areaclienti>",
    )  # fmt: skip
    imap_account.append(fixture_bytes("dsn_delayed"))
    await worker.process_once()
    assert await store.inbound.failing_addresses() == []


async def test_reply_with_reference_joins_the_ticket_without_a_new_acknowledgement(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(mail())
    await worker.process_once()
    [ticket] = await store.tickets.recent()

    imap_account.append(mail("Ecco altri dettagli.", subject=f"R: qualcosa [{ticket.reference}]"))
    await worker.process_once()

    assert [t.id for t in await store.tickets.recent()] == [ticket.id]
    messages = await store.tickets.messages(ticket.id)
    assert [m.direction for m in messages] == ["in", "out", "in"]
    assert "Ecco altri dettagli." in messages[2].body
    assert len(await store.outbox.list()) == 1


async def test_reference_from_a_stranger_does_not_join(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(mail())
    await worker.process_once()
    [ticket] = await store.tickets.recent()
    imap_account.append(
        mail("Fammi vedere", sender="intruso@example.org", subject=f"[{ticket.reference}]")
    )
    await worker.process_once()
    assert len(await store.tickets.recent()) == 2


async def test_reply_to_our_message_joins_by_in_reply_to(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(mail())
    await worker.process_once()
    [ack] = await store.outbox.list()

    imap_account.append(
        mail("Risolto, grazie.", subject="Re: senza riferimento", in_reply_to=ack.message_id)
    )
    await worker.process_once()

    [ticket] = await store.tickets.recent()
    assert len(await store.tickets.messages(ticket.id)) == 3
    assert len(await store.outbox.list()) == 1


async def test_faq_question_is_answered_and_the_customer_reply_reopens_it(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(fixture_bytes("plain_it"))
    await worker.process_once()

    [ticket] = await store.tickets.recent()
    assert ticket.status == "auto_answered"
    [answer] = await store.outbox.list()
    assert answer.kind == "ticket_faq"
    assert "ANSWER[password-non-ricevuta/it]" in answer.body_text
    assert answer.headers["In-Reply-To"] == "<q1.plain@example.it>"
    assert answer.headers["Auto-Submitted"] == "auto-replied"

    imap_account.append(
        mail("Non funziona ancora.", subject="Re: risposta", in_reply_to=answer.message_id)
    )
    await worker.process_once()

    reopened = await store.tickets.get(ticket.id)
    assert reopened is not None and reopened.status == "open"
    assert len(await store.outbox.list()) == 1  # no acknowledgement for a reply
    assert [e.detail for e in await store.audit.list("ticket_reopened")] == [ticket.reference]


async def test_questions_about_invoice_data_are_pointed_to_the_bot(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append(fixture_bytes("reply_to_other"))
    await worker.process_once()
    [ack] = await store.outbox.list()
    assert ack.recipient == "amministrazione@example.it".replace("example.it", "azienda.example")
    assert "/fatture" in ack.body_text and "non inviamo mai per e-mail" in ack.body_text
    assert "123456/01" not in ack.body_text


async def test_sender_is_matched_to_the_customer_by_registered_address(
    worker: MailboxWorker, store: Store, area: AreaData, imap_account: ImapAccount
) -> None:
    customer_id = await area.customer()
    await area.account(customer_id, email="Mario.Rossi@Example.it")
    imap_account.append(mail())
    await worker.process_once()
    [ticket] = await store.tickets.recent()
    assert ticket.customer_id == customer_id


async def test_loop_guard_limits_automatic_answers_per_sender_per_day(
    settings: Settings, store: Store, clock: ManualClock, imap_account: ImapAccount
) -> None:
    worker = make_worker(settings, store, clock, auto_reply_limit=2)
    try:
        imap_account.append_many([mail(f"domanda {n}") for n in range(3)])
        await worker.process_once()
        assert len(await store.outbox.list()) == 2
        assert len(await store.tickets.recent()) == 3  # still recorded for staff
        assert len(await store.audit.list("mail_loop_guard")) == 1

        clock.advance(hours=25)
        imap_account.append(mail("domanda del giorno dopo"))
        await worker.process_once()
        assert len(await store.outbox.list()) == 3
    finally:
        await worker.aclose()


async def test_too_large_mail_gets_a_polite_reply_without_being_downloaded(
    settings: Settings, store: Store, clock: ManualClock, imap_account: ImapAccount
) -> None:
    worker = make_worker(settings, store, clock, mail_max_bytes=4096)
    try:
        imap_account.append(mail("vedi allegato", attachment=b"%PDF-1.4 " + b"x" * 20_000))
        imap_account.append(mail("piccola domanda"))
        assert await worker.process_once() == 2
    finally:
        await worker.aclose()
    replies = {m.kind: m for m in await store.outbox.list()}
    assert set(replies) == {"ticket_too_large", "ticket_acknowledgement"}
    assert "troppo grande" in replies["ticket_too_large"].body_text
    large = [r for r in await store.inbound.recent() if r.outcome == "too_large"]
    assert len(large) == 1 and large[0].size > 20_000
    kept = await store.inbound.raw(large[0].id)
    assert kept is not None and b"Subject:" in kept
    assert b"xxxx" not in kept  # only the header was fetched
    assert imap_account.uids("INBOX") == []


async def test_the_log_says_one_line_a_batch_and_no_address(
    settings: Settings, store: Store, imap_account: ImapAccount, clock: ManualClock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    imap_account.append_many(
        [mail(f"domanda {n}", sender=f"cliente{n}@example.it") for n in range(5)]
        + [mail("la password non arriva", sender="p@example.it"), fixture_bytes("out_of_office")]
    )
    worker = make_worker(settings, store, clock, batch_size=4)
    try:
        assert await worker.process_once() == 7
    finally:
        await worker.aclose()

    batches = [r.getMessage() for r in caplog.records if "mail batch" in r.getMessage()]
    assert batches == [
        "mail batch of 4 recorded: ticket 4",
        "mail batch of 3 recorded: automatic 1, faq 1, ticket 1",
    ]
    assert "@example.it" not in caplog.text


class DeadFaqProcess:
    """Stands for the FAQ child process after it died twice: every batch is refused."""

    def __init__(self) -> None:
        self.refused = 0

    async def start(self) -> None:
        """Nothing to start."""

    async def prepare_many(self, *args: object) -> list[object]:
        """What FaqProcess raises when no child can answer."""
        self.refused += 1
        raise FaqUnavailable("the FAQ child process died twice in a row")

    async def aclose(self) -> None:
        """Nothing to stop."""


async def test_without_the_faq_process_questions_become_tickets_and_nothing_is_lost(
    settings: Settings, store: Store, imap_account: ImapAccount, clock: ManualClock
) -> None:
    dead = DeadFaqProcess()
    worker = make_worker(settings, store, clock, preparer=dead)  # type: ignore[arg-type]
    imap_account.append_many(
        [mail("la password non arriva", sender="a@example.it"), fixture_bytes("out_of_office")]
    )
    try:
        assert await worker.process_once() == 2
    finally:
        await worker.aclose()

    assert dead.refused == 1
    assert sorted(r.outcome for r in await store.inbound.recent()) == ["automatic", "ticket"]
    [reply] = await store.outbox.list()  # an acknowledgement: a person answers it
    assert reply.recipient == "a@example.it" and reply.kind == "ticket_acknowledgement"
    assert imap_account.uids("INBOX") == [] and len(imap_account.uids("Processed")) == 2


async def test_unprocessable_mail_is_quarantined_and_reported(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    imap_account.append_many([mail("explode please"), mail("domanda normale")])
    assert await worker.process_once() == 2

    assert len(imap_account.uids("Quarantine")) == 1
    assert len(imap_account.uids("Processed")) == 1
    [quarantined] = await store.inbound.recent("quarantined")
    assert quarantined.detail == "RuntimeError"
    [event] = await store.audit.list("mail_quarantined")
    assert "RuntimeError" in event.detail
    assert len(await store.tickets.recent()) == 1


async def test_the_same_message_delivered_twice_is_answered_once(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    raw = mail(message_id="<twice@example.it>")
    imap_account.append(raw)
    await worker.process_once()
    imap_account.append(raw)  # a new UID for the same message
    await worker.process_once()
    assert len(await store.tickets.recent()) == 1
    assert len(await store.outbox.list()) == 1
    assert sorted(r.outcome for r in await store.inbound.recent()) == ["duplicate", "ticket"]


def _email_corpus() -> list[Path]:
    import sysconfig

    candidates = [Path(sysconfig.get_paths()["stdlib"]) / "test" / "test_email" / "data"]
    try:
        import test.test_email as package

        candidates.insert(0, Path(package.__file__).parent / "data")
    except ImportError:
        pass
    for folder in candidates:
        found = sorted(folder.glob("msg_*.txt"))
        if found:
            return found
    return []


async def test_every_message_of_the_cpython_email_corpus_is_processed(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount
) -> None:
    corpus = _email_corpus()
    if not corpus:
        pytest.skip("CPython's test/test_email/data is not installed (libpython3-testsuite)")
    imap_account.append_many([path.read_bytes() for path in corpus])

    assert await worker.process_once() == len(corpus)

    assert imap_account.uids("INBOX") == []
    assert await store.inbound.recent("quarantined") == []
    assert len(await store.inbound.recent(limit=1000)) == len(corpus)


@pytest.fixture(scope="module")
def faq_matcher() -> object:
    """The real FAQ matcher, loaded once for the module."""
    from assistant.faq import FaqMatcher

    return FaqMatcher.load()


@pytest.mark.parametrize(
    ("name", "language", "answer_words"),
    [
        ("plain_it", "it", "password temporanea"),
        ("../../mail/gmail-en-password-not-received", "en", "temporary password"),
    ],
)
async def test_real_faq_answers_in_the_language_of_the_question(
    name: str,
    language: str,
    answer_words: str,
    faq_matcher: object,
    settings: Settings,
    store: Store,
    clock: ManualClock,
    imap_account: ImapAccount,
) -> None:
    import functools

    from assistant.faq import faq_answer
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from mailbox.inbound.batch import InlinePreparer

    texts = Texts(settings.templates_dir)
    worker = MailboxWorker(
        settings, store, TicketService(store, texts, settings),
        preparer=InlinePreparer(faq_matcher),  # type: ignore[arg-type]
        faq_answer=functools.partial(faq_answer, texts, settings), clock=clock,
    )  # fmt: skip
    imap_account.append(fixture_bytes(name))
    try:
        await worker.process_once()
    finally:
        await worker.aclose()
    [answer] = await store.outbox.list()
    assert answer.kind == "ticket_faq"
    assert answer_words in answer.body_text
    [ticket] = await store.tickets.recent()
    assert (ticket.status, ticket.language) == ("auto_answered", language)


async def test_a_30_mb_mail_is_answered_politely_under_the_default_limit(
    worker: MailboxWorker, store: Store, imap_account: ImapAccount, settings: Settings
) -> None:
    assert settings.mail_max_bytes == 25 * 1024 * 1024  # the default
    imap_account.append(mail("ecco le scansioni", attachment=bytes(range(256)) * 90_000))
    assert await worker.process_once() == 1
    [reply] = await store.outbox.list()
    assert reply.kind == "ticket_too_large" and "25 MB" in reply.body_text
    [record] = await store.inbound.recent()
    assert record.size > 30_000_000 and record.outcome == "too_large"
    kept = await store.inbound.raw(record.id)
    assert kept is not None and len(kept) < 70_000  # only the header was downloaded
