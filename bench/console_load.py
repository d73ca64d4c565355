"""The bot's figures while the staff console is used: alone, then beside N working agents.

    .venv/bin/python bench/console_load.py [--tickets 20000] [--agents 5] [--think 2]
                                           [--seconds 4] [--announce 1000] [--rounds 8]

One process and one event loop run what ``main.py run`` runs (``bench/_support_service.py``):
the real python-telegram-bot Application polling the fake Bot API, which runs in a child process
with the customers typing (``bench/_support_bot.py``; no client-side flood limiter, to see the
engine's ceiling), the ``Assistant`` over the store, the outbox sender delivering to an aiosmtpd
server in a child process, the notice fan-out with its Telegram sender (unpaced, same reason)
and the staff console under uvicorn. The database is ``bench/staff_web.py``'s (``--tickets``
tickets with ten messages each, 20,000 customers, 10,000 accounts each with a linked chat);
2,000 chats have an open session.

Measured alone and while ``--agents`` staff agents (``bench/_support_agents.py``, a child
process: logged in with password + TOTP through the pages, each repeating inbox / ticket /
customer / search with about ``--think`` seconds between pages: 2 s, some 2.5 pages/s for the
five, already busier than people reading tickets; ``--think 0.5`` is the stress case) use the
console:
  * bot turns/s: 32 customers in closed loops typing /menu, /contratti, /fatture,
    /comunicazioni (each turn reads the session from the store and saves it), p50/p95 a turn,
    and the service's CPU per turn (``time.process_time`` of this process: loop + DB thread);
  * notices/s: an announcement to ``--announce`` customers, from ``create_for`` to the last
    e-mail received and to the last Telegram notice accepted (fan-out, outbox, both senders).
Windows come in pairs (alone, loaded), the order alternating from round to round, so that a
drift of the shared machine's load cancels; printed are each side's median and the median of
the paired ratios. A last loaded window is sampled with py-spy, when installed: the share of
the service's samples spent for the console pages, the bot, the notices, the database thread.
Target: loaded / alone >= 0.9 for turns/s and notices/s.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support_agents import AgentsProcess, page_figures
from bench._support_bot import BotApiProcess, TurnFigures
from bench._support_profile import Sampled
from bench._support_service import Service, start_service
from bench.notices import SmtpCounter

HOST = "127.0.0.1"
TARGET_RATIO = 0.9
TURN_CHATS = 2_000
TEXTS = ["/menu", "/contratti", "/fatture", "/comunicazioni"]
CALLERS = (  # who a sample of the service worked for, its stack searched in this order
    ("console pages", ("uvicorn/", "starlette/", "web/")),
    ("notices and mail", ("assistant/notice", "mailbox/", "aiosmtplib/")),
    ("bot turns", ("telegram/", "bot/telegram", "assistant/dialogs", "assistant/flows")),
    ("database thread", ("store/thread.py",)),
    ("event loop itself", ("asyncio/", "selectors.py")),
)
T = TypeVar("T")


def log_sessions_in(path: Path) -> list[str]:
    """The first TURN_CHATS linked chats get an open session; their chat ids."""
    conn = sqlite3.connect(path)
    with conn:
        conn.execute(
            "UPDATE chats SET logged_in = 1, last_seen_at = ? WHERE account_id <= ?",
            (datetime.now(UTC).isoformat(timespec="seconds"), TURN_CHATS),
        )
        rows = conn.execute("SELECT chat_id FROM chats WHERE logged_in = 1").fetchall()
    conn.close()
    return [r[0] for r in rows]


async def notices_round(
    service: Service, smtp: SmtpCounter, customers: list[int]
) -> tuple[float, float]:
    """Announce to ``customers``; (e-mails/s, Telegram notices/s), each from the announcement
    to its last one."""
    telegram = service.fanout.telegram
    mails, chats = smtp.total.value, telegram.sent
    started = time.perf_counter()
    now = datetime.now(UTC)
    await service.store.communications.create_for(
        customers, subject="Avviso di prova", body="Testo dell'avviso.", now=now
    )
    service.fanout.wake()
    mail_done = chat_done = 0.0
    while not (mail_done and chat_done):
        await asyncio.sleep(0.02)
        elapsed = time.perf_counter() - started
        if elapsed > 600:
            raise TimeoutError("the notices were not all sent within 10 minutes")
        if not mail_done and smtp.total.value - mails >= len(customers):
            mail_done = elapsed
        if not chat_done and telegram.sent - chats >= len(customers):
            chat_done = elapsed
    return len(customers) / mail_done, len(customers) / chat_done


@dataclass(frozen=True)
class Turns:
    """One window of customers typing, and what it cost the service."""

    figures: TurnFigures
    service_cores: float  # CPU this process (loop + database thread) used meanwhile

    @property
    def cpu_ms(self) -> float:
        """The service's CPU per turn (console pages included when the agents work)."""
        rate = self.figures.per_second
        return self.service_cores / rate * 1000 if rate else 0.0


class Bench:
    """The service, the fake Bot API with its customers, the SMTP server and the agents."""

    def __init__(self, args: argparse.Namespace, service: Service, api: BotApiProcess,
                 smtp: SmtpCounter, agents: AgentsProcess, chats: list[str],
                 audience: list[int]) -> None:  # fmt: skip
        self.args, self.service, self.api, self.smtp = args, service, api, smtp
        self.agents, self.chats, self.audience = agents, chats, audience
        self.pages: dict[str, list[float]] = defaultdict(list)

    async def turns(self) -> Turns:
        """Customers typing for ``--seconds`` (after a warm-up)."""
        cpu, wall = time.process_time(), time.perf_counter()
        figures = await self.api.drive(
            self.chats, TEXTS, concurrency=self.args.concurrency, seconds=self.args.seconds
        )
        return Turns(figures, (time.process_time() - cpu) / (time.perf_counter() - wall))

    async def notices(self) -> tuple[float, float]:
        """One announcement's (e-mails/s, Telegram notices/s)."""
        return await notices_round(self.service, self.smtp, self.audience)

    async def profiled(self) -> tuple[str, str]:
        """One more loaded window of turns, and of notices, each sampled: the service's time
        by who asked for it."""
        found = []
        self.agents.go()
        await asyncio.sleep(0.5)
        for measure in (self.turns, self.notices):
            with Sampled(os.getpid(), self.args.seconds) as sample:
                await measure()
            found.append(sample.summary(CALLERS, anywhere=True))
        await self.agents.halt()
        return found[0], found[1]

    async def pair(self, measure: Callable[[], Awaitable[T]], first_alone: bool) -> tuple[T, T]:
        """(alone, loaded): the same measurement without and with the agents at work, in the
        order given (the rounds alternate it, so a drift of the machine's load cancels)."""
        found: dict[bool, T] = {}
        for loaded in (not first_alone, first_alone):
            if loaded:
                self.agents.go()
                await asyncio.sleep(0.5)
            found[loaded] = await measure()
            if loaded:
                for kind, samples in (await self.agents.halt()).items():
                    self.pages[kind].extend(samples)
        return found[False], found[True]


async def measure(args: argparse.Namespace, root: Path) -> int:
    from assistant.settings import Settings
    from bench.staff_web import CUSTOMERS, MESSAGES_PER_TICKET, generate

    smtp = SmtpCounter(_free_port())
    smtp.start()
    api = BotApiProcess()
    api.start()
    settings = Settings.from_environ(
        {"AREACLIENTI_DB": str(root / "bench.db"), "AREACLIENTI_DATA_DIR": str(root),
         "OUTBOX_DIR": str(root / "outbox"), "SMTP_HOST": HOST, "SMTP_PORT": str(smtp.port),
         "SMTP_SECURITY": "none", "TELEGRAM_BOT_TOKEN": api.token,
         "TELEGRAM_API_URL": api.url}
    )  # fmt: skip
    await _migrate(settings)
    started = time.perf_counter()
    await asyncio.to_thread(generate, settings.db_path, args.tickets)
    chats = log_sessions_in(settings.db_path)
    print(f"generated {args.tickets:,} tickets, {args.tickets * MESSAGES_PER_TICKET:,} messages,"
          f" {CUSTOMERS:,} customers in {time.perf_counter() - started:.1f} s;"
          f" {len(chats):,} chats logged in")  # fmt: skip
    service, logins = await start_service(settings, args.agents)
    agents = AgentsProcess(service.console_url, logins, tickets=args.tickets,
                           customers=CUSTOMERS, think=args.think)  # fmt: skip
    audience = (await service.store.communications.registered_customers())[-args.announce :]
    bench = Bench(args, service, api, smtp, agents, chats, audience)
    turns: list[tuple[Turns, Turns]] = []
    notices: list[tuple[tuple[float, float], tuple[float, float]]] = []
    try:
        await agents.start()
        for round_ in range(args.rounds):
            one, other = await bench.pair(bench.turns, first_alone=round_ % 2 == 0)
            turns.append((one, other))
            print(f"turns, round {round_ + 1}: alone {one.figures.per_second:4.0f}/s"
                  f" ({one.cpu_ms:4.1f} CPU ms each), {args.agents} agents"
                  f" {other.figures.per_second:4.0f}/s ({other.cpu_ms:4.1f} CPU ms each);"
                  f" load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        for round_ in range(args.rounds):
            pair = await bench.pair(bench.notices, first_alone=round_ % 2 == 0)
            notices.append(pair)
            print(f"notices, round {round_ + 1}: e-mails/s {pair[0][0]:4.0f} alone,"
                  f" {pair[1][0]:4.0f} loaded; Telegram/s {pair[0][1]:4.0f} alone,"
                  f" {pair[1][1]:4.0f} loaded; load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        profile = await bench.profiled()
    finally:
        agents.stop()
        await service.stop()
        api.stop()
        smtp.stop()
    print(f"where the service's time went, loaded, turns: {profile[0]}")
    print(f"where the service's time went, loaded, notices (first {args.seconds:.0f} s):"
          f" {profile[1]}")  # fmt: skip
    return report(args, turns, notices, bench.pages)


def report(
    args: argparse.Namespace,
    turns: list[tuple[Turns, Turns]],
    notices: list[tuple[tuple[float, float], tuple[float, float]]],
    pages: dict[str, list[float]],
) -> int:
    """Medians of each side and of the paired ratios; 0 when the target is met."""
    rows: list[tuple[str, list[tuple[float, float]], bool]] = [
        ("bot turns/s", [(a.figures.per_second, b.figures.per_second) for a, b in turns], True),
        ("e-mail notices/s", [(a[0], b[0]) for a, b in notices], True),
        ("Telegram notices/s", [(a[1], b[1]) for a, b in notices], True),
        ("turn p50 ms", [(a.figures.p50_ms, b.figures.p50_ms) for a, b in turns], False),
        ("turn p95 ms", [(a.figures.p95_ms, b.figures.p95_ms) for a, b in turns], False),
        ("service CPU ms/turn", [(a.cpu_ms, b.cpu_ms) for a, b in turns], False),
        ("service cores", [(a.service_cores, b.service_cores) for a, b in turns], False),
        ("fake Bot API cores",
         [(a.figures.server_cores, b.figures.server_cores) for a, b in turns], False),
    ]  # fmt: skip
    print(f"console pages while the agents worked (think {args.think} s between pages):")
    for page in page_figures(pages):
        print(f"  {page.kind:<9} {page.count:>5} pages  p50 {page.p50_ms:6.1f} ms"
              f"  p95 {page.p95_ms:6.1f} ms")  # fmt: skip
    header = f"median of {args.rounds} pairs"
    print(f"\n{header:<22}{'alone':>10}{f'{args.agents} agents':>12}{'ratio':>8}")
    ok = True
    for name, pairs, target in rows:
        by_itself = statistics.median(a for a, _ in pairs)
        beside = statistics.median(b for _, b in pairs)
        ratio = statistics.median(b / a if a else 0.0 for a, b in pairs)  # paired
        ok &= ratio >= TARGET_RATIO or not target
        digits = 0 if by_itself >= 10 else 2
        print(f"{name:<22}{by_itself:>10,.{digits}f}{beside:>12,.{digits}f}{ratio:>8.2f}")
    print(f"target: loaded / alone >= {TARGET_RATIO} for turns/s and notices/s ->"
          f" {'met' if ok else 'NOT met'}")  # fmt: skip
    return 0 if ok else 1


async def _migrate(settings: Any) -> None:
    from store.store import Store

    store = await Store.open(settings.db_path)
    await store.close()


def _free_port() -> int:
    from tests.fixtures.smtp import free_port

    return free_port()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--tickets", type=int, default=20_000)
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--think", type=float, default=2.0, help="seconds between pages")
    parser.add_argument("--seconds", type=float, default=4.0, help="of bot turns a window")
    parser.add_argument("--concurrency", type=int, default=32, help="customers typing at once")
    parser.add_argument("--announce", type=int, default=1_000, help="customers per notice run")
    parser.add_argument("--rounds", type=int, default=8, help="pairs of windows")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="console-load-") as folder:
        return asyncio.run(measure(args, Path(folder)))


if __name__ == "__main__":
    sys.exit(main())
