"""Login: password, then the TOTP code (or, the first time, enrolment with a QR code); logout.

    GET/POST /login          username and password → a session at stage "totp" or "enrol"
    GET/POST /login/code     the authenticator's code → the session becomes active
    GET/POST /login/enrol    first login: QR code (segno, inline SVG) + the first code
    POST     /logout

The login form's CSRF value hangs on a nonce cookie; later forms on the session's id. Every
step moves the session to a new id. Wrong passwords and wrong codes are counted apart; either
reaching ``security.MAX_FAILURES`` locks the account. An unknown username costs one argon2
check, like a wrong password, and gets the same answer.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import segno
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from assistant.credentials import verify_password
from store.staff import StaffAccount
from web import forms, security
from web.context import Services, services
from web.guard import Who, current_staff
from web.render import render

logger = logging.getLogger(__name__)


def set_session_cookie(response: Response, token: str, svc: Services) -> None:
    """The session cookie: HttpOnly, SameSite=Strict, Secure behind HTTPS."""
    response.set_cookie(
        security.SESSION_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=svc.settings.staff_cookie_secure,
        path="/",
    )


async def login_form(request: Request) -> Response:
    """The username and password form."""
    svc = services(request)
    if await current_staff(request, svc) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(request, svc)


def _login_page(
    request: Request, svc: Services, *, problem: str = "", status: int = 200
) -> Response:
    nonce = request.cookies.get(security.LOGIN_COOKIE) or security.new_token()
    response = render(
        request, "login.html", status=status, csrf=security.csrf_value(nonce), problem=problem
    )
    response.set_cookie(
        security.LOGIN_COOKIE,
        nonce,
        max_age=3600,
        httponly=True,
        samesite="strict",
        secure=svc.settings.staff_cookie_secure,
        path="/login",
    )
    return response


async def login(request: Request) -> Response:
    """Check the password; on to the code (or enrolment)."""
    svc = services(request)
    form = await request.form()
    if not security.csrf_matches(
        request.cookies.get(security.LOGIN_COOKIE), forms.text(form, security.CSRF_FIELD)
    ):
        return render(request, "error.html", status=403, problem="csrf")
    username, password = forms.text(form, "username"), forms.text(form, "password", strip=False)
    account = await svc.store.staff.by_username(username) if username else None
    now = svc.clock.now()
    matched = await verify_password(account.password_hash if account else None, password)
    if account is None or account.disabled_at is not None:
        await svc.store.staff.audit("staff_login_failed", now, staff_id=None)
        return _login_page(request, svc, problem="invalid", status=401)
    if not matched:
        failures = await svc.store.staff.record_password_failure(account.id, now)
        if security.locked_after(failures) and account.locked_at is None:
            await svc.store.staff.lock(account.id, "password", now)
        return _login_page(request, svc, problem="invalid", status=401)
    if account.locked_at is not None:
        await svc.store.staff.audit("staff_login_refused_locked", now, staff_id=account.id)
        return _login_page(request, svc, problem="locked", status=403)
    await svc.store.staff.password_ok(account.id, now)
    idle = timedelta(minutes=svc.settings.staff_session_idle_minutes)
    await svc.store.staff.end_sessions_idle_since(now - idle)  # abandoned logins, old sessions
    stage = "totp" if account.totp_confirmed else "enrol"
    token = security.new_token()
    await svc.store.staff.open_session(security.token_hash(token), account.id, stage, now)
    response = RedirectResponse("/login/code" if stage == "totp" else "/login/enrol", 303)
    response.delete_cookie(security.LOGIN_COOKIE, path="/login")
    set_session_cookie(response, token, svc)
    return response


async def code_form(request: Request) -> Response:
    """The form for the authenticator's code."""
    half = await _half_session(request, "totp")
    if half is None:
        return RedirectResponse("/login", status_code=303)
    return render(request, "code.html", csrf=half.csrf, problem="")


async def code(request: Request) -> Response:
    """Check the code; the session becomes active."""
    return await _second_factor(request, "totp")


async def enrol_form(request: Request) -> Response:
    """First login: a new TOTP secret as a QR code, and the form for its first code."""
    svc = services(request)
    half = await _half_session(request, "enrol")
    if half is None:
        return RedirectResponse("/login", status_code=303)
    account = half.account
    if account.totp_secret is None:
        await svc.store.staff.start_enrolment(
            account.id, security.new_totp_secret(), svc.clock.now()
        )
        account = await svc.store.staff.get(account.id) or account
    return _enrol_page(request, Who(account, half.token), problem="")


def _enrol_page(request: Request, half: Who, *, problem: str, status: int = 200) -> Response:
    secret = half.account.totp_secret or ""
    uri = security.totp_uri(secret, half.username)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2)
    spaced = " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
    return render(
        request, "enrol.html", status=status, csrf=half.csrf, qr=qr, secret=spaced, problem=problem
    )


async def enrol(request: Request) -> Response:
    """The first code from the new secret: enrolment done, the session becomes active."""
    return await _second_factor(request, "enrol")


async def _second_factor(request: Request, stage: str) -> Response:
    svc = services(request)
    half = await _half_session(request, stage)
    if half is None:
        return RedirectResponse("/login", status_code=303)
    form = await request.form()
    if not security.csrf_matches(half.token, forms.text(form, security.CSRF_FIELD)):
        return render(request, "error.html", status=403, problem="csrf")
    account, now = half.account, svc.clock.now()
    secret = account.totp_secret
    step = (
        security.matching_step(secret, forms.text(form, "code"), now, account.totp_last_step)
        if secret
        else None
    )
    if step is not None and await svc.store.staff.totp_ok(account.id, step, now):
        token = security.new_token()
        await svc.store.staff.replace_session(
            security.token_hash(half.token), security.token_hash(token), "active", now
        )
        event = "staff_login" if stage == "totp" else "staff_totp_enrolled"
        await svc.store.staff.audit(event, now, staff_id=account.id)
        welcome = RedirectResponse("/", status_code=303)
        set_session_cookie(welcome, token, svc)
        return welcome
    failures = await svc.store.staff.record_totp_failure(account.id, now)
    if security.locked_after(failures):
        await svc.store.staff.lock(account.id, "totp", now)
        response = render(request, "login_locked.html", status=403)
        response.delete_cookie(security.SESSION_COOKIE, path="/")
        return response
    if stage == "enrol":
        return _enrol_page(request, half, problem="wrong_code", status=401)
    return render(request, "code.html", status=401, csrf=half.csrf, problem="wrong_code")


async def _half_session(request: Request, stage: str) -> Who | None:
    """The session between password and code, at ``stage``, not expired; else None."""
    svc = services(request)
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        return None
    session = await svc.store.staff.session(security.token_hash(token))
    if session is None or session.stage != stage:
        return None
    now = svc.clock.now()
    idle = svc.settings.staff_session_idle_minutes
    if security.session_expired(session.created_at, session.last_seen_at, now, idle):
        await svc.store.staff.end_session(session.token_hash)
        return None
    account: StaffAccount | None = await svc.store.staff.get(session.staff_id)
    if account is None or account.locked_at is not None or account.disabled_at is not None:
        return None
    return Who(account, token)


async def logout(request: Request, who: Who) -> Response:
    """End the session (a guarded POST: the CSRF value was checked)."""
    svc = services(request)
    await svc.store.staff.end_session(security.token_hash(who.token))
    await svc.store.staff.audit("staff_logout", svc.clock.now(), staff_id=who.id)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response
