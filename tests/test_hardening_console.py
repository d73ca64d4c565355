"""The console chat: no input may stop the service (issue 14, point 7).

A line longer than the stream's 64 KiB limit used to raise ``ValueError`` out of ``readline``
and end the whole service (mail and notices included). It now gets the polite "too long"
answer that shorter over-long messages get, and the chat goes on.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

from assistant.dialogs.core import Assistant
from bot.console import ConsoleFrontEnd

ROOT = Path(__file__).resolve().parent.parent
TOO_LONG = "troppo lungo"
CONTACTS = "Assistenza tecnica"


async def test_an_over_long_line_gets_the_polite_answer_and_the_chat_goes_on(
    assistant: Assistant,
) -> None:
    reader = asyncio.StreamReader()  # the default 64 KiB limit
    output = io.StringIO()
    reader.feed_data(b"a" * 200_000 + b"\n")  # separator well past the limit
    reader.feed_data(b"/contatti\n")
    reader.feed_data("è".encode() * 40_000 + b"\n")  # 80,000 bytes: separator found past it
    reader.feed_data(b"/contatti\n")
    reader.feed_data(b"z" * 100_000)  # and one more at the end of input, without a newline
    reader.feed_eof()
    await asyncio.wait_for(ConsoleFrontEnd(assistant, reader=reader, output=output).run(), 30)
    shown = output.getvalue()
    assert shown.count(TOO_LONG) == 3
    assert shown.count(CONTACTS) == 2
    assert shown.index(TOO_LONG) < shown.index(CONTACTS)
    assert "a" * 3000 not in shown  # the long text is not echoed back


def test_main_chat_survives_a_line_over_64_kib_on_a_pipe(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    env.update(
        AREACLIENTI_DB=str(tmp_path / "var" / "areaclienti.db"),
        AREACLIENTI_DATA_DIR=str(tmp_path / "var"),
        OUTBOX_DIR=str(tmp_path / "var" / "outbox"),
    )
    typed = "x" * (70 * 1024) + "\n/contatti\n"
    chat = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "chat"],
        env=env, cwd=tmp_path, input=typed, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert chat.returncode == 0, chat.stderr[-2000:]
    assert "Traceback" not in chat.stdout + chat.stderr
    assert TOO_LONG in chat.stdout
    assert CONTACTS in chat.stdout.split(TOO_LONG, 1)[1]  # it answered the next line too
