"""Who is asking: every staff route passes through ``guarded`` (the route table wraps them).

A request is served when its session cookie names an active session (second factor done),
not idle longer than ``STAFF_SESSION_IDLE_MINUTES``, of an enabled and unlocked account whose
role may open the route's area; a POST also needs the form's CSRF value of that session.
Otherwise: the login page (no session), or 403 (wrong role, missing or wrong CSRF value) --
audited with the staff user's id.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from store.staff import StaffAccount
from web import security
from web.context import Services, services
from web.permissions import Area, may
from web.render import render

logger = logging.getLogger(__name__)

Handler = Callable[[Request, "Who"], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class Who:
    """The staff user of a request and the session it came with."""

    account: StaffAccount
    token: str  # the session cookie's value: never logged, never rendered

    @property
    def id(self) -> int:
        return self.account.id

    @property
    def username(self) -> str:
        return self.account.username

    @property
    def role(self) -> str:
        return self.account.role

    @property
    def csrf(self) -> str:
        """The CSRF value of this session's forms."""
        return security.csrf_value(self.token)


def guarded(area: Area, handler: Handler) -> Endpoint:
    """``handler`` behind the session, role and (for POST) CSRF checks."""

    @functools.wraps(handler)
    async def endpoint(request: Request) -> Response:
        svc = services(request)
        who = await current_staff(request, svc)
        if who is None:
            response = RedirectResponse("/login", status_code=303)
            response.delete_cookie(security.SESSION_COOKIE, path="/")
            return response
        request.state.who = who
        if not may(who.role, area):
            await svc.store.staff.audit(
                "staff_forbidden", svc.clock.now(), staff_id=who.id, detail=str(area)
            )
            return render(request, "error.html", status=403, problem="forbidden")
        if request.method == "POST":
            form = await request.form()
            submitted = form.get(security.CSRF_FIELD)
            if not security.csrf_matches(
                who.token, submitted if isinstance(submitted, str) else None
            ):
                await svc.store.staff.audit(
                    "staff_csrf_refused", svc.clock.now(), staff_id=who.id, detail=request.url.path
                )
                return render(request, "error.html", status=403, problem="csrf")
        return await handler(request, who)

    endpoint.guarded_area = area  # type: ignore[attr-defined]  # the route table's test reads it
    return endpoint


async def current_staff(request: Request, svc: Services) -> Who | None:
    """The staff user of the request's active session, or None (expired sessions end here)."""
    token = request.cookies.get(security.SESSION_COOKIE)
    if not token:
        return None
    digest = security.token_hash(token)
    session = await svc.store.staff.session(digest)
    if session is None or session.stage != "active":
        return None
    now = svc.clock.now()
    idle = svc.settings.staff_session_idle_minutes
    if security.session_expired(session.created_at, session.last_seen_at, now, idle):
        await svc.store.staff.end_session(digest)
        await svc.store.staff.audit("staff_session_expired", now, staff_id=session.staff_id)
        return None
    account = await svc.store.staff.get(session.staff_id)
    if account is None or account.disabled_at is not None or account.locked_at is not None:
        await svc.store.staff.end_session(digest)
        return None
    if security.needs_touch(session.last_seen_at, now):
        await svc.store.staff.touch_session(digest, now)
    return Who(account, token)
