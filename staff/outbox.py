"""``main.py outbox [--failed]`` and ``outbox --retry ID ...``: the staff's view of the outbox.

Recipients and addresses in errors are masked: the listing may be pasted into a ticket.
"""

from __future__ import annotations

from assistant.clock import Clock
from mailbox.outbound.compose import mask_addresses, mask_recipients
from store.records import OutboxMail
from store.store import Store

LISTING_LIMIT = 200  # rows in the staff listing


async def run_outbox_listing(store: Store, *, failed_only: bool) -> int:
    """Print the newest e-mails, recipients masked; return the exit status."""
    mails = await store.outbox.list("failed" if failed_only else None, limit=LISTING_LIMIT)
    print(format_listing(mails, failed_only=failed_only))
    return 0


# A failed mail that carried a secret lost it at its failure: what staff tell the customer.
LOST_SECRET = {
    "temp_password": "it carried a temporary password, deleted when it failed: ask the customer"
    " to use /recupero in the chat (a new password is sent)",
    "verification_code": "it carried a verification code, deleted when it failed: ask the"
    " customer to change the address again (/profilo in the chat)",
}


async def run_outbox_retry(store: Store, ids: list[int], *, clock: Clock) -> int:
    """Failed e-mails go back in the queue, due now; 1 when some id was not a failed e-mail or
    its secret (temporary password, code) is gone."""
    requeued = await store.outbox.requeue_failed(ids, clock.now())
    for mail_id in ids:
        state = "queued again"
        if mail_id not in requeued:
            mail = await store.outbox.get(mail_id)
            state = "not a failed e-mail: unchanged"
            if mail is not None and mail.status == "failed" and mail.secret == "dropped":
                reason = LOST_SECRET.get(mail.kind, "it carried a secret, deleted when it failed")
                state = f"not queued again: {reason}"
        print(f"{mail_id}: {state}")
    return 0 if len(requeued) == len(set(ids)) else 1


def format_listing(mails: list[OutboxMail], *, failed_only: bool = False) -> str:
    """A plain-text table: id, created, kind, status, attempts, next attempt, to, last error."""
    if not mails:
        return "no failed e-mails" if failed_only else "the outbox is empty"
    header = (
        "ID",
        "CREATED (UTC)",
        "KIND",
        "STATUS",
        "ATTEMPTS",
        "NEXT ATTEMPT",
        "TO",
        "LAST ERROR",
    )
    rows = [header]
    for mail in mails:
        rows.append(
            (
                str(mail.id),
                f"{mail.created_at:%Y-%m-%d %H:%M}",
                mail.kind,
                mail.status,
                str(mail.attempts),
                f"{mail.next_attempt_at:%Y-%m-%d %H:%M}" if mail.status == "pending" else "-",
                mask_recipients(mail.recipient),
                mask_addresses(mail.last_error or "-"),
            )
        )
    widths = [max(len(row[column]) for row in rows) for column in range(len(header) - 1)]
    lines = []
    for row in rows:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        lines.append("  ".join([*padded, row[-1]]))
    if len(mails) >= LISTING_LIMIT:
        lines.append(f"(the newest {LISTING_LIMIT} shown)")
    return "\n".join(line.rstrip() for line in lines)
