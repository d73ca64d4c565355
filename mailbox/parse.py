"""Untrusting parsing of raw mail: any charset, broken MIME, missing headers never raise."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import message_from_bytes
from email.header import Header, decode_header, make_header
from email.message import Message
from email.policy import compat32
from email.utils import getaddresses, parsedate_to_datetime
from html.parser import HTMLParser
from typing import TypeVar

logger = logging.getLogger(__name__)

T = TypeVar("T")
D = TypeVar("D")

MAX_TEXT_CHARS = 100_000
MAX_SUBJECT_CHARS = 300
MAX_IDS = 50
AUTOMATION_HEADERS = (
    "auto-submitted",
    "precedence",
    "x-autoreply",
    "x-autorespond",
    "x-auto-response-suppress",
    "list-id",
    "return-path",
    "x-failed-recipients",
)
_MSGID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
SYSTEM_SENDERS = re.compile(  # senders no person writes from
    r"^(mailer-daemon|postmaster|no-?reply|do-?not-?reply|bounces?|mail-?daemon|auto-?reply"
    r"|autoresponder|notifications?)([+\-._].*)?@",
)
_SURROGATE = re.compile("[\udc80-\udcff]")
_QUOTE_STARTS = re.compile(
    r"^(on .{0,200} wrote:|il giorno .{0,200} ha scritto:|il .{0,200} ha scritto:"
    r"|-{2,} ?original message ?-{2,}|-{2,} ?messaggio originale ?-{2,}"
    r"|-{2,} ?forwarded message ?-{2,}|(from|da|inviato|sent): .+|-- )$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ParsedMail:
    """What the worker needs from one message, decoded and cleaned; nothing here is trusted."""

    message_id: str | None
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    subject: str
    sender: str  # the From address, lower case, or ""
    sender_name: str
    reply_to: str  # where an answer goes: Reply-To, else From (lower case, or "")
    date: datetime | None
    content_type: str
    report_type: str  # of a multipart/report, e.g. delivery-status
    text: str  # the readable body: text/plain, else the text of the HTML
    new_text: str  # ``text`` without the quoted reply and the signature
    size: int
    header_only: bool  # the body was not downloaded (over the size limit)
    headers: dict[str, str] = field(default_factory=dict)  # AUTOMATION_HEADERS present
    bounced_message_ids: tuple[str, ...] = ()  # Message-IDs named inside a delivery report
    bounced_recipients: tuple[str, ...] = ()  # Final-Recipient / X-Failed-Recipients
    bounce_actions: tuple[str, ...] = ()  # DSN Action values: failed, delayed, ...
    bounce_status: str = ""  # the first DSN Status, e.g. 5.1.1
    defects: int = 0

    @property
    def references_chain(self) -> tuple[str, ...]:
        """References then In-Reply-To, without repeats: the thread this mail answers."""
        return tuple(dict.fromkeys((*self.references, *self.in_reply_to)))


def parse_mail(raw: bytes, *, size: int | None = None, header_only: bool = False) -> ParsedMail:
    """Parse raw bytes; never raises: the worst input gives a mail with empty fields."""
    try:
        return _parse(raw, size=len(raw) if size is None else size, header_only=header_only)
    except Exception as exc:  # the email package has odd corners; a mail must still be handled
        logger.warning("unparseable mail (%s); keeping it as plain text", type(exc).__name__)
        text = clean_text(raw.decode("latin-1"))[:MAX_TEXT_CHARS]
        return ParsedMail(
            message_id=None,
            in_reply_to=(),
            references=(),
            subject="",
            sender="",
            sender_name="",
            reply_to="",
            date=None,
            content_type="text/plain",
            report_type="",
            text=text,
            new_text=strip_quoted(text),
            size=len(raw) if size is None else size,
            header_only=header_only,
            defects=1,
        )


def _parse(raw: bytes, *, size: int, header_only: bool) -> ParsedMail:
    msg = message_from_bytes(raw, policy=compat32)
    fields: dict[str, list[object]] = {}  # every header by lower-case name: read them once
    for header, value in msg.items():
        fields.setdefault(header.lower(), []).append(value)

    def first(header: str) -> object:
        values = fields.get(header)
        return values[0] if values else None

    name, sender = first_address(fields.get("from", []))
    _, reply_to = first_address(fields.get("reply-to", []))
    decoded: dict[int, str] = {}  # each part's text, decoded once (body and bounce read it)
    text = "" if header_only else body_text(msg, decoded)
    headers = {h: header_text(first(h))[:200].lower() for h in AUTOMATION_HEADERS if h in fields}
    content_type = _safe(msg.get_content_type, "text/plain")
    bounce = (
        _bounce_details(msg, decoded)
        if not header_only and _may_report_delivery(content_type, sender, headers, msg)
        else _Bounce()
    )
    return ParsedMail(
        message_id=_first_id(first("message-id")),
        in_reply_to=_ids(first("in-reply-to")),
        references=_ids(first("references")),
        subject=" ".join(header_text(first("subject")).split())[:MAX_SUBJECT_CHARS],
        sender=sender,
        sender_name=name,
        reply_to=reply_to or sender,
        date=_date(first("date")),
        content_type=content_type,
        report_type=(
            str(_safe(lambda: msg.get_param("report-type"), "") or "").lower()[:50]
            if content_type == "multipart/report"
            else ""
        ),
        text=text,
        new_text=strip_quoted(text),
        size=size,
        header_only=header_only,
        headers=headers,
        bounced_message_ids=bounce.message_ids,
        bounced_recipients=bounce.recipients,
        bounce_actions=bounce.actions,
        bounce_status=bounce.status,
        defects=sum(len(part.defects) for part in _walk(msg)),
    )


# --- text ---------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """No surrogates, no control characters but tab and newline, Unix newlines."""
    text = text.encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, else UTF-8, else Windows-1252; never raises."""
    candidates = [c for c in ((charset or "").strip(" \"'").lower(), "utf-8", "cp1252") if c]
    for candidate in candidates:
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def header_text(value: object) -> str:
    """A header's text: RFC 2047 words decoded, raw 8-bit bytes guessed, cleaned."""
    if value is None:
        return ""
    try:
        if isinstance(value, Header):  # compat32 hands raw 8-bit headers over as Header
            text = "".join(
                decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
                for chunk, charset in decode_header(value)
            )
        else:
            text = str(value)
            if "=?" in text:  # RFC 2047 encoded words
                text = _decode_words(text)
    except Exception:
        text = str(value)
    if _SURROGATE.search(text):  # 8-bit bytes kept by surrogateescape
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
    return clean_text(text).replace("\n", " ").replace("\t", " ").strip()


def _decode_words(raw: str) -> str:
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # unknown charset, broken encoded word: decode what can be decoded
        return "".join(
            decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk
            for chunk, charset in decode_header(raw)
        )


def first_address(values: Sequence[object]) -> tuple[str, str]:
    """(display name, lower-case address) of the first plausible address, or ("", "")."""
    try:
        pairs = getaddresses([header_text(v) for v in values])
    except Exception:
        return "", ""
    for name, address in pairs:
        address = address.strip().lower()
        if _plausible_address(address):
            return name.strip()[:200], address
    return "", ""


def _plausible_address(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain and len(address) <= 254) and not any(
        c.isspace() or c in "<>,;\"'" for c in address
    )


def body_text(msg: Message, decoded: dict[int, str] | None = None) -> str:
    """The readable text: the first text/plain part that is not an attachment, else HTML."""
    plain = html = None
    for part in _walk(msg):
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = _safe(part.get_content_type, "text/plain")
        if kind == "text/plain" and plain is None:
            plain = _part_text(part, decoded)
        elif kind == "text/html" and html is None:
            html = html_to_text(_part_text(part, decoded))
        if plain:
            break
    return clean_text(plain or html or "")[:MAX_TEXT_CHARS].strip()


def _part_text(part: Message, decoded: dict[int, str] | None = None) -> str:
    """A part's text (kept in ``decoded`` for the next reader of the same part)."""
    if decoded is None:
        return _decode_part(part)
    text = decoded.get(id(part))
    if text is None:
        text = decoded[id(part)] = _decode_part(part)
    return text


def _decode_part(part: Message) -> str:
    payload = _safe(lambda: part.get_payload(decode=True), None)
    if isinstance(payload, bytes):
        return decode_bytes(payload[: MAX_TEXT_CHARS * 4], _safe(part.get_content_charset, None))
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _is_attachment(part: Message) -> bool:
    disposition = str(_safe(lambda: part.get("Content-Disposition", ""), "") or "").lower()
    return disposition.startswith("attachment")


def strip_quoted(text: str) -> str:
    """The new part of a reply: stops at the quoted original or the signature."""
    kept = []
    for line in text.split("\n"):
        stripped = line.strip()
        if _QUOTE_STARTS.match(line.rstrip()) or stripped == "--":
            break
        if stripped.startswith(">"):
            continue
        kept.append(line.rstrip())
    return "\n".join(kept).strip()


class _HtmlText(HTMLParser):
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "blockquote"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head"):
            self._skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def html_to_text(markup: str) -> str:
    """The visible text of an HTML body (no script, no style), one block per line."""
    parser = _HtmlText()
    try:
        parser.feed(markup[: MAX_TEXT_CHARS * 4])
        parser.close()
    except Exception:
        return re.sub(r"<[^>]*>", " ", markup)
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


# --- identifiers, dates, delivery reports --------------------------------------------------


def _ids(value: object) -> tuple[str, ...]:
    found = _MSGID.findall(header_text(value)) if value is not None else []
    return tuple(dict.fromkeys(found))[-MAX_IDS:]


def _first_id(value: object) -> str | None:
    if value is None:
        return None
    found = _MSGID.findall(header_text(value))
    return found[0][:500] if found else None


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(header_text(value))
    except Exception:
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class _Bounce:
    message_ids: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    status: str = ""


def _may_report_delivery(
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


def _bounce_details(msg: Message, decoded: dict[int, str] | None = None) -> _Bounce:
    """Message-IDs and recipients a delivery report (or a plain bounce) names."""
    ids: list[str] = []
    recipients: list[str] = []
    actions: list[str] = []
    status = ""
    for part in _walk(msg):
        kind = _safe(part.get_content_type, "")
        payload = part.get_payload()
        if kind in ("message/rfc822", "message/global") and isinstance(payload, list):
            for inner in payload:
                if isinstance(inner, Message) and inner["Message-ID"]:
                    ids.extend(_ids(inner["Message-ID"]))
        elif kind in ("text/rfc822-headers", "text/plain", "message/rfc822-headers"):
            text = _part_text(part, decoded)
            if kind == "text/plain":  # a bounce without a report quotes the original
                ids.extend(_MSGID.findall(text[:200_000]))
            else:
                ids.extend(_ids(message_from_bytes(text.encode("utf-8", "replace"))["Message-ID"]))
        elif kind in ("message/delivery-status", "message/global-delivery-status"):
            blocks = payload if isinstance(payload, list) else []
            for block in blocks:
                if not isinstance(block, Message):
                    continue
                named = block["Final-Recipient"] or block["Original-Recipient"]
                if named:
                    field_value = header_text(named)
                    address = field_value.rpartition(";")[2].strip().strip("<>").lower()
                    if _plausible_address(address):
                        recipients.append(address)
                if block["Action"]:
                    actions.append(header_text(block["Action"]).lower()[:20])
                if block["Status"] and not status:
                    status = header_text(block["Status"])[:20]
    for value in msg.get_all("X-Failed-Recipients") or []:
        for _, address in getaddresses([header_text(value)]):
            if _plausible_address(address.lower()):
                recipients.append(address.lower())
    return _Bounce(
        message_ids=tuple(dict.fromkeys(ids))[:MAX_IDS],
        recipients=tuple(dict.fromkeys(recipients))[:MAX_IDS],
        actions=tuple(actions)[:MAX_IDS],
        status=status,
    )


def _walk(msg: Message) -> Iterator[Message]:
    """Every part, depth-first, without trusting the structure (cycles, odd payloads)."""
    stack: list[Message] = [msg]
    seen = 0
    while stack and seen < 1000:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if isinstance(payload, list):
            stack.extend(reversed([p for p in payload if isinstance(p, Message)]))


def _safe(function: Callable[[], T], default: D) -> T | D:
    try:
        return function()
    except Exception:
        return default
