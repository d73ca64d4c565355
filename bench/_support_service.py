"""Helper of ``bench/console_load.py``: the service as ``main.py run`` wires it, in-process.

``start_service`` builds what ``main._serve`` builds over one store, in the running event
loop: the ``Assistant`` behind the real python-telegram-bot Application (polling, without the
client-side flood limiter), the outbox sender, the notice fan-out with its Telegram sender
(unpaced) and the staff console under uvicorn; plus ``agents`` staff accounts for the console.
"""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a file: the root

from bench._support_bot import unlimited_application

HOST = "127.0.0.1"
UNPACED = 10_000.0  # Telegram notices/s: no pacing, the engine's own ceiling


@dataclass
class Service:
    """What ``main.py run`` runs, over one store, in this event loop."""

    store: Any
    front: Any
    fanout: Any
    sender: Any
    console_url: str
    tasks: list[asyncio.Task[Any]]

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        await self.store.close()


async def start_service(settings: Any, agents: int) -> tuple[Service, list[tuple[str, str]]]:
    """The service as ``main._serve`` wires it; the staff logins made for the agents."""
    from assistant.clock import SystemClock
    from assistant.dialogs.core import Assistant
    from assistant.dialogs.registry import load_flows
    from assistant.flows.invoices import file_id_keeper
    from assistant.flows.menu import guide_file_id_keeper
    from assistant.notice_delivery import Pacing, TelegramNoticeSender
    from assistant.notices import NoticeFanout
    from assistant.service_levels import ServiceLevel
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from bot.telegram_app import TelegramFrontEnd
    from bot.telegram_render import TelegramNotifier
    from bot.telegram_text import TelegramMessageLimit
    from mailbox.outbound.sender import OutboxSender
    from staff.accounts import StaffAccounts
    from store.store import Store
    from tests.fixtures.smtp import free_port
    from web.app import create_app
    from web.context import Services
    from web.server import build_server, serve

    clock = SystemClock()
    store = await Store.open(settings.db_path, message_id_domain="bench.areaclienti")
    logins = [
        (f"agente{i}", (await StaffAccounts(store, clock).add(f"agente{i}", "agent", None,
                                                               by=None))[1])
        for i in range(1, agents + 1)
    ]  # fmt: skip
    texts = Texts(settings.templates_dir)
    sender = OutboxSender(store, settings, clock)
    registry = load_flows(document_sent=[file_id_keeper(store), guide_file_id_keeper(store)])
    application = unlimited_application(settings)
    notifier = TelegramNotifier(application.bot, registry.document_delivered)
    tickets = TicketService(store, texts, settings, notifier=notifier)
    assistant = Assistant(
        store=store, texts=texts, settings=settings, clock=clock, tickets=tickets,
        message_limit=TelegramMessageLimit(), faq=None, registry=registry,
        mail_queued=sender.wake,
    )  # fmt: skip
    front = TelegramFrontEnd(assistant, settings, application=application)
    telegram = TelegramNoticeSender(store, notifier, clock, pacing=Pacing(UNPACED, 1.0))
    fanout = NoticeFanout(
        store, texts, settings, clock, notifier, on_mail_queued=sender.wake, telegram=telegram
    )
    level = ServiceLevel(settings.staff_business_hours, settings.sla_first_response_hours)
    await asyncio.to_thread(lambda: (level.due_at(clock.now()), level.business_durations([])))
    services = Services(
        store=store, settings=settings, clock=clock, texts=texts, tickets=tickets,
        service_level=level,
    )  # fmt: skip
    port = free_port()
    server = build_server(create_app(services), HOST, port)
    work = [sender.run(), fanout.run(), front.run(), serve(server)]
    tasks = [asyncio.create_task(w) for w in work]
    while not server.started:
        await asyncio.sleep(0.01)
    await asyncio.sleep(1)  # the bot's first getUpdates
    service = Service(store, front, fanout, sender, f"http://{HOST}:{port}", tasks)
    return service, logins


if __name__ == "__main__":
    print("(a helper of bench/console_load.py: nothing to measure)")
