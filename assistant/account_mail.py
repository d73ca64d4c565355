"""The e-mails of the account dialogs: credentials, verification codes, address changes.

Each is queued in the outbox inside the caller's transaction; the bodies come from templates
(``mail/<name>_subject`` and ``mail/<name>``; the credential lines are exactly
``Nome utente: <username>`` / ``Password temporanea: <password>`` in Italian and
``Username:`` / ``Temporary password:`` in English).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.texts import Texts
from store.store import Store

logger = logging.getLogger(__name__)


def _local_zone() -> tzinfo:
    """Italian time; UTC on a machine without tzdata."""
    try:
        return ZoneInfo("Europe/Rome")
    except ZoneInfoNotFoundError:  # pragma: no cover - a machine without tzdata
        return UTC


LOCAL_ZONE = _local_zone()


def local_time(moment: datetime) -> datetime:
    """A moment in Italian time, for the customer to read."""
    return moment.astimezone(LOCAL_ZONE)


async def queue_mail(
    store: Store,
    texts: Texts,
    *,
    kind: str,
    template: str,
    lang: str,
    recipient: str,
    now: datetime,
    **values: Any,
) -> str | None:
    """Render ``mail/<template>`` (+ ``_subject``) and queue it; return the Message-ID."""
    subject = texts.render(lang, f"mail/{template}_subject", **values)
    body = texts.render(lang, f"mail/{template}", **values) + "\n"
    message_id = await store.outbox.enqueue(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body,
        now=now,
    )
    logger.info("queued %s mail %s", kind, message_id)
    return None if message_id is None else str(message_id)
