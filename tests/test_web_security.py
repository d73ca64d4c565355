"""The console's defences in a real browser: CSRF, roles, the TOTP lockout, headers, expiry."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.fixtures.web import WebConsole, log_in
from web import security


def test_a_form_posted_without_its_csrf_value_is_refused(
    web_console: WebConsole, page: Page
) -> None:
    log_in(page, web_console, web_console.add_staff("anna", "agent"))
    ticket = web_console.run(
        web_console.tickets.open_from_chat(  # type: ignore[union-attr]
            "telegram", "77", None, "Domanda", "it", web_console.clock.now()
        )
    )
    page.goto(f"{web_console.url}/tickets")
    page.click(f"text={ticket}")
    page.eval_on_selector("#notes input[name=csrf]", "input => input.remove()")
    page.fill("#notes textarea[name=body]", "senza token")
    page.click("button:text-is('Aggiungi nota')")
    expect(page.locator("p.problem")).to_contain_text("Modulo scaduto o non valido")
    tickets = web_console.call(lambda s: s.tickets.recent())
    assert web_console.call(lambda s: s.inbox.notes(tickets[0].id)) == []
    # a forged value is refused too, through the browser's own cookie
    response = page.request.post(
        f"{web_console.url}/tickets/{tickets[0].id}/note",
        form={"csrf": "0" * 64, "body": "forged"},
    )
    assert response.status == 403
    events = [e.event for e in web_console.call(lambda s: s.staff.audit_log())]
    assert events.count("staff_csrf_refused") == 2
    huge = page.request.post(f"{web_console.url}/login", form={"username": "x" * 300_000})
    assert huge.status == 413


def test_an_agent_cannot_open_admin_pages_an_admin_can(web_console: WebConsole, page: Page) -> None:
    log_in(page, web_console, web_console.add_staff("anna", "agent"))
    assert "Operatori" not in page.inner_text("header")
    for path in ("/admin/staff", "/admin/audit", "/admin/snippets"):
        response = page.goto(f"{web_console.url}{path}")
        assert response is not None and response.status == 403, path
        assert "riservata agli amministratori" in page.inner_text("main")
    forged = page.request.post(f"{web_console.url}/admin/staff", form={"username": "x"})
    assert forged.status == 403
    assert web_console.call(lambda s: s.staff.count()) == 1

    page.context.clear_cookies()
    log_in(page, web_console, web_console.add_staff("rita", "admin"))
    page.goto(f"{web_console.url}/admin/staff")
    page.fill("input[name=username]", "nuovo.operatore")
    page.click("button:text-is('Crea')")
    expect(page.locator("code.password")).to_be_visible()
    password = page.inner_text("code.password")
    assert len(password) >= 12
    assert "nuovo.operatore" in page.inner_text("table")
    page.goto(f"{web_console.url}/admin/audit")
    assert "staff_forbidden" in page.inner_text("table")  # anna's attempts, with her id


def test_five_wrong_totp_codes_lock_the_login(web_console: WebConsole, page: Page) -> None:
    anna = web_console.add_staff("anna", "agent")
    log_in(page, web_console, anna)  # enrolled
    page.context.clear_cookies()
    page.goto(f"{web_console.url}/login")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", anna.password)
    page.click("button[type=submit]")
    for attempt in range(security.MAX_FAILURES):
        assert page.url.endswith("/login/code"), attempt
        page.fill("input[name=code]", "000000")
        page.click("form button[type=submit]")
        if attempt < security.MAX_FAILURES - 1:
            expect(page.locator("p.problem")).to_contain_text("Codice non valido")
    expect(page.locator("main h1")).to_have_text("Accesso bloccato")

    # even the right password and the right code no longer open the console
    web_console.clock.advance(seconds=30)
    page.goto(f"{web_console.url}/login")
    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", anna.password)
    page.click("button[type=submit]")
    expect(page.locator("p.problem")).to_contain_text("Accesso bloccato")
    account = web_console.call(lambda s: s.staff.by_username("anna"))
    assert account is not None and account.locked_at is not None


def test_every_page_carries_a_strict_policy_and_an_idle_session_ends(
    web_console: WebConsole, page: Page
) -> None:
    response = page.goto(f"{web_console.url}/login")
    assert response is not None
    headers = response.headers
    assert headers["content-security-policy"] == security.CONTENT_SECURITY_POLICY
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"
    log_in(page, web_console, web_console.add_staff("anna", "agent"))
    web_console.clock.advance(minutes=web_console.settings.staff_session_idle_minutes + 1)
    page.goto(f"{web_console.url}/tickets")
    assert page.url.endswith("/login")
