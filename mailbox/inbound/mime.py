"""Reading untrusted MIME: header and body text in any charset, never raising."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from email.header import Header, decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser
from typing import TypeVar

T = TypeVar("T")
D = TypeVar("D")

MAX_TEXT_CHARS = 100_000
MAX_IDS = 50
MSGID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

_SURROGATE = re.compile("[\udc80-\udcff]")

_QUOTE_STARTS = re.compile(
    r"^(on .{0,200} wrote:|il giorno .{0,200} ha scritto:|il .{0,200} ha scritto:"
    r"|-{2,} ?original message ?-{2,}|-{2,} ?messaggio originale ?-{2,}"
    r"|-{2,} ?forwarded message ?-{2,}|(from|da|inviato|sent): .+|-- )$",
    re.IGNORECASE,
)


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


def header_fields(msg: Message) -> dict[str, list[object]]:
    """Every header of ``msg`` by lower-case name, in order: read them once."""
    fields: dict[str, list[object]] = {}
    for header, value in msg.items():
        fields.setdefault(header.lower(), []).append(value)
    return fields


def first_address(values: Sequence[object]) -> tuple[str, str]:
    """(display name, lower-case address) of the first plausible address, or ("", "")."""
    try:
        pairs = getaddresses([header_text(v) for v in values])
    except Exception:
        return "", ""
    for name, address in pairs:
        address = address.strip().lower()
        if plausible_address(address):
            return name.strip()[:200], address
    return "", ""


def plausible_address(address: str) -> bool:
    """Whether a lower-case address looks like one (no spaces, brackets or quotes)."""
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain and len(address) <= 254) and not any(
        c.isspace() or c in "<>,;\"'" for c in address
    )


def body_text(msg: Message) -> str:
    """The readable text: the first text/plain part that is not an attachment, else HTML."""
    plain = html = None
    for part in walk(msg):
        if part.is_multipart() or _is_attachment(part):
            continue
        kind = safe(part.get_content_type, "text/plain")
        if kind == "text/plain" and plain is None:
            plain = part_text(part)
        elif kind == "text/html" and html is None:
            html = html_to_text(part_text(part))
        if plain:
            break
    return clean_text(plain or html or "")[:MAX_TEXT_CHARS].strip()


def part_text(part: Message) -> str:
    """A part's text, decoded with its charset (or a good guess)."""
    payload = safe(lambda: part.get_payload(decode=True), None)
    if isinstance(payload, bytes):
        return decode_bytes(payload[: MAX_TEXT_CHARS * 4], safe(part.get_content_charset, None))
    raw = part.get_payload()
    return raw if isinstance(raw, str) else ""


def _is_attachment(part: Message) -> bool:
    disposition = str(safe(lambda: part.get("Content-Disposition", ""), "") or "").lower()
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


def message_ids(value: object) -> tuple[str, ...]:
    """The distinct ``<id@host>`` a header names, the last ones kept."""
    found = MSGID.findall(header_text(value)) if value is not None else []
    return tuple(dict.fromkeys(found))[-MAX_IDS:]


def first_message_id(value: object) -> str | None:
    """The first ``<id@host>`` a header names, or None."""
    if value is None:
        return None
    found = MSGID.findall(header_text(value))
    return found[0][:500] if found else None


def walk(msg: Message) -> Iterator[Message]:
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


def safe(function: Callable[[], T], default: D) -> T | D:
    """``function()``, or ``default`` when it raises (the email package has odd corners)."""
    try:
        return function()
    except Exception:
        return default
