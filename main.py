"""Composition root and command line of the Area Clienti assistant.

    python main.py run                  the service: outgoing mail, notices, chat (console or
                                        Telegram) and, with IMAP_HOST, the support mailbox
    python main.py chat                 the console chat only
    python main.py demo [--customers N] a deterministic demo dataset
    python main.py import customers|contracts FILE [--skip-invalid]
    python main.py publish MANIFEST [--skip-invalid]
    python main.py announce --to all|CODE --subject S --body-file F
    python main.py faq [--lang it|en] [--json] [QUESTION ...]
    python main.py tickets list|show|reply|close|mail|attachment ...
    python main.py outbox [--failed]
    python main.py staff add|list|disable|reset ...   staff accounts of the web console

Nothing but this file reads the environment; everything is built here from one ``Settings``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant import redact
from assistant.errors import SettingsError
from assistant.settings import Settings
from staff.terminal import safe_output
from store.errors import StoreBusy, StoreInUse

if TYPE_CHECKING:
    from assistant.clock import Clock
    from assistant.notice_delivery import Notifier, TelegramNoticeSender
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from bot.telegram_app import TelegramApplication
    from bot.webhook import WebhookUpdates
    from mailbox.inbound.worker import MailboxWorker
    from store.store import Store
    from web.context import Probe, UpdateReceiver

logger = logging.getLogger("areaclienti")

Command = Callable[[Settings, argparse.Namespace], Awaitable[int]]
SERVICES = {"run", "chat"}  # stopped by a signal as their normal end; the rest are staff commands


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
    return await serve(settings, console=True, mailbox=False, demo=args.demo, web=False)


async def serve(
    settings: Settings,
    *,
    console: bool,
    mailbox: bool = True,
    demo: bool = False,
    web: bool = True,
) -> int:
    """Build every component over one store and run them together until cancelled."""
    from assistant.clock import SystemClock

    clock = SystemClock()
    async with opened_store(settings, exclusive=True) as store:  # one service per database
        return await _serve(
            settings, store, clock, console=console, mailbox=mailbox, demo=demo, web=web
        )


async def _serve(
    settings: Settings,
    store: Store,
    clock: Clock,
    *,
    console: bool,
    mailbox: bool,
    demo: bool,
    web: bool = True,
) -> int:
    """``serve`` over the open store."""
    from assistant.dialogs.core import Assistant
    from assistant.dialogs.registry import load_flows
    from assistant.faq import FaqMatcher
    from assistant.flows.invoices import file_id_keeper
    from assistant.flows.menu import guide_file_id_keeper
    from assistant.leadership import Leadership
    from assistant.notices import NoticeFanout
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from bankfiles.demo import make_demo
    from bot.console import ConsoleFrontEnd
    from bot.telegram_app import DRAIN_SECONDS, TelegramFrontEnd, build_application
    from bot.telegram_render import TelegramNotifier
    from bot.telegram_text import TelegramMessageLimit
    from mailbox.outbound.sender import OutboxSender

    if demo and await store.customers.count() == 0:
        print(f"First start: creating the demo data in {settings.db_label} ...")
        await make_demo(store, settings.data_dir, customers=20, seed=2008, clock=clock)
        from staff.accounts import add_demo_staff

        await add_demo_staff(store, clock)  # the staff console's demo admin
    texts = Texts(settings.templates_dir)
    faq = await asyncio.to_thread(FaqMatcher.load, settings.data_dir / "cache")
    lease = timedelta(seconds=settings.claim_lease_seconds)  # a killed replica's claims lapse
    sender = OutboxSender(store, settings, clock, lease=lease)
    registry = load_flows(  # PDFs and the guide are re-sent by Telegram's file_id
        document_sent=[file_id_keeper(store), guide_file_id_keeper(store)]
    )
    application = None if console else build_application(settings)
    notifier = (
        None if application is None
        else TelegramNotifier(application.bot, registry.document_delivered)
    )  # fmt: skip
    tickets = TicketService(store, texts, settings, notifier=notifier)
    assistant = Assistant(
        store=store,
        texts=texts,
        settings=settings,
        clock=clock,
        tickets=tickets,
        message_limit=TelegramMessageLimit(),  # the console shows the same pages
        faq=faq,
        registry=registry,
        mail_queued=sender.wake,
    )
    front: ConsoleFrontEnd | TelegramFrontEnd = (
        ConsoleFrontEnd(assistant)
        if application is None
        else TelegramFrontEnd(assistant, settings, application=application)
    )
    telegram = None if notifier is None else notice_sender(settings, store, notifier, clock, lease)
    notices = NoticeFanout(
        store, texts, settings, clock, telegram=telegram, on_mail_queued=sender.wake
    )
    workers: dict[str, Coroutine[Any, Any, None]] = {
        "outgoing mail": sender.run(),  # on every replica: claims keep a mail to one sender
    }
    # Leader-only: one replica fans the notices out (two would redo each other's batches:
    # every write holds the database's one write lock anyway), one paces the Telegram
    # notices, one reads the IMAP folder.
    fanout = Leadership(store.db, "notice fan-out", lambda: notices.run(send_telegram=False))
    workers["notices"] = fanout.run()
    if notices.telegram is not None:
        telegram_notices = Leadership(store.db, "telegram notices", notices.telegram.run)
        workers["telegram notices"] = telegram_notices.run()
    if mailbox and settings.imap_host:
        workers["support mailbox"] = Leadership(
            store.db, "support mailbox",
            lambda: mailbox_worker(settings, store, texts, tickets, clock).run(),
        ).run()  # fmt: skip
    webhook = None if isinstance(front, ConsoleFrontEnd) else front.webhook
    if web or webhook is not None:  # in webhook mode Telegram's updates arrive there
        staff_web = await staff_console(
            settings, store, texts, tickets, clock, demo=demo,
            telegram_updates=webhook, probes=readiness_probes(application, webhook),
        )  # fmt: skip
        if staff_web is not None:
            workers["staff console"] = staff_web
        elif webhook is not None:  # nowhere for Telegram to push the updates to
            for idle in workers.values():
                idle.close()
            return 1
    where = f"Telegram ({settings.telegram_mode})" if not console else "console"
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
        if webhook is not None:  # new pushes get 503 (retried elsewhere); those in hand finish
            await webhook.drain(DRAIN_SECONDS)
        for task in [front_task, *tasks]:
            task.cancel()
        await asyncio.gather(front_task, *tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(sender.send_due(), timeout=10)  # what the last step queued


async def staff_console(
    settings: Settings,
    store: Store,
    texts: Texts,
    tickets: TicketService,
    clock: Clock,
    *,
    demo: bool,
    telegram_updates: UpdateReceiver | None = None,
    probes: tuple[Probe, ...] = (),
) -> Coroutine[Any, Any, None] | None:
    """The staff web console, listening already; None (said on stderr) when it cannot listen:
    the chat and the mail go on without it. The same server takes Telegram's pushes in webhook
    mode (``telegram_updates``) and answers the load balancer's /healthz and /readyz."""
    from assistant.service_levels import ServiceLevel
    from staff.accounts import demo_login
    from web.app import create_app
    from web.context import Services
    from web.server import build_server, listen, serve

    host, port = settings.staff_web_host, settings.staff_web_port
    try:
        sock = listen(host, port)
    except OSError as exc:
        logger.error("staff console not started: cannot listen on %s:%s: %s", host, port, exc)
        print(f"Staff console NOT started: cannot listen on {host}:{port}: {exc}", file=sys.stderr)
        return None
    level = ServiceLevel(settings.staff_business_hours, settings.sla_first_response_hours)
    # The holiday calendar and numpy load here, in a thread: on the first inbox and dashboard
    # pages they held the loop, and every chat, for about 0.3 and 0.9 s.
    await asyncio.to_thread(lambda: (level.due_at(clock.now()), level.business_durations([])))
    services = Services(
        store=store, settings=settings, clock=clock, texts=texts, tickets=tickets,
        service_level=level, telegram_updates=telegram_updates, probes=probes,
    )  # fmt: skip
    server = build_server(create_app(services), host, port)
    url = f"http://{host if ':' not in host else f'[{host}]'}:{port}/"
    login = await demo_login(store) if demo else None
    demo_text = f" (demo login: {login[0]} / {login[1]}; TOTP at the first login)" if login else ""
    print(f"Staff console: {url}{demo_text}")
    logger.info("staff console on %s", url)
    return serve(server, sock)


def readiness_probes(
    application: TelegramApplication | None, webhook: WebhookUpdates | None
) -> tuple[Probe, ...]:
    """What /readyz checks beside the database: the Bot API answers; the webhook is not
    draining."""
    from bot.webhook import BotApiProbe
    from web.context import Probe

    probes = []
    if application is not None:
        probes.append(Probe("bot api", BotApiProbe(application.bot).reachable))
    if webhook is not None:
        probes.append(Probe("telegram webhook", webhook.ready))
    return tuple(probes)


def notice_sender(
    settings: Settings, store: Store, notifier: Notifier, clock: Clock, lease: timedelta
) -> TelegramNoticeSender:
    """The Telegram notice sender at TELEGRAM_NOTICES_PER_SECOND (the whole bot's budget: the
    service runs it on the leader replica alone), with at most TELEGRAM_NOTICES_IN_FLIGHT
    messages sent and not yet recorded (what a kill -9 may repeat)."""
    from assistant.notice_delivery import TelegramNoticeSender

    pacing = dataclasses.replace(notifier.pacing, per_second=settings.telegram_notices_per_second)
    return TelegramNoticeSender(
        store,
        notifier,
        clock,
        pacing=pacing,
        lease=lease,
        max_in_flight=settings.telegram_notices_in_flight,
    )


def mailbox_worker(
    settings: Settings, store: Store, texts: Texts, tickets: TicketService, clock: Clock
) -> MailboxWorker:
    """The support mailbox worker as the service runs it: the FAQ matcher in its own process
    (beside the worker, on another core; started with it), answers from the templates."""
    from assistant.faq import faq_answer
    from mailbox.inbound.faq_process import FaqProcess
    from mailbox.inbound.worker import MailboxWorker

    return MailboxWorker(
        settings,
        store,
        tickets,
        preparer=FaqProcess(settings.data_dir / "cache"),
        faq_answer=lambda faq_id, lang: faq_answer(texts, settings, faq_id, lang),
        clock=clock,
    )


async def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    """Create the demo dataset."""
    from assistant.clock import SystemClock
    from bankfiles.demo import make_demo

    async with opened_store(settings) as store:
        return await make_demo(
            store, settings.data_dir, customers=args.customers, seed=args.seed, clock=SystemClock()
        )


async def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    """Import the bank's customers or contracts file."""
    from assistant.clock import SystemClock
    from staff.imports import run_import

    async with opened_store(settings) as store:
        return await run_import(
            store, args.what, Path(args.file), skip_invalid=args.skip_invalid, clock=SystemClock()
        )


async def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Publish the invoices and credit notes of a manifest."""
    from assistant.clock import SystemClock
    from staff.imports import run_publish

    async with opened_store(settings) as store:
        return await run_publish(
            store,
            Path(args.manifest),
            settings.data_dir,
            skip_invalid=args.skip_invalid,
            max_bytes=settings.document_max_bytes,
            clock=SystemClock(),
        )


async def cmd_announce(settings: Settings, args: argparse.Namespace) -> int:
    """Create a communication for all registered customers or one, and notify them."""
    from assistant.clock import SystemClock
    from staff.announce import run_announce

    async with opened_store(settings) as store:
        return await run_announce(
            store,
            to=args.to,
            subject=args.subject,
            body_file=Path(args.body_file),
            clock=SystemClock(),
        )


async def cmd_faq(settings: Settings, args: argparse.Namespace) -> int:
    """Answer questions from the FAQ (arguments, or one per line on standard input)."""
    from staff.faq import run_faq

    return run_faq(settings, questions=args.question, lang=args.lang, as_json=args.json)


async def cmd_tickets(settings: Settings, args: argparse.Namespace) -> int:
    """Staff commands on support tickets; a reply to a Telegram ticket goes out by the Bot API."""
    from assistant.clock import SystemClock
    from assistant.texts import Texts
    from assistant.tickets import TicketService
    from bot.notifier import standalone_notifier
    from staff.tickets import run_tickets

    async with opened_store(settings) as store, standalone_notifier(settings) as notifier:
        service = TicketService(store, Texts(settings.templates_dir), settings, notifier=notifier)
        return await run_tickets(service, store, args, clock=SystemClock())


async def cmd_outbox(settings: Settings, args: argparse.Namespace) -> int:
    """List the outgoing e-mails (staff view of failures), or queue failed ones again."""
    from assistant.clock import SystemClock
    from staff.outbox import run_outbox_listing, run_outbox_retry

    async with opened_store(settings) as store:
        if args.retry:
            return await run_outbox_retry(store, args.retry, clock=SystemClock())
        return await run_outbox_listing(store, failed_only=args.failed)


async def cmd_staff(settings: Settings, args: argparse.Namespace) -> int:
    """Staff accounts of the web console: add, list, disable, reset."""
    from assistant.clock import SystemClock
    from staff.accounts_cli import run_staff

    async with opened_store(settings) as store:
        return await run_staff(store, args, clock=SystemClock())


@contextlib.asynccontextmanager
async def opened_store(settings: Settings, *, exclusive: bool = False) -> AsyncIterator[Store]:
    """The store of ``settings``, open while the block runs: the one place that opens it.

    ``exclusive``: the service's hold on the database (a second service gets ``StoreInUse``).
    """
    from store.store import Store

    store = await Store.open(
        settings.db_target,  # a SQLite file, or a postgresql:// URL
        message_id_domain=settings.mail_domain,
        busy_timeout=settings.db_busy_timeout_seconds,
        exclusive=exclusive,  # the lock file: SQLite only (replicas share PostgreSQL)
        pool_size=settings.db_pool_size,
        statement_timeout=settings.db_statement_timeout_seconds,
    )
    try:
        yield store
    finally:
        await _close(store)


async def _close(store: Store) -> None:
    """Close the store to the end. A signal that arrives once the command's work is done (its
    last COMMIT finishes before the cancellation is delivered) does not turn a change that was
    applied and reported into "did not finish": the command's status stands."""
    closing = asyncio.ensure_future(store.close())
    try:
        await asyncio.shield(closing)
    except asyncio.CancelledError:
        await closing
        task = asyncio.current_task()
        if task is not None:
            task.uncancel()


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
    t = tsub.add_parser("attachment", help="write an attachment of a ticket's mail to a file")
    t.add_argument("number", help="AC-123456, its six digits, or the ticket id")
    t.add_argument("attachment", type=int, help="the attachment's number in `tickets show`")
    t.add_argument("--out", required=True, help="a new file, or a folder to write it in")
    p.set_defaults(func=cmd_tickets)

    from staff.accounts_cli import add_parser as add_staff_parser

    add_staff_parser(sub).set_defaults(func=cmd_staff)

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
    service = args.command in SERVICES
    with contextlib.nullcontext() if service else safe_output():
        return _configured_run(args, service=service)


def _configured_run(args: argparse.Namespace, *, service: bool) -> int:
    level = logging.DEBUG if args.verbose else logging.INFO
    redact.install(level)
    try:
        settings = load_settings()
        settings.check_paths()
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
        return asyncio.run(_with_signals(command(settings, args), service=service))
    except StoreInUse as exc:
        print(f"not started: {exc}", file=sys.stderr)
        return 1
    except StoreBusy:
        print(
            f"{settings.db_label}: busy: another process holds a write lock; try again",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        return 128 + signal.SIGINT


async def _with_signals(coro: Awaitable[int], *, service: bool) -> int:
    """Run the command; SIGTERM cancels it like Ctrl-C does.

    A service stopped so has done its job (0); a one-shot command did not finish, whatever it
    undid: 128 + the signal's number, as a shell reports it.
    """
    task: asyncio.Task[Any] = asyncio.ensure_future(coro)
    received: list[signal.Signals] = []

    def stop(sig: signal.Signals) -> None:
        received.append(sig)
        task.cancel()

    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop, sig)
    try:
        return int(await task)
    except asyncio.CancelledError:
        logger.info("stopped")
        if service:
            return 0
        sig = received[0] if received else signal.SIGINT
        print(f"interrupted by {sig.name}: the command did not finish", file=sys.stderr)
        return 128 + int(sig)


if __name__ == "__main__":
    sys.exit(main())
