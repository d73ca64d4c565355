"""A ticket: the whole thread, internal notes, who else is on it, and the staff's actions.

    GET  /tickets/N          the page
    POST /tickets/N/insert   answer, body     the page again, the ready answer added to the draft
    POST /tickets/N/reply    body, version    through ``TicketService.staff_reply`` (as the CLI)
    POST /tickets/N/note     body             internal: never sent to the customer
    POST /tickets/N/assign   to=me|none|ID
    POST /tickets/N/status   action=close|reopen
    GET  /tickets/N/attachments/K   attachment K of the ticket's mails, as a download

A reply carries the thread's version (its newest message's id) as the page showed it: when
the thread has moved on since, the reply is not sent; the page comes back with the new
messages, the draft kept and a warning, and sending again sends it. Message bodies are text
(the mailbox keeps the text part of a mail, never its HTML) and are printed escaped. An
attachment is only ever downloaded (``application/octet-stream``, ``attachment``), never shown:
its declared type comes from the sender.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta
from urllib.parse import quote

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from assistant.errors import DeliveryError
from mailbox.inbound.attachments import attachment_bytes
from store.inbound_details import MailAttachment
from store.tickets import Ticket
from web import forms
from web.answers import answer_text, ready_answers
from web.context import Services, services
from web.guard import Who
from web.render import render

logger = logging.getLogger(__name__)

VIEWERS_WINDOW = timedelta(minutes=5)  # who opened the ticket this recently is "on it"
SEEN_EVERY = timedelta(seconds=60)  # a viewer's moment is written at most this often


async def show(request: Request, who: Who) -> Response:
    """The ticket's page."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    flash = forms.text(request.query_params, "done")
    return await _page(request, svc, who, ticket, flash=flash)


async def insert(request: Request, who: Who) -> Response:
    """The page again with a ready answer added to the draft (changes nothing)."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    form = await request.form()
    draft = forms.text(form, "body", limit=forms.LONG, strip=False).rstrip()
    text = await answer_text(svc, forms.text(form, "answer"))
    if text is not None:
        draft = f"{draft}\n\n{text}" if draft.strip() else text
    return await _page(request, svc, who, ticket, draft=draft)


async def _page(
    request: Request,
    svc: Services,
    who: Who,
    ticket: Ticket,
    *,
    draft: str = "",
    flash: str = "",
    problem: str = "",
    status: int = 200,
) -> Response:
    now = svc.clock.now()
    viewers = await svc.store.inbox.viewers(ticket.id, now - VIEWERS_WINDOW)
    if now - viewers.get(who.id, now - VIEWERS_WINDOW) >= SEEN_EVERY:  # one write a minute
        await svc.store.inbox.seen(ticket.id, who.id, now)
    messages = await svc.store.tickets.messages(ticket.id)
    names = await svc.store.staff.names()
    attachments: dict[int, list[tuple[int, MailAttachment]]] = defaultdict(list)
    for number, attachment in enumerate(await svc.store.inbound.ticket_attachments(ticket.id), 1):
        attachments[attachment.inbound_id].append((number, attachment))
    level = svc.service_level
    return render(
        request,
        "ticket.html",
        status=status,
        ticket=ticket,
        messages=messages,
        notes=await svc.store.inbox.notes(ticket.id),
        version=messages[-1].id if messages else 0,
        assigned=await svc.store.inbox.assigned_to(ticket.id),
        others=sorted(names.get(i, "?") for i in viewers if i != who.id),
        names=names,
        attachments=attachments,
        answers=await ready_answers(svc, ticket.language),
        draft=draft,
        flash=flash,
        problem=problem,
        due=level.due_at(ticket.created_at) if level is not None else None,
        customer=await svc.store.customers.get(ticket.customer_id) if ticket.customer_id else None,
    )


async def reply(request: Request, who: Who) -> Response:
    """Answer the customer where the ticket came from (unless the thread moved on)."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    form = await request.form()
    body = forms.text(form, "body", limit=forms.LONG)
    if not body:
        return await _page(request, svc, who, ticket, problem="empty", status=400)
    version = await svc.store.inbox.version(ticket.id)
    if forms.number(form, "version") != version and version:
        return await _page(request, svc, who, ticket, draft=body, problem="stale", status=409)
    try:
        await svc.tickets.staff_reply(ticket, body, svc.clock.now(), staff_id=who.id)
    except DeliveryError as exc:
        logger.warning("ticket %s: staff reply not delivered: %s", ticket.reference, exc)
        return await _page(request, svc, who, ticket, draft=body, problem="undelivered", status=502)
    return _back(ticket, "sent")


async def note(request: Request, who: Who) -> Response:
    """An internal note."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    body = forms.text(await request.form(), "body", limit=forms.LONG)
    if not body:
        return await _page(request, svc, who, ticket, problem="empty", status=400)
    await svc.store.inbox.add_note(
        ticket.id, who.id, body, reference=ticket.reference, now=svc.clock.now()
    )
    return _back(ticket, "noted")


async def assign(request: Request, who: Who) -> Response:
    """Assign the ticket to me, to another staff user, or to nobody."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    target = forms.text(await request.form(), "to")
    staff_id: int | None
    if target == "me":
        staff_id = who.id
    elif target == "none":
        staff_id = None
    else:
        staff_id = forms.number({"to": target}, "to")
        account = await svc.store.staff.get(staff_id) if staff_id else None
        if account is None or account.disabled_at is not None:
            return await _page(request, svc, who, ticket, problem="no_such_staff", status=400)
    await svc.store.inbox.assign(
        ticket.id, staff_id, by=who.id, reference=ticket.reference, now=svc.clock.now()
    )
    return _back(ticket, "assigned")


async def status(request: Request, who: Who) -> Response:
    """Close or reopen the ticket."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    action = forms.text(await request.form(), "action")
    if action == "close":
        await svc.tickets.close(ticket, svc.clock.now(), staff_id=who.id)
    elif action == "reopen":
        await svc.tickets.reopen(ticket, svc.clock.now(), staff_id=who.id)
    else:
        return await _page(request, svc, who, ticket, problem="bad_action", status=400)
    return _back(ticket, action)


async def attachment(request: Request, who: Who) -> Response:
    """Attachment K (as the page numbers them) of the ticket's mails, as a download."""
    svc = services(request)
    ticket = await _ticket(svc, request)
    listed = await svc.store.inbound.ticket_attachments(ticket.id)
    number = int(request.path_params["number"])
    if not 0 < number <= len(listed) or listed[number - 1].refused:
        raise HTTPException(status_code=404)
    described = listed[number - 1]
    raw = await svc.store.inbound.raw(described.inbound_id)
    data = attachment_bytes(raw, described.number, described.sha256) if raw else None
    if data is None:
        raise HTTPException(status_code=404)
    detail = f"{ticket.reference} attachment {number}"
    await svc.store.staff.audit(
        "staff_attachment_downloaded", svc.clock.now(), staff_id=who.id, detail=detail
    )
    disposition = f"attachment; filename*=UTF-8''{quote(described.filename, safe='')}"
    return Response(
        data,
        media_type="application/octet-stream",
        headers={"content-disposition": disposition},
    )


async def _ticket(svc: Services, request: Request) -> Ticket:
    ticket_id = int(request.path_params["ticket_id"])
    ticket = await svc.store.tickets.get(ticket_id) if ticket_id < 2**63 else None
    if ticket is None:
        raise HTTPException(status_code=404)
    return ticket


def _back(ticket: Ticket, done: str) -> Response:
    """After a POST: back to the page (303), so a reload never posts twice."""
    return RedirectResponse(f"/tickets/{ticket.id}?done={done}", status_code=303)
