"""The console front-end: numbered buttons, commands, end of input."""

from __future__ import annotations

import asyncio
import io

from assistant.dialogs.core import Assistant
from bot.console import ConsoleFrontEnd
from tests.fixtures.customers import KnownCustomers


async def test_console_dialog_until_end_of_input(
    assistant: Assistant, customers: KnownCustomers
) -> None:
    reader = asyncio.StreamReader()
    output = io.StringIO()
    person = customers.person
    for line in ("1", f"{person.contract}/{person.module}", "", "/annulla", "/contacts"):
        reader.feed_data(f"{line}\n".encode())
    reader.feed_eof()
    await asyncio.wait_for(ConsoleFrontEnd(assistant, reader=reader, output=output).run(), 10)
    shown = output.getvalue()
    assert "Benvenuto" in shown and "  1) 📝 Registrati" in shown
    assert "Qual è il numero di contratto?" in shown  # "1" pressed Registrati
    assert "codice fiscale" in shown
    assert "non ho salvato nulla" in shown
    assert "Assistenza tecnica" in shown


async def test_console_documents_are_shown_as_paths(assistant: Assistant) -> None:
    output = io.StringIO()
    console = ConsoleFrontEnd(assistant, reader=asyncio.StreamReader(), output=output)
    await console.handle_line("/guida")
    shown = output.getvalue()
    assert "📎" in shown or "non è disponibile" in shown
