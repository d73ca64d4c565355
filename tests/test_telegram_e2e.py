"""End to end: the real python-telegram-bot Application polling the fake Bot API, e-mails
delivered to aiosmtpd by the outbox sender."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest

from assistant.clock import ManualClock
from assistant.credentials import hash_password
from assistant.flows.menu import guide_file_id_keeper, guide_key
from assistant.guide import guide_pdf_path
from assistant.settings import Settings
from assistant.texts import Texts
from mailbox.outbound.sender import OutboxSender
from store.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.fixtures.area_data import AreaData
from tests.fixtures.customers import KnownCustomer, KnownCustomers
from tests.fixtures.dialogs import credentials_in
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.telegram import Answer, TelegramHarness

CHAT = 4242


@pytest.fixture
async def bot(
    bot_api: FakeBotApi,
    smtp_settings: Settings,
    clock: ManualClock,
    customers: KnownCustomers,
) -> AsyncIterator[TelegramHarness]:
    """A running bot whose e-mails go to the test's SMTP server."""
    harness = TelegramHarness(bot_api, smtp_settings, clock)
    await harness.start()
    yield harness
    await harness.stop()


async def deliver_mail(bot: TelegramHarness, smtp_server: SmtpServer) -> str:
    """Send what the outbox holds; return the text body of the newest mail received."""
    assert bot.store is not None
    before = len(smtp_server.messages)
    await OutboxSender(bot.store, bot.settings, bot.clock).send_due()
    received = await smtp_server.wait_for(before + 1)
    body = received[-1].message().get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


async def register(bot: TelegramHarness, customer: KnownCustomer, email: str) -> Answer:
    """The registration typed and pressed through Telegram."""
    await bot.send(CHAT, "/registrazione")
    await bot.send(CHAT, f"{customer.contract}/{customer.module}")
    await bot.send(CHAT, customer.fiscal_code)
    summary = await bot.send(CHAT, email)
    return await bot.press(CHAT, summary.button_data("Conferma"))


def deleted_before_answer(answer: Answer) -> bool:
    """The typed message was deleted before the bot's first message."""
    methods = [c.method for c in answer.calls]
    return answer.deleted == [answer.pushed.message_id] and methods.index(
        "deleteMessage"
    ) < methods.index("sendMessage")


async def test_registration_login_block_recovery_journey(
    bot: TelegramHarness, customers: KnownCustomers, smtp_server: SmtpServer
) -> None:
    answer = await bot.send(CHAT, "/start")
    assert "Benvenuto" in answer.text and answer.button_data("Registrati") == "cmd:registrazione"
    assert {"", "en"} <= set(bot.api.commands)
    assert {"command": "invoices", "description": "Your invoices and credit notes"} in (
        bot.api.commands["en"]
    )

    answer = await register(bot, customers.person, "mario.rossi@example.it")
    assert "m***@example.it" in answer.text
    body = await deliver_mail(bot, smtp_server)
    assert smtp_server.messages[-1].rcpt_tos == ("mario.rossi@example.it",)
    username, temporary = credentials_in(body)

    await bot.send(CHAT, "/accedi")
    await bot.send(CHAT, username)
    answer = await bot.send(CHAT, temporary)
    assert deleted_before_answer(answer) and "sceglierne una tua" in answer.text
    answer = await bot.send(CHAT, "Girasole2026")
    assert deleted_before_answer(answer)
    answer = await bot.send(CHAT, "Girasole2026")
    assert deleted_before_answer(answer) and "Password aggiornata" in answer.text
    assert answer.button_data("Profilo") == "cmd:profilo"

    await bot.send(CHAT, "/esci")
    await bot.send(CHAT, "/login")
    await bot.send(CHAT, username)
    for wrong in ("Tulipano2026", "Tulipano2027", "Tulipano2028"):
        answer = await bot.send(CHAT, wrong)
        assert deleted_before_answer(answer)
    assert "Login bloccata" in answer.text
    await bot.send(CHAT, "/accedi")
    await bot.send(CHAT, username)
    answer = await bot.send(CHAT, "Girasole2026")
    assert "Login bloccata" in answer.text and "/recupero" in answer.text

    answer = await bot.press(CHAT, answer.button_data("Password dimenticata"))
    await bot.send(CHAT, f"{customers.person.contract}/{customers.person.module}")
    answer = await bot.send(CHAT, customers.person.fiscal_code)
    assert "Se i dati corrispondono" in answer.text
    same_user, fresh = credentials_in(await deliver_mail(bot, smtp_server))
    assert same_user == username

    await bot.send(CHAT, "/accedi")
    await bot.send(CHAT, username)
    await bot.send(CHAT, fresh)
    await bot.send(CHAT, "Margherita2026")
    answer = await bot.send(CHAT, "Margherita2026")
    assert "Password aggiornata" in answer.text


async def test_sixty_minute_rule_with_the_clock_moved(
    bot: TelegramHarness, customers: KnownCustomers, smtp_server: SmtpServer, clock: ManualClock
) -> None:
    await register(bot, customers.person, "mario@exmaple.it")
    clock.advance(minutes=59)
    answer = await register(bot, customers.person, "mario@example.it")
    assert "potrai registrarti di nuovo dalle 11:00" in answer.text
    clock.advance(minutes=2)
    answer = await register(bot, customers.person, "mario@example.it")
    assert "m***@example.it" in answer.text
    await deliver_mail(bot, smtp_server)
    assert [m.rcpt_tos for m in smtp_server.messages] == [
        ("mario@exmaple.it",),
        ("mario@example.it",),
    ]


async def test_a_company_with_a_non_pec_address(
    bot: TelegramHarness, customers: KnownCustomers
) -> None:
    company = customers.company
    await bot.send(CHAT, "/register")
    await bot.send(CHAT, f"{company.contract}/{company.module}")
    await bot.send(CHAT, company.fiscal_code)
    answer = await bot.send(CHAT, "ufficio@alfaleasing.it")
    assert "PEC" in answer.text and answer.buttons == []
    answer = await bot.send(CHAT, "alfaleasing@legalmail.it")
    assert answer.button_data("Conferma") == "reg:confirm"


@pytest.mark.parametrize("steps", [1, 2, 3, 4])
async def test_cancel_in_each_step(
    bot: TelegramHarness, customers: KnownCustomers, steps: int
) -> None:
    person = customers.person
    inputs = ["/registrazione", person.contract, person.module, person.fiscal_code]
    for value in inputs[:steps]:
        await bot.send(CHAT, value)
    answer = await bot.send(CHAT, "/annulla")
    assert "non ho salvato nulla" in answer.text
    assert bot.store is not None
    assert await bot.store.outbox.list() == []
    customer = await bot.store.customers.by_code(person.code)
    assert customer is not None and await bot.store.accounts.by_customer(customer.id) is None


async def test_restart_in_the_middle_of_registration(
    bot: TelegramHarness, customers: KnownCustomers, smtp_server: SmtpServer
) -> None:
    person = customers.person
    await bot.send(CHAT, "/registrazione")
    await bot.send(CHAT, person.contract)
    await bot.restart()
    answer = await bot.send(CHAT, person.module)
    assert "codice fiscale" in answer.text
    await bot.send(CHAT, person.fiscal_code)
    await bot.restart()
    answer = await bot.send(CHAT, "mario@example.it")
    answer = await bot.press(CHAT, answer.button_data("Conferma"))
    assert "m***@example.it" in answer.text
    assert re.search(r"^Nome utente: ac\d{8}$", await deliver_mail(bot, smtp_server), re.M)


async def test_photos_stickers_and_long_text_get_polite_answers(bot: TelegramHarness) -> None:
    assert "solo messaggi di testo" in (await bot.send_photo(CHAT)).text
    assert "solo messaggi di testo" in (await bot.send_sticker(CHAT)).text
    assert "troppo lungo" in (await bot.send(CHAT, "parola " * 1500)).text
    english = await bot.send(CHAT + 1, "/start", language_code="en")
    assert "Welcome" in english.text


async def test_passwords_typed_in_telegram_never_reach_the_log(
    bot: TelegramHarness,
    customers: KnownCustomers,
    smtp_server: SmtpServer,
    caplog_all: pytest.LogCaptureFixture,
) -> None:
    await register(bot, customers.person, "mario@example.it")
    username, temporary = credentials_in(await deliver_mail(bot, smtp_server))
    await bot.send(CHAT, "/accedi")
    await bot.send(CHAT, username)
    await bot.send(CHAT, temporary)
    await bot.send(CHAT, "Girasole2026")
    await bot.send(CHAT, "Girasole2026")
    # mail.log is the test's SMTP server
    logged = "\n".join(
        r.getMessage() for r in caplog_all.records if not r.name.startswith("mail.log")
    )
    assert "Girasole2026" not in logged and temporary not in logged
    assert customers.person.fiscal_code not in logged and "mario@example.it" not in logged


async def test_the_guide_arrives_as_a_pdf_document(bot: TelegramHarness) -> None:
    answer = await bot.send(CHAT, "/guida")
    (document,) = answer.documents
    assert document.params["document_filename"] == "Guida-Area-Clienti.pdf"
    assert document.files["document"].startswith(b"%PDF")


@pytest.fixture
async def keeping_guide_file_ids(bot: TelegramHarness) -> None:
    """The composition root's hook that stores Telegram's file_id of an uploaded guide."""
    await bot.use_hooks(guide_file_id_keeper)


async def test_the_guide_is_uploaded_once_then_sent_by_file_id(
    bot: TelegramHarness, keeping_guide_file_ids: None
) -> None:
    (upload,) = (await bot.send(CHAT, "/guida")).documents
    assert upload.files["document"].startswith(b"%PDF")
    file_id = upload.result["document"]["file_id"]

    (resend,) = (await bot.send(CHAT, "/guida")).documents
    assert resend.params["document"] == file_id and not resend.files

    (english,) = (await bot.send(CHAT + 1, "/guide", language_code="en")).documents
    assert english.params["document_filename"] == "Customer-Area-Guide.pdf"
    assert english.files["document"].startswith(b"%PDF")  # another language, another file


async def test_a_refused_guide_file_id_falls_back_to_uploading(
    bot: TelegramHarness, keeping_guide_file_ids: None
) -> None:
    assert bot.store is not None
    path = guide_pdf_path(Texts(bot.settings.templates_dir), bot.settings, "it")
    await bot.store.chats.keep_telegram_file_id(guide_key(path), "expired-file-id")

    refused, upload = (await bot.send(CHAT, "/guida")).documents

    assert refused.params["document"] == "expired-file-id" and refused.result is None
    assert upload.files["document"] == path.read_bytes()
    kept = await bot.store.chats.telegram_file_id(guide_key(path))
    assert kept == upload.result["document"]["file_id"]


async def test_a_document_button_pressed_logged_out_arrives_after_the_login(
    bot: TelegramHarness, area: AreaData, store: Store
) -> None:
    customer = await area.customer()
    document = await area.document(await area.contract(customer), number="2024/000123")
    account = await area.account(customer)
    await store.accounts.set_password(account, await hash_password("Girasole2026"), bot.clock.now())

    refused = await bot.press(CHAT, f"doc:{document}")
    assert not refused.documents and "accedere" in refused.text
    await bot.send(CHAT, "/accedi")
    await bot.send(CHAT, f"user{customer}")
    answer = await bot.send(CHAT, "Girasole2026")

    assert "Accesso eseguito" in answer.text
    (sent,) = answer.documents
    assert sent.params["document_filename"] == "2024-000123.pdf"
