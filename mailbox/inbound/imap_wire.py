"""The IMAP wire format, pure: UID sets written compactly, FETCH responses read back into sizes
and mails, a command's status checked. No connection here (``imap.py`` holds it).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from assistant.errors import AreaClientiError

_ITEM = re.compile(rb"UID (\d+)")
_SIZE = re.compile(rb"RFC822\.SIZE (\d+)")


class ImapUnavailable(AreaClientiError):
    """The IMAP server could not be reached or failed a command; reconnect and try again."""


@dataclass(frozen=True)
class FetchedMail:
    """One message as downloaded: its bytes, or only its header when over the size limit."""

    uid: int
    size: int  # RFC822.SIZE on the server
    raw: bytes
    header_only: bool


def uid_set(uids: Iterable[int]) -> str:
    """A compact UID set: ``1:4,7,9:10``."""
    ordered = sorted(set(uids))
    if not ordered:
        raise ValueError("empty UID set")
    parts, start, previous = [], ordered[0], ordered[0]
    for uid in [*ordered[1:], None]:
        if uid is not None and uid == previous + 1:
            previous = uid
            continue
        parts.append(str(start) if start == previous else f"{start}:{previous}")
        if uid is not None:
            start = previous = uid
    return ",".join(parts)


def chunks(items: list[int], size: int) -> Iterable[list[int]]:
    """``items`` in slices of ``size`` (a UID set stays short enough for any server)."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def check(status: object, command: str) -> None:
    """``ImapUnavailable`` unless the command's status is OK."""
    if status != "OK":
        raise ImapUnavailable(f"{command} failed: {status}")


def sizes_from(data: Iterable[object]) -> dict[int, int]:
    """UID -> RFC822.SIZE from the answer to ``UID FETCH ... (UID RFC822.SIZE)``."""
    found: dict[int, int] = {}
    for item in data:
        line = item[0] if isinstance(item, tuple) else item
        if isinstance(line, bytes):
            uid, size = _ITEM.search(line), _SIZE.search(line)
            if uid and size:
                found[int(uid.group(1))] = int(size.group(1))
    return found


def mails_from(data: Iterable[object], *, header_only: bool) -> list[FetchedMail]:
    """The mails in the answer to ``UID FETCH ... (UID RFC822.SIZE BODY.PEEK[...])``."""
    mails = []
    for item in data:
        if not isinstance(item, tuple) or len(item) < 2:
            continue
        uid, size = _ITEM.search(item[0]), _SIZE.search(item[0])
        if uid is None:
            continue
        raw = bytes(item[1])
        mails.append(
            FetchedMail(
                uid=int(uid.group(1)),
                size=int(size.group(1)) if size else len(raw),
                raw=raw,
                header_only=header_only,
            )
        )
    return mails
