"""THE route table of the staff console and the Telegram webhook: one list.

``page`` and ``action`` put a handler behind ``web.guard.guarded`` for its area: a session,
the role's permission, and for POST the CSRF value. Only the login steps, the static files,
the health checks and the Telegram webhook (its own secret header) are open;
``tests/test_web_permissions.py`` checks that every other route is guarded.
"""

from __future__ import annotations

from pathlib import Path

from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from web import (
    admin,
    auth,
    customers,
    dashboard,
    health,
    inbox,
    operations,
    telegram_hook,
    ticket,
)
from web.guard import Handler, guarded
from web.permissions import Area

STATIC = Path(__file__).resolve().parent / "static"


def page(path: str, handler: Handler, area: Area) -> Route:
    """A GET page of ``area``."""
    return Route(path, guarded(area, handler), methods=["GET"], name=handler.__name__)


def action(path: str, handler: Handler, area: Area) -> Route:
    """A POST form of ``area`` (CSRF checked)."""
    return Route(path, guarded(area, handler), methods=["POST"], name=handler.__name__)


def routes() -> list[BaseRoute]:
    """Every route of the console."""
    return [
        # open: the login steps and the style sheet
        Route("/login", auth.login_form, methods=["GET"]),
        Route("/login", auth.login, methods=["POST"]),
        Route("/login/code", auth.code_form, methods=["GET"]),
        Route("/login/code", auth.code, methods=["POST"]),
        Route("/login/enrol", auth.enrol_form, methods=["GET"]),
        Route("/login/enrol", auth.enrol, methods=["POST"]),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
        # open to machines: the load balancer's checks, Telegram (checked by its secret header)
        Route("/healthz", health.healthz, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/telegram/webhook", telegram_hook.telegram_webhook, methods=["POST"]),
        # every staff user
        action("/logout", auth.logout, Area.TICKETS),
        page("/", inbox.home, Area.TICKETS),
        page("/tickets", inbox.inbox, Area.TICKETS),
        page("/tickets/{ticket_id:int}", ticket.show, Area.TICKETS),
        action("/tickets/{ticket_id:int}/insert", ticket.insert, Area.TICKETS),
        action("/tickets/{ticket_id:int}/reply", ticket.reply, Area.TICKETS),
        action("/tickets/{ticket_id:int}/note", ticket.note, Area.TICKETS),
        action("/tickets/{ticket_id:int}/assign", ticket.assign, Area.TICKETS),
        action("/tickets/{ticket_id:int}/status", ticket.status, Area.TICKETS),
        page("/tickets/{ticket_id:int}/attachments/{number:int}", ticket.attachment, Area.TICKETS),
        page("/customers", customers.search, Area.CUSTOMERS),
        page("/customers/{customer_id:int}", customers.customer, Area.CUSTOMERS),
        page(
            "/customers/{customer_id:int}/documents/{document_id:int}.pdf",
            customers.document,
            Area.CUSTOMERS,
        ),
        action("/customers/{customer_id:int}/recovery", customers.recovery, Area.CUSTOMERS),
        action("/customers/{customer_id:int}/chats/unlink", customers.unlink_chat, Area.CUSTOMERS),
        action("/customers/{customer_id:int}/paper", customers.paper_invoices, Area.CUSTOMERS),
        page("/operations", operations.operations, Area.OPERATIONS),
        action("/operations/outbox/{mail_id:int}/retry", operations.retry_mail, Area.OPERATIONS),
        page(
            "/operations/quarantine/{inbound_id:int}.eml",
            operations.quarantined_mail,
            Area.OPERATIONS,
        ),
        page("/dashboard", dashboard.dashboard, Area.OPERATIONS),
        # admins
        page("/admin/staff", admin.staff_list, Area.STAFF),
        action("/admin/staff", admin.staff_add, Area.STAFF),
        action("/admin/staff/{staff_id:int}/disable", admin.staff_disable, Area.STAFF),
        action("/admin/staff/{staff_id:int}/reset", admin.staff_reset, Area.STAFF),
        page("/admin/snippets", admin.snippets, Area.SNIPPETS),
        action("/admin/snippets", admin.snippet_add, Area.SNIPPETS),
        action("/admin/snippets/{snippet_id:int}/delete", admin.snippet_delete, Area.SNIPPETS),
        page("/admin/audit", admin.audit, Area.AUDIT),
    ]
