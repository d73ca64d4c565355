"""The admins' pages: staff accounts, ready-answer snippets, the audit log.

    GET/POST /admin/staff                  list; add (the password is shown once)
    POST /admin/staff/N/disable|reset      reset: new password shown once, TOTP enrolled again
    GET/POST /admin/snippets, POST /admin/snippets/N/delete
    GET /admin/audit[?before=ID]

Account changes go through ``staff.accounts.StaffAccounts``, as ``main.py staff ...`` does,
audited with the acting admin's id.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from staff.accounts import StaffAccounts
from store.staff import ROLES, StaffAccount, UsernameTaken
from web import forms
from web.context import Services, services
from web.guard import Who
from web.render import render

AUDIT_PAGE = 100


async def staff_list(request: Request, who: Who) -> Response:
    """Every staff account with its state."""
    return await _staff_page(request, services(request))


async def _staff_page(
    request: Request,
    svc: Services,
    *,
    shown_password: tuple[str, str] | None = None,
    problem: str = "",
    status: int = 200,
) -> Response:
    return render(
        request,
        "admin_staff.html",
        status=status,
        accounts=await svc.store.staff.all(),
        roles=ROLES,
        shown_password=shown_password,
        problem=problem,
    )


async def staff_add(request: Request, who: Who) -> Response:
    """A new account; its generated password is shown on this page only."""
    svc = services(request)
    form = await request.form()
    username, role = forms.text(form, "username").lower(), forms.text(form, "role")
    try:
        _, password = await StaffAccounts(svc.store, svc.clock).add(username, role, None, by=who.id)
    except ValueError as exc:
        return await _staff_page(request, svc, problem=str(exc), status=400)
    except UsernameTaken:
        return await _staff_page(request, svc, problem="username taken", status=409)
    return await _staff_page(request, svc, shown_password=(username, password))


async def staff_disable(request: Request, who: Who) -> Response:
    """Disable an account (not one's own)."""
    svc = services(request)
    account = await _account(svc, request)
    if account.id == who.id:
        return await _staff_page(request, svc, problem="not your own account", status=400)
    await StaffAccounts(svc.store, svc.clock).disable(account, by=who.id)
    return RedirectResponse("/admin/staff", status_code=303)


async def staff_reset(request: Request, who: Who) -> Response:
    """New password (shown once), second factor to enrol again, lock lifted."""
    svc = services(request)
    account = await _account(svc, request)
    password = await StaffAccounts(svc.store, svc.clock).reset(account, None, by=who.id)
    return await _staff_page(request, svc, shown_password=(account.username, password))


async def _account(svc: Services, request: Request) -> StaffAccount:
    staff_id = int(request.path_params["staff_id"])
    account = await svc.store.staff.get(staff_id) if staff_id < 2**63 else None
    if account is None:
        raise HTTPException(status_code=404)
    return account


async def snippets(request: Request, who: Who) -> Response:
    """The ready answers admins wrote, and the form for a new one."""
    svc = services(request)
    return render(request, "admin_snippets.html", snippets=await svc.store.inbox.snippets())


async def snippet_add(request: Request, who: Who) -> Response:
    """A new ready answer."""
    svc = services(request)
    form = await request.form()
    title, language = forms.text(form, "title"), forms.text(form, "language")
    body = forms.text(form, "body", limit=forms.LONG)
    if not title or not body or language not in ("it", "en"):
        return render(
            request,
            "admin_snippets.html",
            status=400,
            snippets=await svc.store.inbox.snippets(),
        )
    await svc.store.inbox.add_snippet(title, language, body, staff_id=who.id, now=svc.clock.now())
    return RedirectResponse("/admin/snippets", status_code=303)


async def snippet_delete(request: Request, who: Who) -> Response:
    """Retire a ready answer."""
    svc = services(request)
    snippet_id = int(request.path_params["snippet_id"])
    if snippet_id < 2**63:
        await svc.store.inbox.delete_snippet(snippet_id, staff_id=who.id, now=svc.clock.now())
    return RedirectResponse("/admin/snippets", status_code=303)


async def audit(request: Request, who: Who) -> Response:
    """The audit log, newest first, a page at a time."""
    svc = services(request)
    before = forms.number(request.query_params, "before")
    lines = await svc.store.staff.audit_log(before=before, limit=AUDIT_PAGE)
    return render(
        request,
        "admin_audit.html",
        lines=lines,
        names=await svc.store.staff.names(),
        next_before=lines[-1].id if len(lines) == AUDIT_PAGE else None,
    )
