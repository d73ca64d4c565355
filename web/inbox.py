"""The inbox: e-mail and Telegram tickets in one list, filtered, searched, paged by keyset.

    GET /tickets?status=open&channel=email&assigned=me&overdue=1&q=AC-123456&after=...

``after`` is the (updated_at, id) of the last row of the previous page, so every page costs
the same whatever its depth. "overdue" needs the service level (slice 12b): without one the
filter is not offered.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from store.inbox import ASSIGNED_FILTERS, STATUS_FILTERS, InboxQuery
from store.values import iso, parse_iso
from web import forms
from web.context import services
from web.guard import Who
from web.render import render

PAGE_SIZE = 50
CHANNELS = ("email", "telegram", "console")


async def home(request: Request, who: Who) -> Response:
    """The start page: the inbox (slice 12b's dashboard may take this place)."""
    return RedirectResponse("/tickets", status_code=303)


def parse_query(params: dict[str, str], who: Who) -> tuple[InboxQuery, bool]:
    """The inbox query of a query string (unknown values fall back), and whether "overdue"."""
    status = params.get("status", "open")
    channel = params.get("channel", "")
    assigned = params.get("assigned", "anyone")
    query = InboxQuery(
        status=status if status in STATUS_FILTERS else "open",
        channel=channel if channel in CHANNELS else None,
        assigned=assigned if assigned in ASSIGNED_FILTERS else "anyone",
        staff_id=who.id,
        search=forms.text(params, "q"),
        after=_cursor(params.get("after", "")),
        limit=PAGE_SIZE + 1,  # one more tells whether a next page exists
    )
    return query, params.get("overdue") == "1"


async def inbox(request: Request, who: Who) -> Response:
    """One page of the inbox."""
    svc = services(request)
    params = dict(request.query_params)
    query, overdue = parse_query(params, who)
    now = svc.clock.now()
    level = svc.service_level
    if overdue and level is not None:
        query = replace(query, status="open", created_before=level.overdue_cutoff(now))
    rows = await svc.store.inbox.page(query)
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    due = {r.id: level.due_at(r.created_at) for r in rows} if level is not None else {}
    filters = {k: v for k, v in params.items() if k != "after" and v}
    next_url = (
        "/tickets?" + urlencode({**filters, "after": _cursor_text(rows[-1].cursor)})
        if more and rows
        else None
    )
    return render(
        request,
        "inbox.html",
        rows=rows,
        names=await svc.store.staff.names(),
        due=due,
        now=now,
        query=query,
        overdue=overdue,
        has_service_level=level is not None,
        filters=filters,
        next_url=next_url,
        first_url="/tickets?" + urlencode(filters) if query.after else None,
        channels=CHANNELS,
    )


def _cursor_text(cursor: tuple[datetime, int]) -> str:
    return f"{iso(cursor[0])}_{cursor[1]}"


def _cursor(text: str) -> tuple[datetime, int] | None:
    moment, _, number = text.rpartition("_")
    try:
        return (parse_iso(moment), int(number)) if moment and number.isdigit() else None
    except ValueError:
        return None
