"""A customer as staff see it, and what staff may do for one.

    GET  /customers?q=...                          find a customer (code, codice fiscale, ...)
    GET  /customers/N                              identity, contracts, documents, account, ...
    GET  /customers/N/documents/D.pdf              a published PDF of that customer (as the bot)
    POST /customers/N/recovery                     the recovery e-mail: a new temporary password
    POST /customers/N/chats/unlink  channel, chat  the chat no longer receives notices
    POST /customers/N/paper         on=1|0         invoices by post too, or not

Staff never type or see a password: the recovery is the chat's own code
(``assistant.flows.recovery.reset_credentials``) and the password exists only in the e-mail.
Every action and every download is in the audit log with the staff user's id.
"""

from __future__ import annotations

import logging
from datetime import date, datetime

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response

from assistant import credentials, policy
from assistant.flows.invoices import pdf_filename
from assistant.flows.recovery import reset_credentials
from assistant.ownership import shown_to
from assistant.texts import format_date, format_money
from store.staff_views import CustomerAccount, CustomerView
from web import forms
from web.context import Services, services
from web.guard import Who
from web.render import render

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1


def account_state(account: CustomerAccount | None, now: datetime) -> str:
    """none | pending | active | blocked | expired (a temporary password no longer valid)."""
    if account is None:
        return "none"
    if account.blocked_at is not None:
        return "blocked"
    if account.password_temporary and policy.temporary_password_expired(
        account.password_expires_at, now
    ):
        return "expired"
    return account.status


async def search(request: Request, who: Who) -> Response:
    """Find a customer; one exact hit opens its page."""
    svc = services(request)
    text = forms.text(request.query_params, "q")
    hits = await svc.store.staff_views.find_customers(text) if text else []
    if len(hits) == 1 and text:
        return RedirectResponse(f"/customers/{hits[0].id}", status_code=303)
    return render(request, "customer_search.html", text=text, hits=hits)


async def customer(request: Request, who: Who) -> Response:
    """The customer's page."""
    svc = services(request)
    view = await _view(svc, request)
    return _page(request, svc, view, flash=forms.text(request.query_params, "done"))


def _page(
    request: Request, svc: Services, view: CustomerView, *, flash: str = "", problem: str = ""
) -> Response:
    now = svc.clock.now()
    return render(
        request,
        "customer.html",
        status=400 if problem else 200,
        view=view,
        state=account_state(view.account, now),
        now=now,
        flash=flash,
        problem=problem,
        money=_money,
        day=_day,
    )


def _money(cents: int) -> str:
    return format_money(cents, "it")


def _day(value: date | None) -> str:
    return format_date(value, "it")


async def document(request: Request, who: Who) -> Response:
    """A published PDF of this customer's (another customer's, or unpublished: not found)."""
    svc = services(request)
    customer_id = _id(request, "customer_id")
    document_id = _id(request, "document_id")
    found = await svc.store.documents.get(document_id)
    contract = await svc.store.contracts.get(found.contract_id) if found else None
    if found is None or contract is None or not shown_to(found, contract, customer_id):
        raise HTTPException(status_code=404)
    path = svc.settings.data_dir / found.pdf_path if found.pdf_path else None
    if path is None or not path.is_file():
        logger.error("document %d: PDF file missing", found.id)
        raise HTTPException(status_code=404)
    await svc.store.customer_care.record(
        "staff_document_downloaded", customer_id, staff_id=who.id, now=svc.clock.now(),
        detail=f"document {found.id}",
    )  # fmt: skip
    return FileResponse(
        path,
        media_type="application/pdf",
        filename=pdf_filename(found.number),
        headers={"Cache-Control": "no-store"},
    )


async def recovery(request: Request, who: Who) -> Response:
    """A new temporary password and the username to the registered address, block lifted."""
    svc = services(request)
    view = await _view(svc, request)
    account = await svc.store.accounts.by_customer(view.customer.id)
    if account is None:
        return _page(request, svc, view, problem="no_account")
    now = svc.clock.now()
    password = credentials.new_temporary_password()
    password_hash = await credentials.hash_password(password)
    async with svc.store.transaction():
        await reset_credentials(
            svc.store,
            svc.texts,
            account,
            password=password,
            password_hash=password_hash,
            hours=svc.settings.temp_password_hours,
            lang=svc.settings.default_language,
            now=now,
        )
        await svc.store.customer_care.record(
            "staff_recovery_sent", view.customer.id, staff_id=who.id, now=now,
            detail=f"account {account.id}",
        )  # fmt: skip
    logger.info("staff %d sent the recovery e-mail of account %d", who.id, account.id)
    return _back(view, "recovery")


async def unlink_chat(request: Request, who: Who) -> Response:
    """Detach one of the customer's chats from the account (its session ends)."""
    svc = services(request)
    view = await _view(svc, request)
    form = await request.form()
    channel, chat_id = forms.text(form, "channel"), forms.text(form, "chat_id")
    unlinked = await svc.store.customer_care.unlink_chat(
        view.customer.id, channel, chat_id, staff_id=who.id, now=svc.clock.now()
    )
    if not unlinked:
        return _page(request, svc, view, problem="no_such_chat")
    return _back(view, "unlinked")


async def paper_invoices(request: Request, who: Who) -> Response:
    """Invoices by post too (on=1), or no longer (on=0)."""
    svc = services(request)
    view = await _view(svc, request)
    value = forms.text(await request.form(), "on")
    if value not in ("0", "1"):
        return _page(request, svc, view, problem="bad_action")
    await svc.store.customer_care.set_paper_invoices(
        view.customer.id, value == "1", staff_id=who.id, now=svc.clock.now()
    )
    return _back(view, "paper_on" if value == "1" else "paper_off")


async def _view(svc: Services, request: Request) -> CustomerView:
    view = await svc.store.staff_views.customer(_id(request, "customer_id"))
    if view is None:
        raise HTTPException(status_code=404)
    return view


def _id(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise HTTPException(status_code=404)
    return value


def _back(view: CustomerView, done: str) -> Response:
    """After a POST: back to the page (303), so a reload never posts twice."""
    return RedirectResponse(f"/customers/{view.customer.id}?done={done}", status_code=303)
