"""``create_app``: the staff console's ASGI app over the services ``main.py`` built.

Every response carries the security headers of ``web.security`` (a strict Content-Security-
Policy: no inline script or style, images only from the app or ``data:``), whatever produced
it; errors are plain pages, never a traceback.
"""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from web import security
from web.context import Services
from web.render import render
from web.routes import routes

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 256 * 1024  # a reply, a note, a snippet: far below; anything larger is refused


class SecurityHeaders:
    """ASGI middleware: the security headers on every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.headers = [(k.encode(), v.encode()) for k, v in security.SECURITY_HEADERS]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {k for k, _ in self.headers}
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message["headers"] = kept + self.headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodyLimit:
    """ASGI middleware: a request body over ``MAX_BODY_BYTES`` is refused (413), even chunked."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length", b"0")
        if not declared.isdigit() or int(declared) > MAX_BODY_BYTES:
            await PlainTextResponse("too large", status_code=413)(scope, receive, send)
            return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(status_code=413)
            return message

        await self.app(scope, counted, send)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    problem = {404: "not_found", 405: "not_allowed"}.get(status, "error")
    return render(request, "error.html", status=status, problem=problem)


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.error("staff console: %s failed: %r", request.url.path, exc)
    return render(request, "error.html", status=500, problem="error")


def create_app(services: Services) -> Starlette:
    """The console: routes of ``web.routes``, security headers, plain error pages."""
    app = Starlette(
        routes=routes(),
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.services = services
    app.add_middleware(BodyLimit)
    app.add_middleware(SecurityHeaders)
    return app
