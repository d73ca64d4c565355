"""Publication notices at scale: 20,000 registered customers, 100,000 documents published at once.

    .venv/bin/python bench/notices.py [--customers 20000] [--documents 100000] [--chats 400]

Builds the data through the product's own code (bank-file import, ``publish_file`` with real
PDF copies, accounts through the account repository), then runs what ``main.py run`` runs:
``NoticeFanout`` (fan-out + Telegram sender, the real python-telegram-bot ``Bot`` of
``bot.telegram_app.build_application`` against the fake Bot API of ``tests/fakes``) and
``mailbox.outbound.sender.OutboxSender`` delivering to an aiosmtpd server in a child process on
127.0.0.1. ``--chats`` customers also have a linked Telegram chat and get a communication, so
their chats receive two messages each (the per-chat limit is exercised).

It prints:
- the fan-out: notices settled per second, e-mails and chat messages queued;
- e-mail delivery (alone, timed from the sender's start to the last mail received; the fan-out
  and the Telegram sending are not in it): OutboxSender e-mails/s, a bare aiosmtplib loop
  sending the very same bytes (pre-built, same MAIL options) over one connection to the same
  server process, and the ratio (target >= 0.8); the bytes each side delivered (must be
  equal); also end to end (fan-out + delivery) against the bare loop;
- Telegram: messages/s overall, the most messages seen by the server in any 1-second window
  (limit ~30), the smallest gap between two messages to one chat (limit 1 s);
- sent vs expected counts (e-mails by distinct recipient, chat messages), which must be equal.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import logging
import multiprocessing
import multiprocessing.synchronize
import random
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

HOST = "127.0.0.1"
TARGET_RATIO = 0.8
TELEGRAM_LIMIT_PER_S = 30


# --- the SMTP server, in its own process (its own core, its own GIL) --------------------------


def smtp_server_process(
    port: int,
    total: Any,
    distinct: Any,
    size: Any,
    ready: multiprocessing.synchronize.Event,
    stop: multiprocessing.synchronize.Event,
) -> None:
    """An aiosmtpd server that counts messages and distinct recipients."""
    from aiosmtpd.controller import Controller

    seen: set[str] = set()

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            seen.update(envelope.rcpt_tos)
            with total.get_lock():
                size.value += len(envelope.original_content or envelope.content)
                total.value += 1
            distinct.value = len(seen)
            return "250 OK"

    controller = Controller(Counting(), hostname=HOST, port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


class SmtpCounter:
    """The child-process SMTP server and its counters."""

    def __init__(self, port: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.port = port
        self.total = context.Value("q", 0)
        self.distinct = context.Value("q", 0)
        self.size = context.Value("q", 0)  # bytes of every message received
        self._ready = context.Event()
        self._stop = context.Event()
        self._process = context.Process(
            target=smtp_server_process,
            args=(port, self.total, self.distinct, self.size, self._ready, self._stop),
            daemon=True,
        )

    def start(self) -> None:
        self._process.start()
        if not self._ready.wait(30):
            raise RuntimeError("the SMTP server did not start")

    def reset(self) -> None:
        with self.total.get_lock():
            self.total.value = 0
            self.size.value = 0

    def stop(self) -> None:
        self._stop.set()
        self._process.join(10)

    async def wait_for(self, count: int, timeout: float) -> float:
        """Seconds until ``count`` messages arrived."""
        started = time.perf_counter()
        while self.total.value < count:
            if time.perf_counter() - started > timeout:
                raise TimeoutError(f"{self.total.value} of {count} e-mails after {timeout} s")
            await asyncio.sleep(0.02)
        return time.perf_counter() - started


# --- data -----------------------------------------------------------------------------------


async def build_data(store: Any, folder: Path, args: argparse.Namespace, now: datetime) -> None:
    """Customers, contracts and accounts, then the documents published at once."""
    from bankfiles import demodata
    from bankfiles.importer import import_file
    from store.chats import ChatState
    from tests.fixtures.area_data import pdf_bytes

    rng = random.Random(2008)
    customers = folder / "customers.csv"
    with customers.open("w", encoding="utf-8") as out:
        out.write("customer_code,kind,name,fiscal_code\n")
        for i in range(1, args.customers + 1):
            name, code = demodata.person(rng)
            out.write(f"N{i:06d},person,{name},{code}\n")
    contracts = folder / "contracts.csv"
    with contracts.open("w", encoding="utf-8") as out:
        out.write(
            "contract_number,module_number,customer_code,status,description,start_date,"
            "end_date,periodic_fee\n"
        )
        for i in range(1, args.customers + 1):
            out.write(f"{i:08d},01,N{i:06d},active,Autovettura,2024-01-01,,456.78\n")
    for what, path in (("customers", customers), ("contracts", contracts)):
        report = await import_file(store, what, path, now=now)
        assert report.written and not report.bad, report.bad[:3]

    async with store.db.transaction():
        for customer_id in range(1, args.customers + 1):
            account = await store.accounts.create_pending(
                customer_id=customer_id,
                username=f"cliente{customer_id}",
                email=f"cliente{customer_id}@example.it",
                password_hash="x",
                expires_at=now,
                language="en" if customer_id % 10 == 0 else None,
                now=now,
            )
            await store.accounts.set_password(account, "x", now)
            if customer_id <= args.chats:
                state = ChatState("telegram", str(100_000 + customer_id), account_id=account)
                await store.chats.save(state, now)

    (folder / "sample.pdf").write_bytes(pdf_bytes("bench"))
    manifest = folder / "manifest.csv"
    per_customer = args.documents // args.customers
    with manifest.open("w", encoding="utf-8") as out:
        out.write("document_number,contract_number,document_type,issue_date,amount,file\n")
        for i in range(1, args.customers + 1):
            for month in range(1, per_customer + 1):
                kind = "credit_note" if (i + month) % 40 == 0 else "invoice"
                out.write(f"2025/{i:06d}{month:02d},{i:08d}/01,{kind},2025-{month:02d}-05,")
                out.write("456.78,sample.pdf\n")


async def publish(store: Any, folder: Path, data_dir: Path, now: datetime) -> float:
    """``python main.py publish``: every document at once; seconds it took."""
    from bankfiles.importer import publish_file

    started = time.perf_counter()
    report = await publish_file(store, folder / "manifest.csv", data_dir, now=now)
    assert report.written and not report.bad, report.bad[:3]
    return time.perf_counter() - started


# --- measurements ---------------------------------------------------------------------------


async def bare_smtp_loop(messages: list[tuple[bytes, list[str]]], sender: str, port: int) -> float:
    """Seconds for a bare aiosmtplib loop to send ``messages`` (pre-built bytes, the very bytes
    the sender sent) over one connection, with the sender's MAIL options."""
    import aiosmtplib

    smtp = aiosmtplib.SMTP(hostname=HOST, port=port)
    started = time.perf_counter()
    await smtp.connect()
    await smtp.ehlo()
    options = ["BODY=8BITMIME"] if smtp.supports_extension("8bitmime") else []
    for data, recipients in messages:
        await smtp.sendmail(sender, recipients, data, mail_options=options)
    await smtp.quit()
    return time.perf_counter() - started


def telegram_figures(calls: list[Any]) -> tuple[int, float, int, float]:
    """(messages, messages/s, busiest 1-second window, smallest gap in one chat in seconds)."""
    sends = sorted((c for c in calls if c.method == "sendMessage"), key=lambda c: c.at)
    if not sends:
        return 0, 0.0, 0, float("inf")
    busiest, start = 0, 0
    for end, call in enumerate(sends):
        while call.at - sends[start].at >= 1.0:
            start += 1
        busiest = max(busiest, end - start + 1)
    per_chat: dict[str | None, list[float]] = defaultdict(list)
    for call in sends:
        per_chat[call.chat_id].append(call.at)
    gaps = [b - a for times in per_chat.values() for a, b in itertools.pairwise(times)]
    span = sends[-1].at - sends[0].at
    rate = (len(sends) - 1) / span if span > 0 else float(len(sends))
    return len(sends), rate, busiest, min(gaps, default=float("inf"))


async def main(args: argparse.Namespace) -> int:
    from assistant.clock import SystemClock
    from assistant.notices import NoticeFanout
    from assistant.settings import Settings
    from assistant.texts import Texts
    from bot.telegram_app import build_application
    from bot.telegram_render import TelegramNotifier
    from mailbox.outbound.compose import envelope_recipients, message_bytes
    from mailbox.outbound.sender import OutboxSender
    from store.store import Store
    from tests.fakes.bot_api import FakeBotApi
    from tests.fixtures.smtp import free_port

    logging.basicConfig(level=logging.WARNING)
    smtp = SmtpCounter(free_port())
    smtp.start()
    api = FakeBotApi()
    await api.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-notices-"))
    settings = Settings.from_environ(
        {
            "AREACLIENTI_DB": str(folder / "bench.db"),
            "AREACLIENTI_DATA_DIR": str(folder / "data"),
            "SMTP_HOST": HOST,
            "SMTP_PORT": str(smtp.port),
            "SMTP_SECURITY": "none",
            "TELEGRAM_BOT_TOKEN": api.token,
            "TELEGRAM_API_URL": api.url,
        }
    )
    clock = SystemClock()
    now = datetime.now(UTC)
    store = await Store.open(settings.db_path, message_id_domain="bench.areaclienti")
    application = build_application(settings)
    await application.initialize()
    try:
        started = time.perf_counter()
        await build_data(store, folder, args, now)
        print(
            f"data: {args.customers:,} customers with active accounts, {args.chats:,} linked "
            f"chats ({time.perf_counter() - started:.1f} s)"
        )
        seconds = await publish(store, folder, settings.data_dir, now)
        print(f"publish: {args.documents:,} documents at once, {seconds:.1f} s")
        await store.communications.create_for(
            list(range(1, args.chats + 1)), subject="Avviso", body="Testo di prova.", now=now
        )

        notifier = TelegramNotifier(application.bot)
        fanout = NoticeFanout(store, Texts(settings.templates_dir), settings, clock, notifier)
        sender = OutboxSender(store, settings, clock)
        expected_mails = args.customers + args.chats
        expected_chat_messages = 2 * args.chats

        started = time.perf_counter()
        notices = await fanout.process_pending()
        fanout_seconds = time.perf_counter() - started
        print(
            f"fan-out: {notices:,} notices in {fanout_seconds:.1f} s "
            f"({notices / fanout_seconds:,.0f}/s)"
        )

        sender_task = asyncio.create_task(sender.run())
        mail_seconds = await smtp.wait_for(expected_mails, timeout=900)
        sender_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender_task
        sent_mails, distinct = smtp.total.value, smtp.distinct.value
        sender_bytes = smtp.size.value

        assert fanout.telegram is not None
        started = time.perf_counter()
        await fanout.telegram.send_due()
        telegram_seconds = time.perf_counter() - started

        rows = await store.outbox.list(limit=expected_mails + 10)
        messages = [(message_bytes(m, settings), envelope_recipients(m)) for m in rows]
        smtp.reset()
        bare_seconds = await bare_smtp_loop(messages, settings.mail_from_address, smtp.port)
        bare_rate = len(messages) / bare_seconds
        print(
            f"e-mail bytes received: OutboxSender {sender_bytes:,},"
            f" bare loop {smtp.size.value:,} ({len(messages):,} messages)"
        )
        mail_rate = sent_mails / mail_seconds
        print(
            f"e-mail: OutboxSender {mail_rate:,.0f}/s ({sent_mails:,} in {mail_seconds:.1f} s),"
            f" bare aiosmtplib loop {bare_rate:,.0f}/s, ratio {mail_rate / bare_rate:.2f}"
            f" (target >= {TARGET_RATIO})"
        )
        end_to_end = sent_mails / (fanout_seconds + mail_seconds)
        print(
            f"e-mail end to end (fan-out + delivery): {end_to_end:,.0f}/s, "
            f"ratio {end_to_end / bare_rate:.2f}"
        )

        count, rate, busiest, gap = telegram_figures(api.calls)
        print(
            f"telegram: {count:,} messages in {telegram_seconds:.1f} s at {rate:.1f}/s,"
            f" busiest 1-s window {busiest}"
            f" (limit ~{TELEGRAM_LIMIT_PER_S}), smallest gap in one chat {gap:.2f} s"
            " (limit 1 s)"
        )
        ok = (
            sent_mails == expected_mails
            and distinct == args.customers
            and count == expected_chat_messages
        )
        print(
            f"sent vs expected: e-mails {sent_mails:,}/{expected_mails:,} to {distinct:,}"
            f" distinct customers, chat messages {count:,}/{expected_chat_messages:,}"
            f" -> {'EQUAL' if ok else 'MISMATCH'}"
        )
        within = busiest <= TELEGRAM_LIMIT_PER_S and gap >= 1.0
        return 0 if ok and within else 1
    finally:
        await application.shutdown()
        await store.close()
        await api.stop()
        smtp.stop()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--chats", type=int, default=400)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
