"""Operations: what did not go as it should, for staff to see and set right.

    GET  /operations                          failed and pending e-mail, quarantined mail,
                                              publication notices in progress, latest imports
    POST /operations/outbox/N/retry           a failed e-mail back in the queue (as
                                              ``main.py outbox --retry N``)
    GET  /operations/quarantine/N.eml         a quarantined mail's bytes, as downloaded

A failed e-mail is listed without its body (it may hold a temporary password). Every retry
and every download is in the audit log with the staff user's id.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from web import forms
from web.context import services
from web.guard import Who
from web.render import render

MAX_ID = 2**63 - 1


async def operations(request: Request, who: Who) -> Response:
    """The operations page."""
    svc = services(request)
    return render(
        request,
        "operations.html",
        ops=await svc.store.staff_views.operations(),
        flash=forms.text(request.query_params, "done"),
    )


async def retry_mail(request: Request, who: Who) -> Response:
    """Put a failed e-mail back in the queue, due now (the command line's store call)."""
    svc = services(request)
    mail_id = _id(request, "mail_id")
    now = svc.clock.now()
    requeued = await svc.store.outbox.requeue_failed([mail_id], now)
    if mail_id in requeued:
        await svc.store.staff.audit(
            "staff_outbox_retry", now, staff_id=who.id, detail=f"outbox {mail_id}"
        )
    done = "requeued" if mail_id in requeued else "not_requeued"
    return RedirectResponse(f"/operations?done={done}", status_code=303)


async def quarantined_mail(request: Request, who: Who) -> Response:
    """The raw bytes of a quarantined mail, as a download (never shown in the page)."""
    svc = services(request)
    inbound_id = _id(request, "inbound_id")
    raw = await svc.store.staff_views.quarantined_raw(inbound_id)
    if raw is None:
        raise HTTPException(status_code=404)
    await svc.store.staff.audit(
        "staff_mail_downloaded", svc.clock.now(), staff_id=who.id, detail=f"mail {inbound_id}"
    )
    return Response(
        raw,
        media_type="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="mail-{inbound_id}.eml"',
            "Cache-Control": "no-store",
        },
    )


def _id(request: Request, name: str) -> int:
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise HTTPException(status_code=404)
    return value
