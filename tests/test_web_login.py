"""Staff login in a real browser: password, TOTP enrolment with a QR code, then a code; lockout."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.fixtures.web import WebConsole, log_in
from web import security


def test_first_login_enrols_totp_then_asks_a_code(
    web_console: WebConsole, page: Page, caplog_all: pytest.LogCaptureFixture
) -> None:
    anna = web_console.add_staff("anna", "agent")
    web_console.clock.advance(seconds=30)
    page.goto(f"{web_console.url}/tickets")
    assert page.url.endswith("/login")  # no session: the login page

    page.fill("input[name=username]", "anna")
    page.fill("input[name=password]", anna.password)
    page.click("button[type=submit]")
    assert page.url.endswith("/login/enrol")
    qr = page.locator("img.qr")
    assert qr.get_attribute("src", timeout=1000).startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.naturalWidth") > 0  # the QR code rendered (CSP allows data:)
    secret = "".join(page.inner_text("code.secret").split())
    page.fill("input[name=code]", security.totp_code(secret, web_console.clock.now()))
    page.click("form button[type=submit]")
    assert page.url.endswith("/tickets")
    assert "anna" in page.inner_text("header")

    cookie = next(c for c in page.context.cookies() if c["name"] == security.SESSION_COOKIE)
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
    stored = web_console.call(lambda s: s.staff.session(security.token_hash(cookie["value"])))
    assert stored is not None and stored.stage == "active"  # kept under its hash only

    page.click("text=Esci")
    assert page.url.endswith("/login")
    log_in(page, web_console, anna)  # the second time: a code from the enrolled secret
    assert page.url.endswith("/tickets")
    new_cookie = next(c for c in page.context.cookies() if c["name"] == security.SESSION_COOKIE)

    logged = caplog_all.text  # the server's records, from its thread
    for secret_text in (anna.password, secret, cookie["value"], new_cookie["value"]):
        assert secret_text not in logged
    events = [e.event for e in web_console.call(lambda s: s.staff.audit_log())]
    assert {"staff_created", "staff_totp_enrolled", "staff_logout", "staff_login"} <= set(events)
