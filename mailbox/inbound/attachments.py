"""The attachments of an incoming mail, for staff: described when the mail is parsed, written out
of the kept raw mail when staff ask.

An attachment is a leaf part that is not the mail's text: ``Content-Disposition: attachment``,
a part with a file name, any non-text part (an inline photo), an attached message (kept whole,
not opened). Not attachments: the body's text and HTML, report parts, the signature of a
``multipart/signed``, and the PEC envelope's own parts (``daticert.xml``, ``smime.p7s``): of a
PEC mail, only the customer's message inside is read (``customer_message``).

Nothing here opens, runs or renders an attachment: its bytes are counted and hashed. Only the
description (number, safe name, type, size, sha256) is stored with the mail, so listing a
ticket's attachments is one query; the bytes stay in the raw mail (``inbound_raw``) and
``attachment_bytes`` finds them again by their hash. File names come from the sender and are
hostile (``../../etc/passwd``, terminal escapes, bidirectional overrides): ``safe_filename``
makes each a plain file name, safe to print and to create in a folder.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from email import message_from_bytes
from email.message import Message
from email.policy import compat32

from mailbox.inbound.mime import header_fields, header_text, safe
from mailbox.inbound.pec import PecEnvelope, open_envelope

MAX_PARTS = 1000
MAX_NAME_CHARS = 120
TOO_LARGE = "too_large"  # over ATTACHMENT_MAX_BYTES
TOO_MANY = "too_many"  # past the first ATTACHMENTS_MAX_COUNT
ATTACHED_MESSAGES = ("message/rfc822", "message/global")
SIGNATURES = frozenset(
    {"application/pkcs7-signature", "application/x-pkcs7-signature", "application/pgp-signature"}
)
_CONTENT_TYPE = re.compile(r"[a-z0-9!#$&^_.+\-]{1,60}/[a-z0-9!#$&^_.+\-]{1,80}")
_WINDOWS = re.compile(r'[<>:"/\\|?*]')
_RESERVED = re.compile(r"^(con|prn|aux|nul|com\d|lpt\d)(\..*)?$", re.IGNORECASE)


@dataclass(frozen=True)
class Attachment:
    """One attachment as staff see it listed."""

    number: int  # 1, 2, ... in the mail's order
    filename: str  # safe_filename: no folders, no control characters, never empty
    content_type: str  # as declared (never sniffed, never trusted), e.g. application/pdf
    size: int  # bytes, decoded
    sha256: str  # of the decoded bytes: finds them again in the raw mail


def customer_message(msg: Message, envelope: PecEnvelope | None) -> Message | None:
    """The message that holds the sender's words and attachments: the mail itself, the one
    inside a PEC envelope, or None (a PEC receipt, an envelope without its message)."""
    return msg if envelope is None else envelope.inner


def read_attachments(content: Message | None) -> tuple[Attachment, ...]:
    """The attachments of ``content``, described, in order."""
    if content is None:
        return ()
    found = []
    for number, part in enumerate(_attachment_parts(content), 1):
        data = _content(part)
        kind = content_type(part)
        found.append(
            Attachment(
                number=number,
                filename=safe_filename(_filename(part), kind, number),
                content_type=kind,
                size=len(data),
                sha256=hashlib.sha256(data).hexdigest(),
            )
        )
    return tuple(found)


def attachment_bytes(raw: bytes, number: int, sha256: str) -> bytes | None:
    """The bytes of attachment ``number`` of a kept raw mail, checked against ``sha256`` (the
    whole mail is searched if the numbering ever differs); None when it is not there."""
    msg = message_from_bytes(raw, policy=compat32)
    content = customer_message(msg, open_envelope(msg, header_fields(msg)))
    if content is None:
        return None
    parts = _attachment_parts(content)
    listed = parts[number - 1 : number] if number > 0 else []
    for part in (*listed, *parts):
        data = _content(part)
        if hashlib.sha256(data).hexdigest() == sha256:
            return data
    return None


def refused_attachments(
    attachments: Sequence[Attachment], *, max_bytes: int, max_count: int
) -> dict[int, str]:
    """The attachments not accepted, by number: over ``max_bytes`` (``TOO_LARGE``), or past
    the first ``max_count`` accepted ones (``TOO_MANY``). Staff see them listed, cannot write
    them out, and the sender is told."""
    refused: dict[int, str] = {}
    accepted = 0
    for attachment in attachments:
        if attachment.size > max_bytes:
            refused[attachment.number] = TOO_LARGE
        elif accepted >= max_count:
            refused[attachment.number] = TOO_MANY
        else:
            accepted += 1
    return refused


def safe_filename(name: str | None, kind: str, number: int) -> str:
    """A plain file name from a hostile one: encoded words decoded, the last path step only,
    no control, format or bidirectional characters, no leading dots, no characters or device
    names Windows refuses, at most ``MAX_NAME_CHARS`` (the extension kept); never empty."""
    text = unicodedata.normalize("NFC", header_text(name)) if name else ""
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(c for c in text if not unicodedata.category(c).startswith("C"))
    text = _WINDOWS.sub("_", " ".join(text.split())).strip(" .")
    if _RESERVED.match(text):
        text = f"_{text}"
    if len(text) > MAX_NAME_CHARS:
        stem, dot, extension = text.rpartition(".")
        if dot and stem and 0 < len(extension) <= 10:
            text = f"{stem[: MAX_NAME_CHARS - len(extension) - 1].rstrip(' .')}.{extension}"
        else:
            text = text[:MAX_NAME_CHARS].rstrip(" .")
    if text:
        return text
    extension = mimetypes.guess_extension(kind, strict=False) or ".bin"
    return f"attachment-{number}{extension}"


def content_type(part: Message) -> str:
    """The declared type, or application/octet-stream when it is not a plain ``type/subtype``."""
    kind = str(safe(part.get_content_type, "") or "").lower()
    return kind if _CONTENT_TYPE.fullmatch(kind) else "application/octet-stream"


def _attachment_parts(msg: Message) -> list[Message]:
    """The attachment parts, depth-first in the mail's order; attached messages not opened."""
    found: list[Message] = []
    stack: list[tuple[Message, bool]] = [(msg, False)]  # (part, in a signature's place)
    seen = 0
    while stack and seen < MAX_PARTS:
        part, signature = stack.pop()
        seen += 1
        kind = content_type(part)
        payload = part.get_payload()
        if kind.startswith("multipart/"):
            if isinstance(payload, list):
                children = [p for p in payload if isinstance(p, Message)]
                signed = kind == "multipart/signed"
                stack.extend((c, signed and n > 0) for n, c in reversed(list(enumerate(children))))
            continue
        if signature and kind in SIGNATURES:
            continue
        if _is_attachment(part, kind):
            found.append(part)
    return found


def _is_attachment(part: Message, kind: str) -> bool:
    if kind in ATTACHED_MESSAGES:
        return True
    if kind.startswith("message/") or kind == "text/rfc822-headers":
        return False  # the parts of a delivery or read report
    disposition = str(safe(lambda: part.get("Content-Disposition", ""), "") or "").lower()
    if disposition.strip().startswith("attachment") or _filename(part):
        return True
    return not kind.startswith("text/")


def _filename(part: Message) -> str | None:
    name = safe(part.get_filename, None)  # Content-Disposition filename, else Content-Type name
    if isinstance(name, str) and name.strip():
        return name
    if content_type(part) in ATTACHED_MESSAGES:
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            subject = header_text(inner[0]["Subject"])[:80]
            return f"{subject or 'message'}.eml"
    return None


def _content(part: Message) -> bytes:
    """The decoded bytes of a part; an attached message as its bytes."""
    if content_type(part) in ATTACHED_MESSAGES:
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            message = inner[0]
            data = safe(message.as_bytes, b"")
            return data if isinstance(data, bytes) else b""
    decoded = safe(lambda: part.get_payload(decode=True), None)
    return decoded if isinstance(decoded, bytes) else b""


__all__ = [
    "TOO_LARGE",
    "TOO_MANY",
    "Attachment",
    "attachment_bytes",
    "customer_message",
    "read_attachments",
    "refused_attachments",
    "safe_filename",
]
