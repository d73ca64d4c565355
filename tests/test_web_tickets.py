"""Journeys through the console's tickets in a real browser (Chromium), end to end.

A mail delivered to Dovecot is fetched by the mailbox worker (as tests/mailbox_support.py runs
it) into the store the console serves; the reply goes out through the outbox to aiosmtpd; a
Telegram ticket's reply reaches the fake Bot API.
"""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import make_msgid
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, Request, expect

from assistant.settings import Settings
from mailbox.outbound.sender import OutboxSender
from tests.fixtures.dovecot import ImapAccount
from tests.fixtures.smtp import SmtpServer
from tests.fixtures.web import WebConsole, log_in
from tests.mailbox_support import mail, mailbox_settings, make_worker


@pytest.fixture
def mail_console(
    tmp_path: Path, imap_account: ImapAccount, smtp_server: SmtpServer
) -> Iterator[WebConsole]:
    """The console over a store the mailbox worker fills from Dovecot; SMTP to aiosmtpd."""
    settings = smtp_server.settings_for(mailbox_settings(tmp_path, imap_account))
    console = WebConsole(settings).start()
    yield console
    console.stop()


def fetch_mail(console: WebConsole) -> int:
    """One pass of the mailbox worker over the console's store; how many mails it handled."""

    async def once() -> int:
        worker = make_worker(console.settings, console.call_store(), console.clock)
        try:
            return await worker.process_once()
        finally:
            await worker.aclose()

    return console.run(once())


def send_outbox(console: WebConsole) -> int:
    """The outgoing-mail sender's pass over the console's store."""
    return console.run(
        OutboxSender(console.call_store(), console.settings, console.clock).send_due()
    )


def test_a_mail_becomes_a_ticket_assigned_noted_and_answered_with_a_ready_answer(
    mail_console: WebConsole, imap_account: ImapAccount, smtp_server: SmtpServer, page: Page
) -> None:
    console = mail_console
    question = "Buongiorno, il portale mi dice che il contratto non esiste. Come mai?"
    message_id = make_msgid(domain="example.it")
    scan = b"%PDF-1.4 the customer's scan"
    imap_account.append(
        mail(question, subject="Contratto sconosciuto", message_id=message_id, attachment=scan)
    )
    assert fetch_mail(console) == 1
    anna = console.add_staff("anna", "agent")
    log_in(page, console, anna)

    row = page.locator("table.inbox tbody tr", has_text="Contratto sconosciuto")
    assert "mario.rossi@example.it" in row.inner_text()
    row.locator("a").click()
    assert question in page.inner_text("section.thread")
    link = page.locator("ul.attachments a")
    assert link.inner_text() == "scan.pdf"
    download = page.request.get(f"{console.url}{link.get_attribute('href')}")
    assert download.body() == scan
    assert download.headers["content-type"] == "application/octet-stream"
    assert download.headers["content-disposition"].startswith("attachment;")

    page.select_option("select[name=to]", "me")
    page.click("button:text-is('Assegna')")
    expect(page.locator("p.flash")).to_have_text("Assegnazione aggiornata.")
    expect(page.locator("dl.facts")).to_contain_text("anna")

    page.fill("#notes textarea[name=body]", "NOTA-INTERNA: cliente già sentito al telefono")
    page.click("button:text-is('Aggiungi nota')")
    expect(page.locator("#notes article.note")).to_contain_text("NOTA-INTERNA")

    page.select_option("select[name=answer]", "faq:contratti-visualizzati:it")
    page.click("button:text-is('Inserisci')")
    expect(page.locator("#reply textarea[name=body]")).not_to_have_value("")
    draft = page.input_value("#reply textarea[name=body]")
    assert "contratt" in draft.lower()  # the FAQ's answer is in the reply box
    page.fill("#reply textarea[name=body]", "Gentile cliente,\n" + draft)
    page.click("#reply button.primary")
    expect(page.locator("p.flash")).to_have_text("Risposta inviata.")

    assert send_outbox(console) == 2  # the acknowledgement of the mail, then the reply
    acknowledgement, sent = smtp_server.messages
    assert "NOTA-INTERNA" not in acknowledgement.data.decode("utf-8", "replace")
    message = sent.message()
    assert sent.rcpt_tos == ("mario.rossi@example.it",)
    assert message["In-Reply-To"] == message_id and message_id in message["References"]
    reference = console.call(lambda s: s.tickets.recent())[0].reference
    assert f"[{reference}]" in message["Subject"]
    body = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Gentile cliente" in body and draft.splitlines()[0] in body
    assert "NOTA-INTERNA" not in sent.data.decode("utf-8", "replace")

    events = console.call(lambda s: s.staff.audit_log())
    anna_id = console.call(lambda s: s.staff.by_username("anna")).id  # type: ignore[union-attr]
    mine = {e.event for e in events if e.staff_id == anna_id}
    assert {"staff_ticket_assigned", "staff_note_added", "ticket_staff_reply"} <= mine
    assert "staff_attachment_downloaded" in mine


def test_a_telegram_ticket_answered_from_the_console_reaches_the_chat(
    settings: Settings, page: Page
) -> None:
    console = WebConsole(settings, telegram=True).start()
    try:
        tickets = console.tickets
        assert tickets is not None and console.bot_api is not None
        reference = console.run(
            tickets.open_from_chat(
                "telegram", "4242", None, "Non ricevo le notifiche", "it", console.clock.now()
            )
        )
        log_in(page, console, console.add_staff("bruno", "agent"))
        page.click(f"text={reference}")
        page.fill("#reply textarea[name=body]", "Abbiamo riattivato le notifiche.")
        page.click("#reply button.primary")
        expect(page.locator("p.flash")).to_have_text("Risposta inviata.")
        [call] = [c for c in console.bot_api.calls if c.method == "sendMessage"]
        assert call.chat_id == "4242" and "Abbiamo riattivato le notifiche." in (call.text or "")
        assert call.buttons  # the "Rispondi" button: the customer answers in the same ticket
    finally:
        console.stop()


def test_a_hostile_mail_is_shown_as_inert_text(
    mail_console: WebConsole, imap_account: ImapAccount, page: Page
) -> None:
    console = mail_console
    hostile = (
        "Salve <script>document.title='PWNED';fetch('/pwned-script')</script>\n"
        f'<img src="{console.url}/pwned-img.png" onerror="fetch(\'/pwned-onerror\')">\n'
        '<img src="https://tracker.example.com/pixel.gif">'
    )
    imap_account.append(mail(hostile, subject="<b>Ciao</b><script>alert(1)</script>"))
    assert fetch_mail(console) == 1
    log_in(page, console, console.add_staff("carla", "agent"))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(f"{console.url}/tickets")
    assert "<b>Ciao</b><script>alert(1)</script>" in page.inner_text("table.inbox")
    page.click("table.inbox a")
    page.wait_for_load_state("networkidle")

    thread = page.inner_text("section.thread")
    assert "<script>document.title='PWNED'" in thread and "<img src=" in thread  # as text
    assert page.locator("section.thread script, section.thread img").count() == 0
    assert page.title() != "PWNED" and dialogs == []
    assert all(_ours(url, console) for url in requested), requested
    assert not [p for p in console.requests if "pwned" in p]


def test_two_agents_see_each_other_and_a_reply_to_an_older_thread_warns_first(
    web_console: WebConsole, browser: Browser, page: Page
) -> None:
    console = web_console
    tickets = console.tickets
    assert tickets is not None
    ticket = console.run(
        tickets.open_ticket(
            channel="email",
            contact="lucia@example.it",
            customer_id=None,
            subject="Fattura mancante",
            text="Non trovo la fattura di marzo.",
            language="it",
            now=console.clock.now(),
        )
    )
    other = browser.new_context().new_page()
    try:
        log_in(other, console, console.add_staff("bruno", "agent"))
        other.goto(f"{console.url}/tickets/{ticket.id}")
        log_in(page, console, console.add_staff("anna", "agent"))
        page.goto(f"{console.url}/tickets/{ticket.id}")
        expect(page.locator("p.others")).to_contain_text("bruno")
        other.reload()
        expect(other.locator("p.others")).to_contain_text("anna")
    finally:
        other.context.close()

    page.fill("#reply textarea[name=body]", "La fattura è disponibile.")
    console.run(tickets.add_customer_message(ticket, "Anzi, ne mancano due!", console.clock.now()))
    page.click("#reply button.primary")
    expect(page.locator("p.problem")).to_contain_text("Nel frattempo il ticket ha ricevuto")
    assert "ne mancano due" in page.inner_text("section.thread")
    assert page.input_value("#reply textarea[name=body]") == "La fattura è disponibile."
    assert console.call(lambda s: s.tickets.messages(ticket.id))[-1].author == "customer"
    page.fill("#reply textarea[name=body]", "Le fatture sono disponibili.")
    page.click("#reply button.primary")  # read again: now it is sent
    expect(page.locator("p.flash")).to_have_text("Risposta inviata.")
    assert console.call(lambda s: s.tickets.messages(ticket.id))[-1].author == "staff"


def _ours(url: str, console: WebConsole) -> bool:
    """A request the console's own pages make: the pages and the style sheet."""
    return url.startswith(console.url) and "pwned" not in url and "tracker" not in url


def test_a_request_made_by_the_page_is_only_the_style_sheet(
    web_console: WebConsole, page: Page
) -> None:
    log_in(page, web_console, web_console.add_staff("dario", "agent"))
    seen: list[Request] = []
    page.on("request", lambda request: seen.append(request))
    page.goto(f"{web_console.url}/tickets")
    assert sorted(r.url.removeprefix(web_console.url) for r in seen) == [
        "/static/staff.css",
        "/tickets",
    ]
