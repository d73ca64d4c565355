"""What the staff commands print is safe for a terminal: no control sequences from customers.

Subjects, message texts, CSV headers and file names come from outside; an ``ESC]0;…BEL`` or
``ESC[2J`` inside one would retitle or clear the staff's terminal. Every character that a
terminal interprets (C0 and C1 controls but line feed, tab and carriage return; DEL; the
bidirectional overrides that reorder what is shown) is printed as a visible escape instead.
"""

from __future__ import annotations

import contextlib
import re
import sys
from collections.abc import Iterator
from typing import TextIO, cast

_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 but \t \n \r; DEL; C1
    "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"  # bidirectional marks and overrides
)


def printable(text: str) -> str:
    """``text`` with every control character shown as ``\\xNN`` / ``\\uNNNN``."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class SafeStream:
    """A text stream that writes ``printable`` text to the stream it wraps."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        """Write the escaped text; return the length given (what ``print`` expects)."""
        self.stream.write(printable(text))
        return len(text)

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self.stream.flush()

    def isatty(self) -> bool:
        """Whether the wrapped stream is a terminal."""
        return self.stream.isatty()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


@contextlib.contextmanager
def safe_output() -> Iterator[None]:
    """Standard output and error escaped while the block runs."""
    out, err = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, SafeStream(out))
    sys.stderr = cast(TextIO, SafeStream(err))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = out, err
