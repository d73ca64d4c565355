"""Replicas: bot turns/s and notices/s of ``main.py run`` on SQLite, on PostgreSQL, and as two
replicas sharing PostgreSQL, side by side in one run.

    .venv/bin/python bench/replicas.py [--customers 2000] [--seconds 8] [--concurrency 32]
                                       [--legs sqlite,postgresql,replicas] [--unix-socket]
                                       [--rounds 3] [--no-profile]

Each leg starts real ``main.py run`` processes (webhook mode: ``TELEGRAM_MODE=webhook``, each
replica on its own ``STAFF_WEB_PORT``) over a fresh database of ``--customers`` customers, each
with a contract, an active account and a logged-in Telegram chat, built through the product's
own code (bank-file import, account and chat repositories). The fake Bot API runs in a child
process with the customers (``bench/_support_bot.py``), POSTing every update to the replicas'
webhooks in turn, as Telegram does through a load balancer; it has no flood limits, and the
bot's own limiter follows ``TELEGRAM_NOTICES_PER_SECOND``, set to 1000 (the most it takes), so
the engine's own ceiling shows. An aiosmtpd server in a child process takes the e-mails
(``bench/notices.py``'s). The replicas' CPU (``/proc``) and PostgreSQL's are printed per turn,
and, with py-spy installed, where the first replica's samples went (``_support_profile.py``)
in one more window after the measured ones (py-spy's own CPU would slow a measured one).

Per leg, in ``--rounds`` windows (3; the legs in turn, each round with its replicas started
anew, so a noisy minute of this shared machine hits every leg; the median round counts):
bot turns/s (32 customers in closed loops typing /menu, /contratti, /fatture,
/comunicazioni; a turn ends at the bot's first message) with p50/p95; then, once, notices/s (an
announcement to every customer written by ``communications.create_for``, timed until the last
e-mail is received and the last Telegram notice accepted; the fan-out polls every 1.5 s).
PostgreSQL is a throwaway cluster (``tests/fixtures/postgres.py``, ``durable=True``: fsync on,
``synchronous_commit=off``, like SQLite's WAL with ``synchronous=NORMAL``).
Targets: two replicas >= 1.4x one replica's turns/s; PostgreSQL single >= 0.7x SQLite single.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._support_bot import BotApiProcess, TurnFigures
from bench._support_profile import Sampled
from bench._support_replicas import SECRET, Replicas, server_cpu_seconds
from bench.notices import SmtpCounter

TEXTS = ["/menu", "/contratti", "/fatture", "/comunicazioni"]
TARGET_REPLICAS, TARGET_POSTGRES = 1.4, 0.7


@dataclass(frozen=True)
class Leg:
    """One configuration measured: its name, database and number of replicas."""

    name: str
    replicas: int
    postgres: bool


LEGS = {
    "sqlite": Leg("SQLite, one process", 1, False),
    "postgresql": Leg("PostgreSQL, one process", 1, True),
    "replicas": Leg("PostgreSQL, two replicas", 2, True),
}


@dataclass(frozen=True)
class Figures:
    """What one leg measured."""

    turns: TurnFigures
    mails: float  # e-mail notices/s
    chats: float  # Telegram notices/s
    cores: float  # CPU the replicas used together while the customers typed (1.0: one core)
    server_cores: float  # CPU the PostgreSQL server's processes used meanwhile
    profile: str  # where the first replica's time went in a window of its own (py-spy)
    rounds: list[float]  # turns/s of every round; ``turns`` is the median round's


async def build_data(target: str, folder: Path, customers: int) -> list[str]:
    """Customers with a contract, an active account and a logged-in chat; the chat ids."""
    import random

    from bankfiles import demodata
    from bankfiles.importer import import_file
    from store.chats import ChatState
    from store.store import Store

    rng, now = random.Random(2013), datetime.now(UTC)
    people = folder / "customers.csv"
    contracts = folder / "contracts.csv"
    with people.open("w", encoding="utf-8") as out, contracts.open("w", encoding="utf-8") as c:
        out.write("customer_code,kind,name,fiscal_code\n")
        c.write("contract_number,module_number,customer_code,status,description,start_date,"
                "end_date,periodic_fee\n")  # fmt: skip
        for i in range(1, customers + 1):
            name, code = demodata.person(rng)
            out.write(f"N{i:06d},person,{name},{code}\n")
            c.write(f"{i:08d},01,N{i:06d},active,Autovettura,2024-01-01,,456.78\n")
    store = await Store.open(target)
    try:
        for what, path in (("customers", people), ("contracts", contracts)):
            report = await import_file(store, what, path, now=now)
            assert report.written and not report.bad, report.bad[:3]
        chats = []
        async with store.transaction():
            for customer_id in range(1, customers + 1):
                account = await store.accounts.create_pending(
                    customer_id=customer_id, username=f"cliente{customer_id}",
                    email=f"cliente{customer_id}@example.it", password_hash="x",
                    expires_at=now, language=None, now=now,
                )  # fmt: skip
                await store.accounts.set_password(account, "x", now)
                chat = str(200_000 + customer_id)
                state = ChatState("telegram", chat, account_id=account, logged_in=True,
                                  last_seen_at=now)  # fmt: skip
                await store.chats.save(state, now)
                chats.append(chat)
        return chats
    finally:
        await store.close()


async def notices(
    target: str, customers: int, api: BotApiProcess, smtp: SmtpCounter
) -> tuple[float, float]:
    """An announcement to every customer; (e-mails/s, Telegram notices/s)."""
    from store.store import Store

    mails, chats = smtp.total.value, await api.unawaited()
    store = await Store.open(target)
    try:
        started = time.perf_counter()
        await store.communications.create_for(
            list(range(1, customers + 1)), subject="Avviso", body="Testo.", now=datetime.now(UTC)
        )
    finally:
        await store.close()
    mail_done = chat_done = 0.0
    while not (mail_done and chat_done):
        await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        if elapsed > 600:
            raise TimeoutError("the notices were not all sent within 10 minutes")
        if not mail_done and smtp.total.value - mails >= customers:
            mail_done = elapsed
        if not chat_done and await api.unawaited() - chats >= customers:
            chat_done = elapsed
    return customers / mail_done, customers / chat_done


async def turns_round(
    leg: Leg, target: str, folder: Path, args: argparse.Namespace, api: BotApiProcess,
    smtp: SmtpCounter, cluster: Path | None, chats: list[str], *, profiled: bool = False,
) -> tuple[TurnFigures, float, float, str]:  # fmt: skip
    """Start the leg's replicas, let the customers type for ``--seconds``, stop them:
    what the customers saw, the replicas' and the server's cores, and (``profiled``) where the
    first replica's time went. py-spy takes CPU of its own, so a profiled window is not one of
    the measured rounds."""
    replicas = Replicas(leg.replicas, target, folder, api, smtp.port)
    try:
        replicas.start()
        cpu, server, wall = replicas.cpu_seconds(), server_cpu_seconds(cluster), time.perf_counter()
        sampled = Sampled(replicas.processes[0].pid, args.seconds) if profiled else None
        with sampled or contextlib.nullcontext():
            turns = await api.drive(chats, TEXTS, concurrency=args.concurrency,
                                    seconds=args.seconds, webhooks=replicas.webhooks,
                                    secret=SECRET)  # fmt: skip
        span = time.perf_counter() - wall
        cores = (replicas.cpu_seconds() - cpu) / span
        server_cores = (server_cpu_seconds(cluster) - server) / span
    finally:
        replicas.stop()
    return turns, cores, server_cores, sampled.summary() if sampled else ""


async def notices_round(
    leg: Leg, target: str, folder: Path, args: argparse.Namespace, api: BotApiProcess,
    smtp: SmtpCounter,
) -> tuple[float, float]:  # fmt: skip
    """Start the leg's replicas, send an announcement to every customer, stop them."""
    replicas = Replicas(leg.replicas, target, folder, api, smtp.port)
    try:
        replicas.start()
        return await notices(target, args.customers, api, smtp)
    finally:
        replicas.stop()


def report(found: dict[str, Figures]) -> bool:
    """The legs side by side, and the two targets."""
    print(f"\n{'':<26}" + "".join(f"{LEGS[k].name:>27}" for k in found))
    rows = (
        ("bot turns/s (median)", lambda f: f"{f.turns.per_second:,.0f}"),
        ("rounds' turns/s", lambda f: " ".join(f"{r:,.0f}" for r in f.rounds)),
        ("turn p50 / p95 ms", lambda f: f"{f.turns.p50_ms:,.0f} / {f.turns.p95_ms:,.0f}"),
        ("turns not answered", lambda f: f"{f.turns.late}"),
        ("e-mail notices/s", lambda f: f"{f.mails:,.0f}"),
        ("Telegram notices/s", lambda f: f"{f.chats:,.0f}"),
        ("replicas' CPU, cores", lambda f: f"{f.cores:.2f}"),
        ("PostgreSQL server, cores", lambda f: f"{f.server_cores:.2f}"),
        ("fake Bot API + customers", lambda f: f"{f.turns.server_cores:.2f}"),
        ("CPU ms per turn", lambda f: f"{f.cores / f.turns.per_second * 1000:.1f}"),
        (
            "CPU ms per turn, all",
            lambda f: f"{(f.cores + f.server_cores) / f.turns.per_second * 1000:.1f}",
        ),
    )
    for name, show in rows:
        print(f"{name:<26}" + "".join(f"{show(f):>27}" for f in found.values()))
    for key, figures in found.items():
        print(f"where {LEGS[key].name}'s time went (first replica): {figures.profile}")
    ok = True
    for (one, other), target in ((("sqlite", "postgresql"), TARGET_POSTGRES),
                                 (("postgresql", "replicas"), TARGET_REPLICAS)):  # fmt: skip
        if one in found and other in found:
            ratio = found[other].turns.per_second / found[one].turns.per_second
            ok &= ratio >= target
            print(f"turns/s {LEGS[other].name} / {LEGS[one].name}: {ratio:.2f}"
                  f" (target >= {target})")  # fmt: skip
    return ok


async def main(args: argparse.Namespace) -> int:
    from tests.fixtures.smtp import free_port

    keys = list(dict.fromkeys(args.legs.split(",")))
    legs = [LEGS[name] for name in keys]
    smtp = SmtpCounter(free_port())
    smtp.start()
    api = BotApiProcess()
    api.start()
    cluster = None
    folder = Path(tempfile.mkdtemp(prefix="bench-replicas-"))
    found: dict[str, Figures] = {}
    try:
        if any(leg.postgres for leg in legs):
            if not glob.glob("/usr/lib/postgresql/*/bin/initdb"):
                print("PostgreSQL's server programs are missing (apt-get install postgresql)")
                return 1
            from tests.fixtures.postgres import PgServer

            cluster = PgServer.create(durable=True)
        prepared = {}
        for key, leg in zip(keys, legs, strict=True):
            home = folder / key
            home.mkdir()
            target = str(home / "bench.db")
            if leg.postgres:
                assert cluster is not None
                cluster.admin(f"CREATE DATABASE bench_{key}")
                target = cluster.url(f"bench_{key}")
                if args.unix_socket:  # the server's socket directory instead of TCP on 127.0.0.1
                    target = (f"postgresql://postgres@/bench_{key}"
                              f"?host={cluster.folder}&port={cluster.port}")  # fmt: skip
            where = cluster.folder if cluster is not None and leg.postgres else None
            chats = await build_data(target, home, args.customers)
            prepared[key] = (leg, target, where, chats)
        rounds: dict[str, list[tuple[TurnFigures, float, float]]] = {key: [] for key in keys}
        for number in range(1, args.rounds + 1):  # the legs in turn, so a noisy minute of a
            for key, (leg, target, where, chats) in prepared.items():  # shared machine hits all
                home = folder / key / f"round{number}"
                home.mkdir()
                turns, cores, server, _ = await turns_round(leg, target, home, args, api, smtp,
                                                            where, chats)  # fmt: skip
                rounds[key].append((turns, cores, server))
                load = os.getloadavg()[0]
                print(f"round {number}, {leg.name}: {turns.per_second:,.0f} turns/s"
                      f" (p95 {turns.p95_ms:,.0f} ms); load average {load:.1f}")  # fmt: skip
        for key, (leg, target, where, chats) in prepared.items():
            home = folder / key / "notices"
            home.mkdir()
            mails, chat_rate = await notices_round(leg, target, home, args, api, smtp)
            profile = ""
            if args.profile:
                home = folder / key / "profile"
                home.mkdir()
                *_, profile = await turns_round(leg, target, home, args, api, smtp, where, chats,
                                                profiled=True)  # fmt: skip
            middle = sorted(rounds[key], key=lambda r: r[0].per_second)[len(rounds[key]) // 2]
            found[key] = Figures(middle[0], mails, chat_rate, middle[1], middle[2], profile,
                                 [r[0].per_second for r in rounds[key]])  # fmt: skip
            print(f"{leg.name}: e-mails {mails:,.0f}/s, Telegram notices {chat_rate:,.0f}/s")
    finally:
        api.stop()
        smtp.stop()
        if cluster is not None:
            cluster.stop("immediate")
            shutil.rmtree(cluster.folder, ignore_errors=True)
        shutil.rmtree(folder, ignore_errors=True)
    return 0 if report(found) else 1


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=2_000)
    parser.add_argument("--seconds", type=float, default=8.0, help="of bot turns per leg")
    parser.add_argument("--concurrency", type=int, default=32, help="customers typing at once")
    parser.add_argument("--legs", default="sqlite,postgresql,replicas")
    parser.add_argument("--rounds", type=int, default=3,
                        help="turn windows per leg, legs in turn; the median counts")  # fmt: skip
    parser.add_argument("--no-profile", dest="profile", action="store_false",
                        help="skip the py-spy window after the rounds")  # fmt: skip
    parser.add_argument("--unix-socket", action="store_true",
                        help="reach PostgreSQL through its Unix socket, not TCP")  # fmt: skip
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
