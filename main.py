"""Composition root and command line of the Area Clienti assistant.

    python main.py run                  the service: outgoing mail, notices, chat (console or
                                        Telegram) and, with IMAP_HOST, the support mailbox
    python main.py chat                 the console chat only
    python main.py demo [--customers N] a deterministic demo dataset
    python main.py import customers|contracts FILE [--skip-invalid]
    python main.py publish MANIFEST [--skip-invalid]
    python main.py announce --to all|CODE --subject S --body-file F
    python main.py faq [--lang it|en] [--json] [QUESTION ...]
    python main.py tickets list|show|reply|close|mail ...
    python main.py outbox [--failed]

Nothing but this file reads the environment; everything is built here from one ``Settings``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from pathlib import Path
from typing import Any

from assistant import redact
from assistant.errors import SettingsError
from assistant.settings import Settings

logger = logging.getLogger("areaclienti")

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Settings from ``.env`` in the working directory (if any) overlaid by the environment."""
    from dotenv import dotenv_values

    values: dict[str, str] = {}
    if Path(".env").is_file():
        values.update({k: v for k, v in dotenv_values(".env").items() if v is not None})
    values.update(os.environ if environ is None else environ)
    return Settings.from_environ(values)


# --- commands -------------------------------------------------------------------------------


async def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """The service: every worker in one event loop until Ctrl-C or SIGTERM."""
    return await serve(
        settings, console=args.console or not settings.telegram_bot_token, demo=args.demo
    )


async def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """The console chat alone (e-mails still go out through the outbox)."""
    return await serve(settings, console=True, mailbox=False, demo=args.demo)


async def serve(
    settings: Settings, *, console: bool, mailbox: bool = True, demo: bool = False
) -> int:
    """Build every component over one store and run them together until cancelled."""
    from assistant.clock import SystemClock
    from assistant.dialogs.core import Assistant
    from assistant.dialogs.registry import REGISTRY
    from assistant.faq import FaqMatcher
    from assistant.flows.invoices import file_id_keeper
    from assistant.flows.menu import guide_file_id_keeper
    from assistant.notices import NoticeFanout
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from bankfiles.demo import make_demo
    from bot.console import ConsoleFrontEnd
    from bot.telegram_app import TelegramFrontEnd
    from mailbox.inbound.worker import MailboxWorker
    from mailbox.outbound.sender import OutboxSender
    from store.store import Store

    clock = SystemClock()
    store = await Store.open(settings.db_path, message_id_domain=settings.mail_domain)
    if demo and await store.customers.count() == 0:
        print(f"First start: creating the demo data in {settings.db_path} ...")
        await make_demo(settings, customers=20, seed=2008)
    texts = Texts(settings.templates_dir)
    faq = await asyncio.to_thread(FaqMatcher.load, settings.data_dir / "cache")
    sender = OutboxSender(store, settings, clock)
    assistant = Assistant(
        store=store, texts=texts, settings=settings, clock=clock, faq=faq, mail_queued=sender.wake
    )
    REGISTRY.document_sent(file_id_keeper(store))  # re-send PDFs by Telegram's file_id
    REGISTRY.document_sent(guide_file_id_keeper(store))  # ... and the guide too
    front: ConsoleFrontEnd | TelegramFrontEnd
    if console:
        front = ConsoleFrontEnd(assistant)
    else:
        front = TelegramFrontEnd(assistant, settings)
        assistant.notifier = front.notifier()
    tickets = TicketService(store, texts, settings, notifier=assistant.notifier)
    notices = NoticeFanout(
        store, texts, settings, clock, assistant.notifier, on_mail_queued=sender.wake
    )
    workers: dict[str, Coroutine[Any, Any, None]] = {
        "outgoing mail": sender.run(),
        "notices": notices.run(),
    }
    if mailbox and settings.imap_host:
        from assistant.faq import faq_answer
        from mailbox.inbound.faq_process import FaqProcess

        workers["support mailbox"] = MailboxWorker(
            settings,
            store,
            texts,
            faq=FaqProcess(settings.data_dir / "cache"),  # beside the worker, on another core
            faq_answer=lambda faq_id, lang: faq_answer(texts, settings, faq_id, lang),
            tickets=tickets,
            clock=clock,
        ).run()
    where = "Telegram" if not console else "console"
    mail = (
        f"SMTP {settings.smtp_host}" if settings.smtp_host else f"files in {settings.outbox_dir}/"
    )
    logger.info(
        "serving: chat on %s; outgoing e-mails: %s; workers: %s", where, mail, ", ".join(workers)
    )
    if console:
        print(f"E-mails are written to {settings.outbox_dir.resolve()}/ (one .eml file each).")
    tasks = [asyncio.create_task(w, name=name) for name, w in workers.items()]
    front_task = asyncio.create_task(front.run(), name="chat")
    try:
        done, _ = await asyncio.wait([front_task, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task.exception() is not None:
                logger.error("%s stopped: %r", task.get_name(), task.exception())
                return 1
        return 0
    finally:
        for task in [front_task, *tasks]:
            task.cancel()
        await asyncio.gather(front_task, *tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender.send_due(), timeout=10)  # what the last step queued
        await store.close()


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Create the demo dataset."""
    from bankfiles.demo import make_demo

    return await make_demo(settings, customers=args.customers, seed=args.seed)


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import the bank's customers or contracts file."""
    from bankfiles.importer import run_import

    return await run_import(settings, args.what, Path(args.file), skip_invalid=args.skip_invalid)


async def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish the invoices and credit notes of a manifest."""
    from bankfiles.importer import run_publish

    return await run_publish(settings, Path(args.manifest), skip_invalid=args.skip_invalid)


async def cmd_announce(settings: Settings, args: argparse.Namespace) -> int:
    """Create a communication for all registered customers or one, and notify them."""
    from assistant.communications import run_announce

    return await run_announce(
        settings, to=args.to, subject=args.subject, body_file=Path(args.body_file)
    )


async def cmd_faq(settings: Settings, args: argparse.Namespace) -> int:
    """Answer questions from the FAQ (arguments, or one per line on standard input)."""
    from staff.faq import run_faq

    return run_faq(settings, questions=args.question, lang=args.lang, as_json=args.json)


async def cmd_tickets(settings: Settings, args: argparse.Namespace) -> int:
    """Staff commands on support tickets."""
    from staff.tickets import run_tickets

    return await run_tickets(settings, args)


async def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """List the outgoing e-mails (staff view of failures), or queue failed ones again."""
    from mailbox.outbound.sender import run_outbox_listing, run_outbox_retry

    if args.retry:
        return await run_outbox_retry(settings, args.retry)
    return await run_outbox_listing(settings, failed_only=args.failed)


# --- parser ---------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog="main.py", description="Area Clienti assistant of the leasing division."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run the service (chat, outgoing mail, notices, mailbox)")
    p.add_argument("--console", action="store_true", help="console chat even with a Telegram token")
    p.add_argument(
        "--demo", action="store_true", help="create the demo data if the database is empty"
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("chat", help="console chat in this terminal")
    p.add_argument(
        "--demo", action="store_true", help="create the demo data if the database is empty"
    )
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("demo", help="create a deterministic demo dataset")
    p.add_argument("--customers", type=int, default=20, help="how many customers (default 20)")
    p.add_argument("--seed", type=int, default=2008, help="random seed (default 2008)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", help="import the bank's customers or contracts CSV")
    p.add_argument("what", choices=["customers", "contracts"])
    p.add_argument("file")
    p.add_argument("--skip-invalid", action="store_true", help="import the good rows anyway")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("publish", help="publish the documents of a manifest CSV")
    p.add_argument("manifest")
    p.add_argument("--skip-invalid", action="store_true", help="publish the good rows anyway")
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser("announce", help="send a communication to customers")
    p.add_argument("--to", required=True, help="'all' or a customer code")
    p.add_argument("--subject", required=True)
    p.add_argument("--body-file", required=True)
    p.set_defaults(func=cmd_announce)

    p = sub.add_parser("faq", help="answer questions from the FAQ")
    p.add_argument("--lang", choices=["it", "en"], default=None, help="answer language")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("question", nargs="*")
    p.set_defaults(func=cmd_faq)

    p = sub.add_parser("tickets", help="support tickets (staff)")
    tsub = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    t = tsub.add_parser("list", help="list tickets")
    t.add_argument("--open", action="store_true", help="only open tickets")
    t = tsub.add_parser("show", help="show one ticket")
    t.add_argument("number", help="AC-123456, its six digits, or the ticket id")
    t = tsub.add_parser("reply", help="answer a ticket")
    t.add_argument("number", help="AC-123456, its six digits, or the ticket id")
    t.add_argument("--body-file", required=True)
    t = tsub.add_parser("close", help="close a ticket")
    t.add_argument("number", help="AC-123456, its six digits, or the ticket id")
    t = tsub.add_parser("mail", help="write a received mail's raw bytes (e.g. a quarantined one)")
    t.add_argument("mail_id", type=int, help="the mail's number in `tickets list`")
    t.add_argument("--out", required=True, help="the .eml file to write")
    p.set_defaults(func=cmd_tickets)

    p = sub.add_parser("outbox", help="list outgoing e-mails")
    p.add_argument("--failed", action="store_true", help="only permanently failed ones")
    p.add_argument(
        "--retry", type=int, nargs="+", metavar="ID", help="queue these failed e-mails again"
    )
    p.set_defaults(func=cmd_outbox)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse, configure, run one command; return the exit status."""
    args = build_parser().parse_args(argv)
    level = logging.DEBUG if args.verbose else logging.INFO
    redact.install(level)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    if args.command == "chat" or (
        args.command == "run" and (args.console or not settings.telegram_bot_token)
    ):
        logfile = settings.data_dir / "areaclienti.log"
        print(f"Log: {logfile}", file=sys.stderr)
        redact.install(level, logfile)
    command: Command = args.func
    try:
        return asyncio.run(_with_signals(command(settings, args)))
    except KeyboardInterrupt:
        return 130


async def _with_signals(coro: Awaitable[int]) -> int:
    """Run the command; SIGTERM cancels it like Ctrl-C does."""
    task: asyncio.Task[Any] = asyncio.ensure_future(coro)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        return int(await task)
    except asyncio.CancelledError:
        logger.info("stopped")
        return 0


if __name__ == "__main__":
    sys.exit(main())
