"""``POST /telegram/webhook``: where Telegram pushes updates in ``TELEGRAM_MODE=webhook``.

Not a staff route: no session and no CSRF value, but Telegram's own secret. A request is
checked in this order, and refused without touching anything:

    404  not webhook mode (no receiver)
    413  body over the app's limit (``web.app.BodyLimit``, before this handler)
    403  ``X-Telegram-Bot-Api-Secret-Token`` missing or not TELEGRAM_WEBHOOK_SECRET (compared
         in constant time)
    503  the service is draining: Telegram delivers it again, elsewhere
    400  not JSON, or not an object with an integer ``update_id``
    200  handled and answered (a repeated ``update_id`` too: answered once, before)

The update goes to ``Services.telegram_updates`` (``bot.webhook.WebhookUpdates``, wired by
``main.py``): this package never imports ``telegram``. Nothing of the body is logged.
"""

from __future__ import annotations

import hmac
import json
import logging

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from web.context import services

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


async def telegram_webhook(request: Request) -> Response:
    """One pushed update, handled before the answer goes back."""
    svc = services(request)
    receiver, secret = svc.telegram_updates, svc.settings.telegram_webhook_secret
    if receiver is None or not secret:
        return PlainTextResponse("not found", status_code=404)
    given = request.headers.get(SECRET_HEADER, "")
    if not hmac.compare_digest(given.encode(), secret.encode()):
        logger.warning("telegram webhook: a request without the right secret refused")
        return PlainTextResponse("forbidden", status_code=403)
    if not receiver.accepting:
        return _draining()
    try:
        payload = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError):
        return PlainTextResponse("bad request: not JSON", status_code=400)
    update_id = payload.get("update_id") if isinstance(payload, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return PlainTextResponse("bad request: not an update", status_code=400)
    try:
        taken = await receiver.handle(payload)
    except ValueError:
        return PlainTextResponse("bad request: not an update", status_code=400)
    return PlainTextResponse("ok") if taken else _draining()


def _draining() -> Response:
    return PlainTextResponse("draining", status_code=503, headers={"Retry-After": "1"})
