"""The console front-end: the same dialogs for one customer in the terminal (chat "console").

Buttons are shown as numbered choices; typing the number presses the button. /commands work.
Documents are "sent" by printing where the file is (a ZIP made for the answer is moved into
``downloads/`` in the data folder first). Standard input is read without blocking the
event loop; ``run()`` returns at end of input and stops cleanly when cancelled.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import stat
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from assistant.dialogs.core import Assistant
from assistant.dialogs.messages import Attachment, Button, Incoming, Outcome
from assistant.private_files import private_folder

logger = logging.getLogger(__name__)

CHAT_ID = "console"
_ERASE_LINE = "\x1b[1A\x1b[2K"  # cursor up one line, clear it
MAX_LINE_BYTES = 64 * 1024  # of a longer line only this much is kept (the core refuses it)
DOWNLOADS_DIR = "downloads"  # under the data folder: the files made for the console's user


class ConsoleFrontEnd:
    """Reads lines, calls the core, prints the answers."""

    def __init__(
        self,
        assistant: Assistant,
        *,
        reader: asyncio.StreamReader | None = None,
        output: TextIO | None = None,
        chat_id: str = CHAT_ID,
        language_code: str | None = None,
    ) -> None:
        self.assistant = assistant
        self.chat_id = chat_id
        self.language_code = language_code
        self._reader = reader
        self._output = output or sys.stdout
        self._choices: list[Button] = []
        self._message_ids = itertools.count(1)
        self._last_input_id: int | None = None

    async def run(self) -> None:
        """Greet, then answer each line until end of input or cancellation."""
        reader = self._reader or await _stdin_reader()
        await self.handle_line("/start")
        while True:
            line = await read_line(reader)
            if not line:
                self._print("")
                return
            text = line.decode("utf-8", errors="replace").rstrip("\r\n")
            if text.strip():
                await self.handle_line(text)

    async def handle_line(self, text: str) -> Outcome:
        """One typed line: a number presses the matching button, anything else is a message."""
        self._last_input_id = next(self._message_ids)
        choice = text.strip()
        if choice.isdigit() and 1 <= int(choice) <= len(self._choices):
            incoming = Incoming.from_button(
                "console",
                self.chat_id,
                self._choices[int(choice) - 1].data,
                message_id=self._last_input_id,
                language_code=self.language_code,
            )
        else:
            incoming = Incoming.from_text(
                "console",
                self.chat_id,
                text,
                message_id=self._last_input_id,
                language_code=self.language_code,
            )
        return await self.assistant.handle(incoming, deliver=self._render)

    async def _render(self, outcome: Outcome) -> None:
        if self._last_input_id in outcome.delete_message_ids and self._is_terminal():
            self._output.write(_ERASE_LINE)  # the typed secret disappears from the screen
        if outcome.callback_answer:
            self._print(f"({outcome.callback_answer})")
        choices: list[Button] = []
        for reply in outcome.replies:
            if reply.text:
                self._print("\n" + reply.text)
            if reply.document is not None:
                where = self._keep(reply.document) or reply.document.file_id
                where = where or reply.document.filename
                self._print(f"📎 {reply.document.filename}: {where}")
                if reply.document.caption:
                    self._print(f"   {reply.document.caption}")
            for row in reply.buttons:
                for button in row:
                    choices.append(button)
                    self._print(f"  {len(choices)}) {button.label}")
        if choices or outcome.replies:
            self._choices = choices
        self._output.write("> ")
        self._output.flush()

    def _keep(self, document: Attachment) -> Path | None:
        """Where the terminal's user finds the file. One made for this answer alone (a ZIP) is
        removed by the core once delivered: it is delivered by moving it into the owner-only
        ``downloads`` folder of the data folder, as Telegram keeps an uploaded file."""
        if not document.temporary or document.path is None:
            return document.path
        folder = private_folder(self.assistant.settings.data_dir / DOWNLOADS_DIR)
        target = folder / Path(document.filename).name
        os.replace(document.path, target)
        return target

    def _print(self, text: str) -> None:
        self._output.write(text + "\n")
        self._output.flush()

    def _is_terminal(self) -> bool:
        isatty: Callable[[], bool] | None = getattr(self._output, "isatty", None)
        return bool(isatty and isatty())


async def read_line(reader: asyncio.StreamReader) -> bytes:
    """The next line (``b""`` at end of input), never more than ``MAX_LINE_BYTES`` of it.

    ``StreamReader.readline`` raises ``ValueError`` on a line over the reader's limit (64 KiB),
    which would end the chat and the service with it. Here such a line keeps its first
    ``MAX_LINE_BYTES`` bytes, well over the core's limit, so the core answers it as it answers
    any over-long message; the rest of the line is skipped a buffer at a time.
    """
    try:
        return await reader.readuntil(b"\n")
    except asyncio.IncompleteReadError as exc:
        return exc.partial[:MAX_LINE_BYTES]  # the last line, without a newline
    except asyncio.LimitOverrunError as exc:
        kept = (await reader.read(exc.consumed))[:MAX_LINE_BYTES]
    while True:  # skip the rest of the over-long line
        try:
            await reader.readuntil(b"\n")
            return kept
        except asyncio.IncompleteReadError:
            return kept
        except asyncio.LimitOverrunError as exc:
            await reader.read(exc.consumed)


async def _stdin_reader() -> asyncio.StreamReader:
    """Standard input as a StreamReader: a pipe through the event loop; a terminal or a file
    through a daemon thread (a terminal left non-blocking would upset the shell afterwards), so
    nothing blocks the loop or the exit."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        if stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode):
            await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
            return reader
    except (ValueError, OSError, NotImplementedError):
        pass

    def pump() -> None:
        for line in iter(sys.stdin.buffer.readline, b""):
            loop.call_soon_threadsafe(reader.feed_data, line)
        loop.call_soon_threadsafe(reader.feed_eof)

    threading.Thread(target=pump, name="console-stdin", daemon=True).start()
    return reader
