"""The staff console at scale: 100,000 tickets and 1,000,000 messages, pages timed over HTTP.

Builds a throwaway database (every migration applied, then bulk SQL: 20,000 customers with two
contracts and a dozen documents each, half of them registered, 100,000 tickets over a year with
ten messages each, e-mail and Telegram, one ticket in fourteen still open), serves it with the
real app under uvicorn (in a thread of its own, as ``main.py run`` serves it beside the bot),
logs in through the pages (password, then TOTP enrolment) and times, over keep-alive HTTP:
  * inbox:     the inbox, filtered (status, channel, assigned, overdue) or searched (a
               reference, a customer code, part of a subject or of an address) and paginated
               (pages 1 to 5 of each, following the keyset "next" links);
  * ticket:    a ticket's page (its thread, notes, ready answers) of a random ticket;
  * customer:  a customer's page (contracts, documents, account, chats, tickets);
  * dashboard, operations: the other two pages of slice 12b (reported, no target).
Prints p50 / p95 / max in milliseconds per page. Target: p95 < 50 ms for inbox, ticket and
customer.

    .venv/bin/python bench/staff_web.py [--tickets 100000] [--requests 300]
"""

from __future__ import annotations

import argparse
import asyncio
import html
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from assistant.clock import SystemClock
from assistant.service_levels import ServiceLevel
from assistant.settings import Settings
from assistant.texts import Texts
from assistant.tickets import TicketService
from staff.accounts import StaffAccounts
from store.store import Store
from tests.fixtures.smtp import free_port
from web import security
from web.app import create_app
from web.context import Services
from web.server import build_server, serve

TARGET_P95_MS = 50.0
CUSTOMERS = 20_000
MESSAGES_PER_TICKET = 10
DAY = 86_400
T = TypeVar("T")


def generate(path: Path, tickets: int) -> None:
    """Bulk rows straight into the migrated file: one transaction, INSERT ... SELECT."""
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA cache_size = -262144")
    now = time.time()
    conn.execute("BEGIN")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO customers (code, kind, name, fiscal_code, paper_invoices, updated_at)"
        " SELECT printf('C%06d', i), 'person', printf('Cliente %d', i),"
        " printf('RSSMRA%02dT10A%03dS', i % 100, i % 1000), i % 2, '2026-01-01T00:00:00+00:00'"
        " FROM n",
        (CUSTOMERS,),
    )
    conn.execute(
        "INSERT INTO contracts (contract_number, module_number, customer_id, status, description,"
        " start_date, end_date, periodic_fee_cents, updated_at)"
        " SELECT printf('LS%07d', id * 2 + k), '1', id, CASE k WHEN 0 THEN 'active'"
        " ELSE 'terminated' END, 'Furgone', '2020-01-01', CASE k WHEN 0 THEN NULL"
        " ELSE '2023-12-31' END, 45000, '2026-01-01T00:00:00+00:00'"
        " FROM customers, (SELECT 0 AS k UNION ALL SELECT 1)"
    )
    conn.execute(
        "WITH RECURSIVE m(j) AS (SELECT 1 UNION ALL SELECT j + 1 FROM m WHERE j < 6)"
        " INSERT INTO documents (number, contract_id, kind, issue_date, amount_cents, pdf_path,"
        " pdf_sha256, published_at) SELECT printf('2025/%07d-%d', c.id, j), c.id, 'invoice',"
        " printf('2025-%02d-28', j * 2), 45000, printf('documents/%d-%d.pdf', c.id, j), 'x',"
        " '2026-01-01T00:00:00+00:00' FROM contracts c, m"
    )
    conn.execute(
        "INSERT INTO accounts (customer_id, username, email, status, password_hash,"
        " password_temporary, registered_at, updated_at)"
        " SELECT id, printf('ac%08d', id), printf('cliente%d@example.it', id), 'active', 'x', 0,"
        " '2025-01-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00' FROM customers WHERE id % 2"
    )
    conn.execute(
        "INSERT INTO chats (channel, chat_id, account_id, logged_in, updated_at)"
        " SELECT 'telegram', printf('%d', 100000 + id), id, 0, '2025-01-01T00:00:00+00:00'"
        " FROM accounts"
    )
    # Tickets over the last year; one in fourteen still open, a few auto-answered.
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?)"
        " INSERT INTO tickets (reference, channel, contact, customer_id, subject, language,"
        " status, created_at, updated_at, first_response_at)"
        " SELECT printf('AC-%06d', 100000 + i), CASE WHEN i % 10 < 7 THEN 'email'"
        " ELSE 'telegram' END, printf('cliente%d@example.it', i % ?), CASE WHEN i % 5 < 3"
        " THEN 1 + i % ? END, printf('Domanda numero %d sul contratto', i), 'it',"
        " CASE WHEN i % 14 = 0 THEN 'open' WHEN i % 14 = 1 THEN 'auto_answered'"
        " WHEN i % 14 < 4 THEN 'answered' ELSE 'closed' END,"
        " strftime('%Y-%m-%dT%H:%M:%S+00:00', ? - (? - i) * ?, 'unixepoch'),"
        " strftime('%Y-%m-%dT%H:%M:%S+00:00', ? - (? - i) * ? + 3600, 'unixepoch'),"
        " CASE WHEN i % 14 > 1 THEN"
        " strftime('%Y-%m-%dT%H:%M:%S+00:00', ? - (? - i) * ? + 1800, 'unixepoch') END"
        " FROM n",
        (tickets, CUSTOMERS * 2, CUSTOMERS, *(now, tickets, 365 * DAY / tickets) * 3),
    )
    conn.execute("DROP TRIGGER tickets_first_response")  # set above; put back below
    conn.execute(
        "WITH RECURSIVE m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < ?)"
        " INSERT INTO ticket_messages (ticket_id, direction, author, kind, body, created_at)"
        " SELECT t.id, CASE WHEN k % 2 THEN 'out' ELSE 'in' END,"
        " CASE WHEN k % 2 = 0 THEN 'customer' WHEN t.status = 'auto_answered' THEN 'assistant'"
        " ELSE 'staff' END, CASE WHEN k % 2 THEN 'staff_reply' ELSE 'message' END,"
        " printf('Messaggio %d del ticket %d: buongiorno, vorrei sapere quando arriva la"
        " fattura del mese. Grazie, cordiali saluti.', k, t.id),"
        " strftime('%Y-%m-%dT%H:%M:%S+00:00', unixepoch(t.created_at) + k * 360, 'unixepoch')"
        " FROM tickets t, m",
        (MESSAGES_PER_TICKET - 1,),
    )
    trigger = Path(__file__).resolve().parent.parent / "store/migrations/0011_staff_views.sql"
    text = trigger.read_text(encoding="utf-8")
    conn.execute(text[text.index("CREATE TRIGGER") : text.index("END;") + 4])
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.close()


class Server:
    """The console over the database, served by uvicorn on a loop in a thread of its own."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.store: Store | None = None
        self.task: asyncio.Task[None] | None = None

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        """Run ``coro`` on the server's loop; its result."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(600)

    async def start(self) -> str:
        """Open the store, add a staff user, listen; the user's password."""
        settings, clock = self.settings, SystemClock()
        self.store = store = await Store.open(settings.db_path)
        texts = Texts(settings.templates_dir)
        level = ServiceLevel(settings.staff_business_hours, settings.sla_first_response_hours)
        services = Services(
            store=store, settings=settings, clock=clock, texts=texts,
            tickets=TicketService(store, texts, settings), service_level=level,
        )  # fmt: skip
        _, password = await StaffAccounts(store, clock).add("bench", "agent", None, by=None)
        server = build_server(create_app(services), "127.0.0.1", self.port)
        self.task = asyncio.ensure_future(serve(server))
        while not server.started:
            await asyncio.sleep(0.01)
        return password

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)
        if self.store is not None:
            await self.store.close()


def log_in(client: httpx.Client, password: str) -> None:
    """Password, then the TOTP enrolment, through the pages."""
    form = client.get("/login").text
    client.post("/login", data={"csrf": _field(form, "csrf"), "username": "bench",
                                "password": password})  # fmt: skip
    enrol = client.get("/login/enrol").text
    shown = re.search(r'class="secret">([^<]+)<', enrol)
    assert shown, "no TOTP secret on the enrolment page"
    secret = "".join(html.unescape(shown[1]).split())
    code = security.totp_code(secret, SystemClock().now())
    done = client.post("/login/enrol", data={"csrf": _field(enrol, "csrf"), "code": code})
    assert done.status_code in (200, 303) and client.get("/tickets").status_code == 200


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field"
    return html.unescape(match[1])


def timed(client: httpx.Client, paths: Callable[[int], str], count: int) -> list[float]:
    """Milliseconds of ``count`` GETs, the i-th of ``paths(i)``; every answer must be 200."""
    found = []
    for i in range(count):
        path = paths(i)
        start = time.perf_counter()
        response = client.get(path)
        found.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    return found


def inbox_paths(client: httpx.Client) -> list[str]:
    """Pages 1 to 5 of a few filters, following each page's "next" link."""
    filters = [
        "/tickets?status=open",
        "/tickets?status=active&channel=email",
        "/tickets?status=all",
        "/tickets?status=closed&channel=telegram",
        "/tickets?status=open&assigned=unassigned",
        "/tickets?status=open&overdue=1",
        "/tickets?status=all&q=AC-100077",
        "/tickets?status=all&q=C000123",
        "/tickets?status=active&q=numero%2012",
        "/tickets?status=all&q=cliente77%40example",
    ]
    paths = []
    for first in filters:
        path: str | None = first
        for _ in range(5):
            if path is None:
                break
            paths.append(path)
            page = client.get(path).text
            match = re.search(r'<a rel="next" href="([^"]+)"', page)
            path = html.unescape(match[1]) if match else None
    return paths


def report(name: str, samples: list[float], target: float | None) -> bool:
    samples = sorted(samples)
    p95 = samples[max(0, round(len(samples) * 0.95) - 1)]
    verdict = "" if target is None else ("  ok" if p95 < target else f"  OVER {target:.0f} ms")
    print(
        f"{name:<11} n={len(samples):<4} p50 {statistics.median(samples):6.1f} ms"
        f"  p95 {p95:6.1f} ms  max {samples[-1]:6.1f} ms{verdict}"
    )
    return target is None or p95 < target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="staff-web-bench-") as folder:
        root = Path(folder)
        settings = Settings.from_environ(
            {"AREACLIENTI_DB": str(root / "bench.db"), "AREACLIENTI_DATA_DIR": str(root),
             "OUTBOX_DIR": str(root / "outbox")}
        )  # fmt: skip
        server = Server(settings)
        server.run(_migrate(settings.db_path))
        start = time.perf_counter()
        generate(settings.db_path, args.tickets)
        print(
            f"generated {args.tickets:,} tickets, {args.tickets * MESSAGES_PER_TICKET:,} messages,"
            f" {CUSTOMERS:,} customers in {time.perf_counter() - start:.1f} s"
        )
        password = server.run(server.start())
        ok = True
        try:
            with httpx.Client(base_url=server.url, follow_redirects=True, timeout=30) as client:
                log_in(client, password)
                rng = random.Random(7)
                inbox = inbox_paths(client)
                for path in inbox[:5]:  # warm the caches once
                    client.get(path)
                n = args.requests
                ok &= report("inbox", timed(client, lambda i: inbox[i % len(inbox)], n), 50)
                ids = [rng.randrange(1, args.tickets + 1) for _ in range(n)]
                ok &= report("ticket", timed(client, lambda i: f"/tickets/{ids[i]}", n), 50)
                who = [rng.randrange(1, CUSTOMERS + 1) for _ in range(n)]
                ok &= report("customer", timed(client, lambda i: f"/customers/{who[i]}", n), 50)
                report("dashboard", timed(client, lambda i: "/dashboard", 30), None)
                report("operations", timed(client, lambda i: "/operations", 30), None)
        finally:
            server.run(server.stop())
    print(f"target p95 < {TARGET_P95_MS:.0f} ms for inbox, ticket and customer: "
          f"{'met' if ok else 'NOT met'}")  # fmt: skip
    return 0 if ok else 1


async def _migrate(path: Path) -> None:
    store = await Store.open(path)
    await store.close()


if __name__ == "__main__":
    sys.exit(main())
