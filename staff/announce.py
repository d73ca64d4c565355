"""``python main.py announce``: the bank's communications to all registered customers or one.

The command only writes: one communication and one pending notice per customer, in one
transaction. The running service's ``NoticeFanout`` sends the e-mails and Telegram messages
within seconds (customers without an active account get no notice; they read it in
/comunicazioni once registered).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from assistant.clock import Clock
from store.store import Store

logger = logging.getLogger(__name__)

MAX_SUBJECT_CHARS = 200
MAX_BODY_CHARS = 100_000


def read_announcement(subject: str, body_file: Path) -> tuple[str, str]:
    """The checked subject and body; ``ValueError`` says what is wrong."""
    subject = " ".join(subject.split())
    if not subject:
        raise ValueError("the subject is empty")
    if len(subject) > MAX_SUBJECT_CHARS:
        raise ValueError(f"the subject is longer than {MAX_SUBJECT_CHARS} characters")
    try:
        body = body_file.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {body_file}: {exc}") from exc
    if not body:
        raise ValueError(f"{body_file} is empty")
    if len(body) > MAX_BODY_CHARS:
        raise ValueError(f"the body is longer than {MAX_BODY_CHARS} characters")
    return subject, body.replace("\r\n", "\n")


async def run_announce(
    store: Store, *, to: str, subject: str, body_file: Path, clock: Clock
) -> int:
    """Create the communications and their notices; return the exit status."""
    try:
        subject, body = read_announcement(subject, body_file)
    except ValueError as exc:
        print(f"announce: {exc}", file=sys.stderr)
        return 2
    if to.strip().lower() == "all":
        customer_ids = await store.communications.registered_customers()
        if not customer_ids:
            print("announce: no registered customer; nothing created", file=sys.stderr)
            return 1
    else:
        customer_id = await store.communications.customer_id_by_code(to.strip())
        if customer_id is None:
            print(f"announce: unknown customer code {to.strip()!r}", file=sys.stderr)
            return 1
        customer_ids = [customer_id]
        if not await store.communications.registered_customers([customer_id]):
            print(
                "announce: the customer has no active account: no notice will be sent;"
                " the communication shows in /comunicazioni after registration"
            )
    created = await store.communications.create_for(
        customer_ids, subject=subject, body=body, now=clock.now()
    )
    logger.info("announce: %d communications created", created)
    print(
        f"{created} communication(s) created; the running service sends the notices"
        " (e-mail and Telegram) within a few seconds."
    )
    return 0
