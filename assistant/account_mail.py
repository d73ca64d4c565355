"""The e-mails of the account dialogs: credentials, verification codes, address changes.

Each is queued in the outbox inside the caller's transaction; the bodies come from templates
(``mail/<name>_subject`` and ``mail/<name>``; the credential lines are exactly
``Nome utente: <username>`` / ``Password temporanea: <password>`` in Italian and
``Username:`` / ``Temporary password:`` in English).

A temporary password or a verification code (the template values named in ``SECRET_VALUES``)
lives only in the mail that carries it: the stored body holds a mark in its place and the
outbox keeps the value apart, until the server accepts the mail or refuses it for good
(``store/outbox.py``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from assistant.texts import Texts
from store.outbox import SECRET_MARK
from store.store import Store

logger = logging.getLogger(__name__)

SECRET_VALUES = ("password", "code")  # template values kept out of the stored body


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
    """Render ``mail/<template>`` (+ ``_subject``) and queue it; return the Message-ID.

    A value named in ``SECRET_VALUES`` is rendered as the outbox's mark and queued apart.
    """
    carried = [values[name] for name in SECRET_VALUES if name in values]
    if len(carried) > 1:
        raise ValueError("a mail carries at most one secret")
    hidden = {**values, **{name: SECRET_MARK for name in SECRET_VALUES if name in values}}
    subject = texts.render(lang, f"mail/{template}_subject", **hidden)
    body = texts.render(lang, f"mail/{template}", **hidden) + "\n"
    message_id = await store.outbox.enqueue(
        kind=kind,
        recipient=recipient,
        subject=subject,
        body_text=body,
        now=now,
        secret=str(carried[0]) if carried else None,
    )
    logger.info("queued %s mail %s", kind, message_id)
    return None if message_id is None else str(message_id)
