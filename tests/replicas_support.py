"""Several real ``main.py run`` processes on one PostgreSQL database, for the replica tests.

    replica = Replica.start("a", env, tmp_path)      # its own session: kill() takes its children
    await replica.wait_for_log("serving:")           # the log is its stderr, in a file
    replica.kill()                                   # kill -9 of the whole process group
    replica.terminate()                              # SIGTERM; returns the exit status

``replica_env`` gives every replica the same database, data folder, fake Bot API (webhook mode,
as replicas must run) and SMTP server, and a port of its own for the staff console.
``seed_registered`` writes N customers with an active account and a linked Telegram chat in one
transaction (chat id = 100000 + customer id).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

from store.store import Store
from store.values import iso
from tests.fakes.bot_api import TOKEN, FakeBotApi
from tests.fixtures.smtp import SmtpServer, free_port

ROOT = Path(__file__).resolve().parent.parent
CHAT_BASE = 100_000
LEADER = "{}: this replica is the leader now"

# The PostgreSQL leg only: ``AREACLIENTI_TEST_BACKEND=postgresql`` (several replicas need a
# database server; SQLite is one process by design, its lock file refuses a second service).
only_on_postgresql = [
    pytest.mark.postgresql,
    pytest.mark.skipif(
        os.environ.get("AREACLIENTI_TEST_BACKEND", "").strip().lower() != "postgresql",
        reason="replicas share a PostgreSQL database (AREACLIENTI_TEST_BACKEND=postgresql)",
    ),
]


def replica_env(
    database_url: str,
    data_dir: Path,
    bot_api: FakeBotApi,
    smtp: SmtpServer,
    **extra: str,
) -> dict[str, str]:
    """The environment every replica shares (each adds its own STAFF_WEB_PORT)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "AREACLIENTI_DB": database_url,
        "AREACLIENTI_DATA_DIR": str(data_dir),
        "OUTBOX_DIR": str(data_dir / "outbox"),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_URL": bot_api.url,
        "TELEGRAM_MODE": "webhook",  # replicas cannot share getUpdates (409 Conflict)
        "TELEGRAM_WEBHOOK_URL": "https://areaclienti.example.test/telegram/webhook",
        "TELEGRAM_WEBHOOK_SECRET": "replica-test-secret",
        "SMTP_HOST": smtp.host,
        "SMTP_PORT": str(smtp.port),
        "SMTP_SECURITY": "none",
        **extra,
    }


@dataclass
class Replica:
    """One ``main.py run`` process and its log."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @classmethod
    def start(cls, name: str, env: dict[str, str], folder: Path) -> Replica:
        """Start ``main.py run`` in a session of its own, its stderr to ``folder/<name>.log``."""
        log = folder / f"replica-{name}.log"
        own = {**env, "STAFF_WEB_PORT": str(free_port())}
        with log.open("wb") as sink:
            process = subprocess.Popen(
                [sys.executable, str(ROOT / "main.py"), "run"],
                cwd=folder, env=own, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=sink, start_new_session=True,
            )  # fmt: skip
        return cls(name, process, log)

    @property
    def alive(self) -> bool:
        """Whether the process is still running."""
        return self.process.poll() is None

    def text(self) -> str:
        """The log so far."""
        return self.log.read_text(encoding="utf-8", errors="replace")

    def leads(self, service: str) -> bool:
        """Whether the log says this replica became the leader of ``service``."""
        return LEADER.format(service) in self.text()

    async def wait_for_log(self, text: str, timeout: float = 60) -> None:
        """Until ``text`` is in the log; fail (with the log's end) if the process ends first."""
        deadline = time.monotonic() + timeout
        while text not in self.text():
            if not self.alive or time.monotonic() > deadline:
                pytest.fail(f"replica {self.name}: no {text!r} in its log:\n{self.text()[-3000:]}")
            await asyncio.sleep(0.1)

    def kill(self) -> None:
        """kill -9 of the replica and its children (a machine that dies)."""
        if self.alive:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM, then the exit status."""
        if self.alive:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)

    def cleanup(self) -> None:
        """Whatever happened, leave nothing running (its FAQ child included)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


async def seed_registered(store: Store, count: int, now: datetime) -> list[int]:
    """``count`` customers with an active account and a linked Telegram chat; their ids."""
    at = iso(now)
    async with store.transaction():
        await store.db.executemany(
            "INSERT INTO customers (code, kind, name, fiscal_code, updated_at)"
            " VALUES (?, 'person', ?, ?, ?)",
            [(f"R{n:06d}", f"Cliente {n}", f"RPLFC{n:011d}", at) for n in range(count)],
        )
        rows = await store.db.fetchall("SELECT id FROM customers WHERE code LIKE 'R%' ORDER BY id")
        ids = [int(row[0]) for row in rows]
        await store.db.executemany(
            "INSERT INTO accounts (customer_id, username, email, status, password_hash,"
            " password_temporary, registered_at, activated_at, updated_at)"
            " VALUES (?, ?, ?, 'active', 'not-a-real-hash', 0, ?, ?, ?)",
            [(c, f"user{c}", f"cliente{c}@example.it", at, at, at) for c in ids],
        )
        accounts = await store.db.fetchall("SELECT id, customer_id FROM accounts")
        await store.db.executemany(
            "INSERT INTO chats (channel, chat_id, account_id, logged_in, last_seen_at,"
            " updated_at) VALUES ('telegram', ?, ?, 0, ?, ?)",
            [(str(CHAT_BASE + int(r[1])), int(r[0]), at, at) for r in accounts],
        )
    return ids


async def until(predicate: Callable[[], bool], timeout: float, what: str) -> float:
    """Wait until ``predicate()``; return the seconds it took (fail after ``timeout``)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            pytest.fail(f"not within {timeout} s: {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - started


async def start_two(
    replicas: list[Replica], env: dict[str, str], folder: Path
) -> tuple[Replica, Replica]:
    """Two replicas, both serving."""
    for name in ("a", "b"):
        replicas.append(Replica.start(name, env, folder))
    for replica in replicas:
        await replica.wait_for_log("serving:", timeout=90)
    return replicas[0], replicas[1]
