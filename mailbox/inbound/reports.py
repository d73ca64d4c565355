"""Delivery reports and bounces: which of our messages failed, for whom, and how."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.utils import getaddresses

from mailbox.inbound.mime import (
    MAX_IDS,
    MSGID,
    header_text,
    message_ids,
    part_text,
    plausible_address,
    safe,
    walk,
)

SYSTEM_SENDERS = re.compile(  # senders no person writes from
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|mail-?daemon|auto-?reply"
    r"|autoresponder|notifications?|posta-certificata)([+\-._].*)?@",  # and PEC providers' robots
)


@dataclass(frozen=True)
class Bounce:
    """What a delivery report tells: our Message-IDs, the recipients, actions and status."""

    message_ids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    status: str = ""


def may_report_delivery(
    content_type: str, sender: str, headers: dict[str, str], msg: Message
) -> bool:
    """Whether the mail can be a delivery report or bounce at all: any multipart mail, or one
    from a system sender, with the null Return-Path or another automation header (a person's
    plain mail is not read twice for nothing)."""
    return (
        msg.is_multipart()
        or content_type != "text/plain"
        or bool(SYSTEM_SENDERS.match(sender))
        or headers.get("return-path", "").strip() == "<>"
        or any(name != "return-path" for name in headers)
    )


def bounce_details(msg: Message) -> Bounce:
    """Message-IDs and recipients a delivery report (or a plain bounce) names."""
    ids: list[str] = []
    recipients: list[str] = []
    actions: list[str] = []
    status = ""
    for part in walk(msg):
        kind = safe(part.get_content_type, "")
        payload = part.get_payload()
        if kind in ("message/rfc822", "message/global") and isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, Message) and inner["Message-ID"]:
                    ids.extend(message_ids(inner["Message-ID"]))
        elif kind in ("text/rfc822-headers", "text/plain", "message/rfc822-headers"):
            text = part_text(part)
            if kind == "text/plain":  # a bounce without a report quotes the original
                ids.extend(MSGID.findall(text[:200_000]))
            else:
                ids.extend(
                    message_ids(message_from_bytes(text.encode("utf-8", "replace"))["Message-ID"])
                )
        elif kind in ("message/delivery-status", "message/global-delivery-status"):
            blocks = payload if isinstance(payload, list) else []
            for block in blocks:
                if not isinstance(block, Message):
                    continue
                named = block["Final-Recipient"] or block["Original-Recipient"]
                if named:
                    field_value = header_text(named)
                    address = field_value.rpartition(";")[2].strip().strip("<>").lower()
                    if plausible_address(address):
                        recipients.append(address)
                if block["Action"]:
                    actions.append(header_text(block["Action"]).lower()[:20])
                if block["Status"] and not status:
                    status = header_text(block["Status"])[:20]
    for value in msg.get_all("X-Failed-Recipients") or []:
        for _, address in getaddresses([header_text(value)]):
            if plausible_address(address.lower()):
                recipients.append(address.lower())
    return Bounce(
        message_ids=tuple(dict.fromkeys(ids))[:MAX_IDS],
        recipients=tuple(dict.fromkeys(recipients))[:MAX_IDS],
        actions=tuple(actions)[:MAX_IDS],
        status=status,
    )
