"""PEC (posta elettronica certificata): the provider's envelope around a mail, and its receipts.

A mail sent from a PEC box reaches us inside its provider's *transport envelope*:

    From: "Per conto di: cliente@pec.it" <posta-certificata@provider>
    Reply-To: cliente@pec.it
    Subject: POSTA CERTIFICATA: <the customer's subject>
    X-Trasporto: posta-certificata
    multipart/signed
      multipart/mixed
        multipart/alternative   "Messaggio di posta certificata ... Il giorno ... alle ore ..."
        daticert.xml            the certificate: sender, recipients, time, identifier, msgid
        postacert.eml           message/rfc822: the customer's own mail
      smime.p7s                 the provider's signature

(``X-Trasporto: errore``, "ANOMALIA MESSAGGIO", wraps a mail that reached a PEC box uncertified.)
The envelope is opened here: the customer's mail is ``postacert.eml``, while an answer goes to
the envelope's Reply-To (the PEC box the customer wrote from). Receipts (``X-Ricevuta``:
accettazione, avvenuta-consegna, errore-consegna, ...) are automatic mail about a mail *we*
sent (``X-Riferimento-Message-ID``); they are never unwrapped and never answered.

``daticert.xml`` is untrusted: it is read with expat alone, size-limited, and a document that
declares an entity is refused (no expansion, no external fetch).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from xml.parsers import expat

from mailbox.inbound.mime import (
    first_address,
    first_message_id,
    header_text,
    plausible_address,
    safe,
)

TRANSPORT_KINDS = frozenset({"posta-certificata", "errore"})  # envelopes around a person's mail
RECEIPT_KINDS = frozenset(
    {
        "accettazione",
        "non-accettazione",
        "presa-in-carico",
        "avvenuta-consegna",
        "errore-consegna",
        "preavviso-errore-consegna",
        "rilevazione-virus",
    }
)
DELIVERY_FAILED = "errore-consegna"  # our mail did not reach the recipient's PEC box
DATICERT = "daticert.xml"
POSTACERT = "postacert.eml"
MAX_DATICERT_BYTES = 64 * 1024
MAX_XML_ELEMENTS = 500
MAX_XML_TEXT = 2000
MAX_ENVELOPE_PARTS = 50
_PREFIX = re.compile(r"^\s*(posta certificata|anomalia messaggio)\s*:\s*", re.IGNORECASE)
_ON_BEHALF = re.compile(r"per conto di\s*:?\s*<?([^\s<>\"']+@[^\s<>\"']+)", re.IGNORECASE)
_KIND = re.compile(r"[a-z][a-z\-]{0,39}")
_ROBOT = re.compile(r"\bposta-certificata@", re.IGNORECASE)  # From of every envelope and receipt
_DSN_CODE = re.compile(r"\b[245]\.\d{1,3}\.\d{1,3}\b")
_ZONE = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True)
class PecCertificate:
    """What a PEC mail certifies: its kind, and what its ``daticert.xml`` says (when it has one)."""

    kind: str  # posta-certificata | errore (envelopes); accettazione, avvenuta-consegna, ...
    sender: str = ""  # <mittente>: the PEC box that sent the certified mail
    recipients: tuple[str, ...] = ()  # <destinatari>
    delivered_to: tuple[str, ...] = ()  # <consegna>: the box a receipt speaks of
    provider: str = ""  # <gestore-emittente>
    certified_at: datetime | None = None  # <data>: when the provider certified the event
    identifier: str = ""  # <identificativo>: the provider's id of the transaction
    message_id: str | None = None  # <msgid>: the Message-ID of the certified mail
    refers_to: str | None = None  # the mail a receipt certifies (X-Riferimento-Message-ID)
    error: str = ""  # <postacert errore=...> when not "nessuno", and <errore-esteso>

    @property
    def is_receipt(self) -> bool:
        """A receipt (automatic mail about a mail sent), not an envelope around a person's mail."""
        return self.kind not in TRANSPORT_KINDS

    @property
    def delivery_failed(self) -> bool:
        """An ``errore-consegna``: the certified mail could not be delivered."""
        return self.kind == DELIVERY_FAILED

    @property
    def failure_status(self) -> str:
        """For a failed delivery: a DSN code from the error text, else the error's kind."""
        found = _DSN_CODE.search(self.error)
        return found.group() if found else (self.error.split(":")[0].strip() or "5.0.0")[:20]


@dataclass(frozen=True)
class PecEnvelope:
    """An opened PEC mail: its certificate and, for a transport envelope, the mail inside."""

    certificate: PecCertificate
    inner: Message | None  # postacert.eml, the customer's mail; None for receipts
    sender: str  # the PEC box it comes from, where an answer goes: the envelope's Reply-To,
    # else its "Per conto di: ...", else daticert's <mittente>
    subject: str  # the envelope's subject without the provider's "POSTA CERTIFICATA: "


def open_envelope(
    msg: Message, fields: Mapping[str, Sequence[object]], *, header_only: bool = False
) -> PecEnvelope | None:
    """The PEC envelope or receipt this mail is, opened; None for any other mail.

    Recognised by ``X-Ricevuta`` / ``X-Trasporto``, or by a ``daticert.xml`` among the
    envelope's own parts of a provider's signed mail (a relay may drop the headers; a person's
    mail with a file of that name is not one). ``header_only``: the body was not downloaded,
    only the headers tell.
    """
    kind = _header_kind(fields)
    if not kind and not _signed_by_a_provider(msg, fields):
        return None
    parts = [] if header_only else envelope_parts(msg)
    daticert = next((p for p in parts if _named(p, DATICERT)), None)
    data = read_daticert(_payload(daticert)) if daticert is not None else None
    if not kind and data is not None:
        kind = _clean_kind(data.attributes.get("postacert", {}).get("tipo", ""))
    if not kind:
        return None
    certificate = _certificate(kind, fields, data)
    inner = None if certificate.is_receipt else _inner_message(parts)
    _, reply_to = first_address(fields.get("reply-to", []))
    on_behalf = _ON_BEHALF.search(" ".join(header_text(v) for v in fields.get("from", [])))
    behalf = on_behalf.group(1).lower() if on_behalf else ""
    sender = next((a for a in (reply_to, behalf, certificate.sender) if plausible_address(a)), "")
    subject = header_text(fields["subject"][0]) if fields.get("subject") else ""
    return PecEnvelope(
        certificate=certificate,
        inner=inner,
        sender=sender,
        subject=_PREFIX.sub("", subject),
    )


def envelope_parts(msg: Message) -> list[Message]:
    """The envelope's own leaves (text, daticert.xml, postacert.eml, smime.p7s), in order:
    multipart containers opened, attached messages not."""
    if not msg.is_multipart():
        return []
    found: list[Message] = []
    stack: list[tuple[Message, int]] = [(msg, 0)]
    while stack and len(found) < MAX_ENVELOPE_PARTS:
        part, depth = stack.pop()
        payload = part.get_payload()
        kind = safe(part.get_content_type, "")
        if kind.startswith("multipart/") and isinstance(payload, list) and depth < 4:
            children = [p for p in payload if isinstance(p, Message)]
            stack.extend((child, depth + 1) for child in reversed(children))
        elif part is not msg:
            found.append(part)
    return found


@dataclass(frozen=True)
class DatiCert:
    """The elements of a ``daticert.xml`` this module reads: texts by name, attributes by name."""

    texts: Mapping[str, tuple[str, ...]]
    attributes: Mapping[str, Mapping[str, str]]

    def first(self, name: str) -> str:
        """The first text of an element, or ""."""
        values = self.texts.get(name, ())
        return values[0] if values else ""


class _Refused(Exception):
    """The XML declares an entity, or is too large: it is not read."""


def read_daticert(data: bytes) -> DatiCert | None:
    """The certificate's fields, or None when the XML is too large, malformed or declares an
    entity. Reads element texts and attributes only: no DTD, no entity, no external fetch."""
    if not data or len(data) > MAX_DATICERT_BYTES:
        return None
    texts: dict[str, list[str]] = {}
    attributes: dict[str, dict[str, str]] = {}
    stack: list[tuple[str, list[str]]] = []
    count = 0

    def refuse(*_: object) -> None:
        raise _Refused("entity declaration")

    def refuse_external(*_: object) -> int:
        raise _Refused("external entity")

    def start(name: str, attrs: dict[str, str]) -> None:
        nonlocal count
        count += 1
        if count > MAX_XML_ELEMENTS:
            raise _Refused("too many elements")
        local = name.rpartition(":")[2].lower()
        if local not in attributes and attrs:
            attributes[local] = {k.lower(): v[:MAX_XML_TEXT] for k, v in list(attrs.items())[:20]}
        stack.append((local, []))

    def end(name: str) -> None:
        local, chunks = stack.pop()
        text = " ".join("".join(chunks).split())[:MAX_XML_TEXT]
        if text:
            texts.setdefault(local, []).append(text)

    def characters(text: str) -> None:
        if stack and sum(map(len, stack[-1][1])) < MAX_XML_TEXT:
            stack[-1][1].append(text)

    parser = expat.ParserCreate()
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.EntityDeclHandler = refuse
    parser.UnparsedEntityDeclHandler = refuse
    parser.ExternalEntityRefHandler = refuse_external
    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = characters
    try:
        parser.Parse(data, True)
    except (_Refused, expat.ExpatError, ValueError, IndexError, UnicodeError):
        return None
    return DatiCert(
        texts={k: tuple(v[:MAX_ENVELOPE_PARTS]) for k, v in texts.items()},
        attributes=attributes,
    )


def _certificate(
    kind: str, fields: Mapping[str, Sequence[object]], data: DatiCert | None
) -> PecCertificate:
    referred = fields.get("x-riferimento-message-id")
    refers_to = first_message_id(referred[0]) if referred else None
    if data is None:
        return PecCertificate(kind=kind, refers_to=refers_to)
    message_id = _message_id(data.first("msgid"))
    error = data.attributes.get("postacert", {}).get("errore", "").strip().lower()
    detail = data.first("errore-esteso")
    return PecCertificate(
        kind=kind,
        sender=_address(data.first("mittente")),
        recipients=_addresses(data.texts.get("destinatari", ())),
        delivered_to=_addresses(data.texts.get("consegna", ())),
        provider=data.first("gestore-emittente")[:200],
        certified_at=_moment(
            data.first("giorno"), data.first("ora"), data.attributes.get("data", {}).get("zona")
        ),
        identifier=data.first("identificativo")[:300],
        message_id=message_id,
        refers_to=(refers_to or message_id) if kind in RECEIPT_KINDS else refers_to,
        error=": ".join(p for p in ("" if error == "nessuno" else error, detail) if p)[:500],
    )


def _header_kind(fields: Mapping[str, Sequence[object]]) -> str:
    """The kind the provider's headers name: X-Ricevuta (any value: a receipt), X-Trasporto."""
    receipt = fields.get("x-ricevuta")
    if receipt:
        return _clean_kind(header_text(receipt[0])) or "ricevuta"
    transport = fields.get("x-trasporto")
    if transport:
        kind = _clean_kind(header_text(transport[0]))
        return kind if kind in TRANSPORT_KINDS else ""
    return ""


def _signed_by_a_provider(msg: Message, fields: Mapping[str, Sequence[object]]) -> bool:
    """An S/MIME-signed mail from a provider's ``posta-certificata@`` robot."""
    robot = any(_ROBOT.search(header_text(v)) for v in fields.get("from", []))
    return robot and safe(msg.get_content_type, "") == "multipart/signed"


def _clean_kind(value: str) -> str:
    found = _KIND.match(value.strip().lower())
    return found.group() if found else ""


def _inner_message(parts: Sequence[Message]) -> Message | None:
    """``postacert.eml``: the attached message (by name, else the envelope's only one)."""
    attached = [p for p in parts if safe(p.get_content_type, "") in ("message/rfc822",)]
    named = [p for p in parts if _named(p, POSTACERT)]
    for part in (*named, *attached):
        payload = part.get_payload()
        if isinstance(payload, list) and payload and isinstance(payload[0], Message):
            return payload[0]
        data = _payload(part)  # a relay may have turned it into application/octet-stream
        if data:
            return _message(data)
    return None


def _message(data: bytes) -> Message | None:
    try:
        return message_from_bytes(data, policy=compat32)
    except Exception:
        return None


def _named(part: Message, name: str) -> bool:
    filename = safe(part.get_filename, None) or safe(lambda: part.get_param("name"), None)
    return isinstance(filename, str) and filename.strip().lower() == name


def _payload(part: Message | None) -> bytes:
    if part is None:
        return b""
    data = safe(lambda: part.get_payload(decode=True), None)
    return data if isinstance(data, bytes) else b""


def _message_id(text: str) -> str | None:
    found = first_message_id(text)
    if found is None and "@" in text and " " not in text.strip():
        found = first_message_id(f"<{text.strip()}>")
    return found


def _address(text: str) -> str:
    address = text.strip().strip("<>").lower()
    return address if plausible_address(address) else ""


def _addresses(texts: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(a for a in map(_address, texts) if a))[:MAX_ENVELOPE_PARTS]


def _moment(day: str, time: str, zone: str | None) -> datetime | None:
    """``12/03/2024`` ``10:42:33`` ``+0100`` as an aware datetime, or None."""
    try:
        moment = datetime.strptime(f"{day.strip()} {time.strip()}", "%d/%m/%Y %H:%M:%S")
    except ValueError:
        return None
    offset = _ZONE.match((zone or "").strip())
    if offset is None:
        return moment.replace(tzinfo=UTC)
    sign, hours, minutes = offset.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta >= timedelta(hours=24):
        return moment.replace(tzinfo=UTC)
    return moment.replace(tzinfo=timezone(delta if sign == "+" else -delta))


__all__ = [
    "DELIVERY_FAILED",
    "RECEIPT_KINDS",
    "TRANSPORT_KINDS",
    "DatiCert",
    "PecCertificate",
    "PecEnvelope",
    "envelope_parts",
    "open_envelope",
    "read_daticert",
]
