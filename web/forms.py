"""Reading posted forms and query strings: text fields with a length cap, whole numbers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SHORT = 200  # usernames, passwords, codes, titles
LONG = 20_000  # a reply, a note, a snippet


def text(form: Mapping[str, Any], name: str, *, limit: int = SHORT, strip: bool = True) -> str:
    """A text field, stripped ('' when missing, not text, or longer than ``limit``)."""
    value = form.get(name)
    if not isinstance(value, str) or len(value) > limit:
        return ""
    return value.strip() if strip else value


def number(form: Mapping[str, Any], name: str) -> int | None:
    """A positive whole number field (None when missing or not one)."""
    value = text(form, name, limit=19)
    return int(value) if value.isascii() and value.isdigit() and 0 < int(value) < 2**63 else None
