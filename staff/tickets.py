"""Staff commands on support tickets: ``python main.py tickets list|show|reply|close|mail``.

    tickets list [--open]             newest first; then quarantined mails and failing addresses
    tickets show N                    one ticket with all its messages
    tickets reply N --body-file F     answer where the ticket came from (e-mail or Telegram)
    tickets close N
    tickets mail M --out F.eml        the raw bytes of received mail number M, as downloaded
    tickets attachment N K --out F    attachment K of ticket N (as ``show`` numbers them) to
                                      the file F, or into the folder F under its own name

N is the reference (``AC-123456`` or its six digits) or the ticket's id. This is a staff tool:
it prints addresses and message texts to the terminal, never to the log. ``show`` tells which
mail came by PEC (the certificate's sender, provider and time) and what the PEC receipts say of
our answers ("delivered to ... at ..."). An attachment is never opened here: its bytes are
copied out of the kept mail (checked against their sha256) into a new file, readable by its
owner only, never over an existing file; its name was made safe when the mail was recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import TextIO

from assistant.clock import Clock
from assistant.errors import DeliveryError, NotFound
from assistant.tickets import TicketService
from mailbox.inbound.attachments import TOO_LARGE, TOO_MANY, attachment_bytes
from store.inbound import MailAttachment, PecRecord
from store.store import Store
from store.tickets import Ticket, TicketMessage

logger = logging.getLogger(__name__)

LIST_LIMIT = 200
MAX_ID = 2**63 - 1  # the largest id the database can hold
HEADER = f"{'reference':<10} {'id':>5} {'status':<14} {'channel':<9} {'updated':<17} subject"
RECEIPTS = {  # what a PEC receipt says of our mail
    "accettazione": "accepted by our PEC provider",
    "non-accettazione": "NOT ACCEPTED by our PEC provider",
    "presa-in-carico": "taken in charge by the recipient's PEC provider",
    "avvenuta-consegna": "delivered to the PEC box of",
    "errore-consegna": "NOT DELIVERED to",
    "preavviso-errore-consegna": "not delivered within 12 hours to",
    "rilevazione-virus": "stopped by the PEC provider (virus)",
}
REFUSED = {TOO_LARGE: "over ATTACHMENT_MAX_BYTES", TOO_MANY: "past ATTACHMENTS_MAX_COUNT"}
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
    if args.action == "attachment":
        return await _write_attachment(store, ticket, args.attachment, Path(args.out), out)
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
    messages = await store.tickets.messages(ticket.id)
    inbound = [m.inbound_id for m in messages if m.inbound_id is not None]
    certificates = await store.inbound.certificates(inbound)
    ours = [m.message_id for m in messages if m.direction == "out" and m.message_id]
    receipts: dict[str, list[PecRecord]] = defaultdict(list)
    for receipt in await store.inbound.receipts_for(ours):
        receipts[receipt.refers_to or ""].append(receipt)
    attachments: dict[int, list[tuple[int, MailAttachment]]] = defaultdict(list)
    listed = await store.inbound.ticket_attachments(ticket.id)
    for number, attachment in enumerate(listed, 1):
        attachments[attachment.inbound_id].append((number, attachment))
    for message in messages:
        arrow = "<<" if message.direction == "in" else ">>"
        print(
            f"\n{arrow} {_when(message.created_at)} {message.author} ({message.kind})"
            f"{'  ' + message.message_id if message.message_id else ''}",
            file=out,
        )
        for line in _details(message, certificates, receipts, attachments):
            print(f"   {line}", file=out)
        print(message.body, file=out)
    if listed:
        print(
            f"\n(python main.py tickets attachment {ticket.reference} K --out FILE"
            " writes attachment K)",
            file=out,
        )


def _details(
    message: TicketMessage,
    certificates: dict[int, PecRecord],
    receipts: dict[str, list[PecRecord]],
    attachments: dict[int, list[tuple[int, MailAttachment]]],
) -> list[str]:
    """The lines under a message's heading: how it came by PEC, what the receipts say of our
    mail, its attachments."""
    lines = []
    if message.inbound_id is not None and message.inbound_id in certificates:
        pec = certificates[message.inbound_id]
        if pec.kind == "errore":
            lines.append("by PEC: an uncertified mail delivered to our PEC box (anomaly)")
        else:
            lines.append(
                f"by PEC from {pec.sender or '?'}, certified by {pec.provider or '?'}"
                f" {_moment(pec)} (id {pec.identifier or '?'})"
            )
    for receipt in receipts.get(message.message_id or "", []):
        said = RECEIPTS.get(receipt.kind, receipt.kind)
        if said.endswith((" of", " to")):
            said = f"{said} {', '.join(receipt.delivered_to) or '?'}"
        error = f": {receipt.error}" if receipt.error else ""
        lines.append(f"PEC {receipt.kind}: {said} {_moment(receipt)}{error}")
    for number, attachment in attachments.get(message.inbound_id or 0, []):
        refused = f"  NOT ACCEPTED ({REFUSED.get(attachment.refused, attachment.refused)})"
        lines.append(
            f"attachment {number}: {attachment.filename}  {attachment.content_type}"
            f"  {_size(attachment.size)}{refused if attachment.refused else ''}"
        )
    return lines


async def _write_attachment(
    store: Store, ticket: Ticket, number: int, target: Path, out: TextIO
) -> int:
    """Copy attachment ``number`` of the ticket out of its kept mail into a new file."""
    listed = await store.inbound.ticket_attachments(ticket.id)
    if not 0 < number <= len(listed):
        print(f"{ticket.reference} has no attachment {number}", file=sys.stderr)
        return 1
    attachment = listed[number - 1]
    if attachment.refused:
        print(
            f"attachment {number} was not accepted ({REFUSED.get(attachment.refused, '')});"
            f" the whole mail: python main.py tickets mail {attachment.inbound_id} --out F.eml",
            file=sys.stderr,
        )
        return 1
    raw = await store.inbound.raw(attachment.inbound_id)
    data = None
    if raw is not None:
        data = await asyncio.to_thread(attachment_bytes, raw, attachment.number, attachment.sha256)
    if data is None:
        print(f"attachment {number}: its bytes are not in the kept mail", file=sys.stderr)
        return 1
    path = target / attachment.filename if target.is_dir() else target
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        print(f"{path} exists: nothing written (choose another name)", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot write {path}: {exc.strerror}", file=sys.stderr)
        return 1
    with os.fdopen(fd, "wb") as file:
        file.write(data)
    print(
        f"{ticket.reference} attachment {number}: {attachment.filename}"
        f" ({_size(len(data))}) written to {path}",
        file=out,
    )
    return 0


def _line(ticket: Ticket) -> str:
    status = STATUS_LABELS.get(ticket.status, ticket.status)
    return (
        f"{ticket.reference:<10} {ticket.id:>5} {status:<14} {ticket.channel:<9}"
        f" {_when(ticket.updated_at):<17} {ticket.subject[:60]}"
    )


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _moment(pec: PecRecord) -> str:
    """When the provider certified it, in the provider's time zone (else when it arrived)."""
    if pec.certified_at is not None:
        return f"on {pec.certified_at:%Y-%m-%d at %H:%M:%S %z}"
    return f"(received {_when(pec.received_at)} UTC)"


def _size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def _reason(exc: OSError | UnicodeDecodeError) -> str:
    """Why a file could not be read, in a few words."""
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text (save it as UTF-8)"
    return exc.strerror or type(exc).__name__
