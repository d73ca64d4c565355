"""Helper of ``bench/console_load.py``: staff agents using the console, in a child process.

Each agent logs in through the real pages (password, then the TOTP enrolment), then repeats
what an agent does: the inbox (one of its filters), a ticket, a customer, a search (of the
inbox or of the customers), with ``think`` seconds between two pages. The agents run in a
process of their own, as browsers are not in the service's process; the parent starts and
halts them and gets, per kind of page, how many answered and how fast.

    agents = AgentsProcess(url, logins, tickets=20_000, customers=20_000, think=0.5)
    await agents.start()    # every agent logged in
    agents.go(); ...; samples = await agents.halt()   # ms of each page, by kind
    agents.stop()
"""

from __future__ import annotations

import asyncio
import html
import multiprocessing
import multiprocessing.connection
import os
import random
import re
import time
from collections import defaultdict
from dataclasses import dataclass

INBOX = (
    "/tickets?status=open",
    "/tickets?status=active&channel=email",
    "/tickets?status=all",
    "/tickets?status=open&assigned=unassigned",
    "/tickets?status=open&overdue=1",
    "/tickets?status=closed&channel=telegram",
)


@dataclass(frozen=True)
class PageFigures:
    """One kind of page over a measured window."""

    kind: str
    count: int
    p50_ms: float
    p95_ms: float


def searches(rng: random.Random, tickets: int, customers: int) -> str:
    """A search an agent types: a reference, a customer code, a subject, an address, a name."""
    return rng.choice(
        (
            f"/tickets?status=all&q=AC-{100_000 + rng.randrange(1, tickets + 1):06d}",
            f"/tickets?status=all&q=C{rng.randrange(1, customers + 1):06d}",
            f"/tickets?status=active&q=numero%20{rng.randrange(1, 99)}",
            f"/tickets?status=all&q=cliente{rng.randrange(1, customers)}%40example",
            f"/customers?q=C{rng.randrange(1, customers + 1):06d}",
        )
    )


async def log_in(client: object, username: str, password: str) -> None:
    """Password, then the TOTP enrolment, through the pages (an httpx.AsyncClient)."""
    import httpx

    from assistant.clock import SystemClock
    from web import security

    assert isinstance(client, httpx.AsyncClient)
    form = (await client.get("/login")).text
    data = {"csrf": _field(form, "csrf"), "username": username, "password": password}
    await client.post("/login", data=data)
    enrol = (await client.get("/login/enrol")).text
    shown = re.search(r'class="secret">([^<]+)<', enrol)
    assert shown, "no TOTP secret on the enrolment page"
    secret = "".join(html.unescape(shown[1]).split())
    code = security.totp_code(secret, SystemClock().now())
    await client.post("/login/enrol", data={"csrf": _field(enrol, "csrf"), "code": code})
    assert (await client.get("/tickets")).status_code == 200, f"{username} is not logged in"


def _field(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert match, f"no {name} field"
    return html.unescape(match[1])


async def _agents(
    conn: multiprocessing.connection.Connection,
    url: str,
    logins: list[tuple[str, str]],
    tickets: int,
    customers: int,
    think: float,
) -> None:
    import httpx

    clients = [httpx.AsyncClient(base_url=url, follow_redirects=True, timeout=60) for _ in logins]
    for client, (username, password) in zip(clients, logins, strict=True):
        await log_in(client, username, password)
    conn.send("ready")
    loop = asyncio.get_running_loop()
    samples: dict[str, list[float]] = defaultdict(list)
    running = asyncio.Event()

    async def agent(client: httpx.AsyncClient, seed: int) -> None:
        rng = random.Random(seed)
        while True:
            await running.wait()
            for kind, path in (
                ("inbox", rng.choice(INBOX)),
                ("ticket", f"/tickets/{rng.randrange(1, tickets + 1)}"),
                ("customer", f"/customers/{rng.randrange(1, customers + 1)}"),
                ("search", searches(rng, tickets, customers)),
            ):
                started = time.perf_counter()
                response = await client.get(path)
                took = (time.perf_counter() - started) * 1000
                assert response.status_code == 200, (path, response.status_code)
                if running.is_set():
                    samples[kind].append(took)
                if think:
                    await asyncio.sleep(rng.uniform(0.5, 1.5) * think)

    tasks = [asyncio.create_task(agent(c, i)) for i, c in enumerate(clients)]
    while (command := await loop.run_in_executor(None, conn.recv)) != "stop":
        if command == "go":
            samples.clear()
            running.set()
        elif command == "halt":
            running.clear()
            conn.send({kind: list(found) for kind, found in samples.items()})
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for client in clients:
        await client.aclose()


def page_figures(samples: dict[str, list[float]]) -> list[PageFigures]:
    """Count, p50 and p95 of each kind of page, from the milliseconds of each answer."""
    found = []
    for kind, taken in sorted(samples.items()):
        taken = sorted(taken)
        p95 = taken[max(0, round(len(taken) * 0.95) - 1)]
        found.append(PageFigures(kind, len(taken), taken[len(taken) // 2], p95))
    return found


def _serve(conn: multiprocessing.connection.Connection, *args: object) -> None:
    # The agents stand for browsers on the staff's own machines: their client-side work (HTTP,
    # parsing pages, TOTP) yields the shared cores to the service, so the ratio measures what
    # the console costs the service, not what the load generator costs the machine.
    os.nice(10)
    asyncio.run(_agents(conn, *args))  # type: ignore[arg-type]


class AgentsProcess:
    """The staff agents, in a child process."""

    def __init__(
        self, url: str, logins: list[tuple[str, str]], *, tickets: int, customers: int,
        think: float,
    ) -> None:  # fmt: skip
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        args = (child, url, logins, tickets, customers, think)
        self._process = context.Process(target=_serve, args=args, daemon=True)

    async def start(self) -> None:
        """Start the child and log every agent in (the console answers meanwhile)."""
        self._process.start()
        if not await asyncio.to_thread(self._conn.poll, 120) or self._conn.recv() != "ready":
            raise RuntimeError("the staff agents could not log in")

    def go(self) -> None:
        """The agents start working."""
        self._conn.send("go")

    async def halt(self) -> dict[str, list[float]]:
        """The agents pause; the milliseconds of each page since ``go``, by kind of page."""
        self._conn.send("halt")
        samples: dict[str, list[float]] = await asyncio.to_thread(self._conn.recv)
        return samples

    def stop(self) -> None:
        """End the child."""
        if self._process.is_alive():
            self._conn.send("stop")
            self._process.join(10)


if __name__ == "__main__":
    print("(a helper of bench/console_load.py: nothing to measure)")
