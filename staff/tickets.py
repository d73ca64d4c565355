"""Staff commands on support tickets: ``python main.py tickets list|show|reply|close|mail``.

    tickets list [--open]             newest first; then quarantined mails and failing addresses
    tickets show N                    one ticket with all its messages
    tickets reply N --body-file F     answer where the ticket came from (e-mail or Telegram)
    tickets close N
    tickets mail M --out F.eml        the raw bytes of received mail number M, as downloaded

N is the reference (``AC-123456`` or its six digits) or the ticket's id. This is a staff tool:
it prints addresses and message texts to the terminal, never to the log.
"""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import TextIO

from assistant.clock import Clock
from assistant.errors import DeliveryError, NotFound
from assistant.tickets import TicketService
from store.store import Store
from store.tickets import Ticket

logger = logging.getLogger(__name__)

LIST_LIMIT = 200
MAX_ID = 2**63 - 1  # the largest id the database can hold
HEADER = f"{'reference':<10} {'id':>5} {'status':<14} {'channel':<9} {'updated':<17} subject"
STATUS_LABELS = {
    "open": "open",
    "answered": "answered",
    "auto_answered": "auto-answered",
    "closed": "closed",
}


async def run_tickets(
    service: TicketService,
    store: Store,
    args: argparse.Namespace,
    *,
    clock: Clock,
    out: TextIO | None = None,
) -> int:
    """Run one staff command; return the exit status."""
    out = out or sys.stdout
    try:
        return await _dispatch(service, store, args, clock.now(), out)
    except NotFound as exc:
        print(f"no ticket {exc}", file=sys.stderr)
        return 1
    except DeliveryError as exc:
        print(f"not delivered: {exc}", file=sys.stderr)
        return 1


async def _dispatch(
    service: TicketService, store: Store, args: argparse.Namespace, now: datetime, out: TextIO
) -> int:
    if args.action == "list":
        await _list(store, open_only=args.open, out=out)
        return 0
    if args.action == "mail":
        return await _write_mail(store, args.mail_id, Path(args.out), out)
    ticket = await service.find(args.number)
    if args.action == "show":
        await _show(store, ticket, out)
    elif args.action == "reply":
        try:
            body = Path(args.body_file).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            print(f"cannot read {args.body_file}: {_reason(exc)}", file=sys.stderr)
            return 1
        if not body:
            print("the reply is empty", file=sys.stderr)
            return 1
        await service.staff_reply(ticket, body, now)
        where = "by e-mail (outbox)" if ticket.channel == "email" else f"on {ticket.channel}"
        print(f"{ticket.reference}: reply sent {where}", file=out)
    elif args.action == "close":
        await service.close(ticket, now)
        print(f"{ticket.reference}: closed", file=out)
    return 0


async def _list(store: Store, *, open_only: bool, out: TextIO) -> None:
    tickets = await store.tickets.recent(open_only=open_only, limit=LIST_LIMIT)
    print(HEADER, file=out)
    for ticket in tickets:
        print(_line(ticket), file=out)
    if not tickets:
        print("(no tickets)", file=out)
    quarantined = await store.inbound.recent("quarantined", limit=LIST_LIMIT)
    if quarantined:
        print("\nQuarantined mails (moved to the quarantine folder, raw bytes kept):", file=out)
        for mail in quarantined:
            print(
                f"  mail {mail.id}: uid {mail.uid} (uidvalidity {mail.uidvalidity})"
                f" {_when(mail.processed_at)} {mail.detail}",
                file=out,
            )
        print("  (python main.py tickets mail N --out N.eml writes one to a file)", file=out)
    failing = await store.inbound.failing_addresses(limit=LIST_LIMIT)
    if failing:
        print("\nAddresses our mail bounced from:", file=out)
        for failure in failing:
            print(
                f"  {failure.address}  {_when(failure.failed_at)}  {failure.status or '-'}"
                f"  {failure.message_id}",
                file=out,
            )


async def _write_mail(store: Store, mail_id: int, target: Path, out: TextIO) -> int:
    """Write a received mail's bytes as kept since migration 0006 (older ones: raw_path)."""
    raw = await store.inbound.raw(mail_id) if 0 < mail_id <= MAX_ID else None
    if raw is None:
        print(f"no kept bytes for mail {mail_id}", file=sys.stderr)
        return 1
    try:
        target.write_bytes(raw)
    except OSError as exc:
        print(f"cannot write {target}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"mail {mail_id}: {len(raw)} bytes written to {target}", file=out)
    return 0


async def _show(store: Store, ticket: Ticket, out: TextIO) -> None:
    print(_line(ticket), file=out)
    print(f"contact: {ticket.channel} {ticket.contact}", file=out)
    print(f"customer id: {ticket.customer_id or '-'}   language: {ticket.language}", file=out)
    for message in await store.tickets.messages(ticket.id):
        arrow = "<<" if message.direction == "in" else ">>"
        print(
            f"\n{arrow} {_when(message.created_at)} {message.author} ({message.kind})"
            f"{'  ' + message.message_id if message.message_id else ''}",
            file=out,
        )
        print(message.body, file=out)


def _line(ticket: Ticket) -> str:
    status = STATUS_LABELS.get(ticket.status, ticket.status)
    return (
        f"{ticket.reference:<10} {ticket.id:>5} {status:<14} {ticket.channel:<9}"
        f" {_when(ticket.updated_at):<17} {ticket.subject[:60]}"
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, in a few words."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save it as UTF-8)"
    return exc.strerror or type(exc).__name__
