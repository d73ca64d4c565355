"""Two real ``main.py run`` replicas on one PostgreSQL database, and what goes wrong with them:
kill -9 in the middle of a notice fan-out, kill -9 of the mailbox's leader, PostgreSQL
restarting under load. Nothing is lost; nothing is sent twice, except what a killed replica
had on the wire: a message the channel accepted that its sender had not recorded yet goes out
again after its claim lapses (CLAIM_LEASE_SECONDS, 5 s here). That is at most one message per
killed sender: one e-mail (the outbox sender records each mail before the next one's DATA) and
one Telegram notice (on PostgreSQL TELEGRAM_NOTICES_IN_FLIGHT defaults to 1: the leader claims,
sends and records one notice at a time), counted in the database right after the kill too. A
database restart repeats at most one message of each kind (a sent message's record is retried
while the connections come back, so in practice none).

The PostgreSQL leg only (``AREACLIENTI_TEST_BACKEND=postgresql``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from assistant.clock import SystemClock
from store.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.fixtures.dovecot import ImapAccount
from tests.fixtures.postgres import PgServer
from tests.fixtures.smtp import SmtpServer
from tests.replicas_support import (
    CHAT_BASE,
    Replica,
    only_on_postgresql,
    replica_env,
    seed_registered,
    start_two,
    until,
)
from tests.test_mailbox_crash import assert_each_mail_handled_once, customer_mails

pytestmark = only_on_postgresql

CUSTOMERS = 2000
FAST = {"TELEGRAM_NOTICES_PER_SECOND": "150", "CLAIM_LEASE_SECONDS": "5", "IMAP_POLL_SECONDS": "1"}


@pytest.fixture
async def pg_store(pg_url: str) -> AsyncIterator[Store]:
    """The test's own connection to the replicas' database."""
    store = await Store.open(pg_url, message_id_domain="test.areaclienti")
    yield store
    await store.close()


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    """The replicas a test starts; none is left running after it."""
    started: list[Replica] = []
    yield started
    for replica in started:
        replica.cleanup()


def notice_chats(api: FakeBotApi) -> Counter[str]:
    """Telegram notices received by the fake Bot API, by chat."""
    return Counter(
        c.chat_id for c in api.sent() if c.chat_id is not None and int(c.chat_id) >= CHAT_BASE
    )


def mail_recipients(smtp: SmtpServer) -> Counter[str]:
    """E-mails received by the SMTP server, by recipient."""
    return Counter(rcpt for m in smtp.messages for rcpt in m.rcpt_tos)


async def claimed_by(store: Store, replica: Replica) -> int:
    """Telegram notices the replica had claimed and not settled: those it had on the wire."""
    row = await store.db.fetchone(
        "SELECT COUNT(*) FROM telegram_notices WHERE status = 'pending' AND claimed_by LIKE ?",
        (f"%/{replica.process.pid}/%",),  # store.outbox.new_claimer: host/pid/random
    )
    return int(row[0]) if row else 0


async def test_kill_9_of_the_telegram_leader_mid_fanout_loses_nothing(
    pg_url: str,
    pg_store: Store,
    bot_api: FakeBotApi,
    smtp_server: SmtpServer,
    replicas: list[Replica],
    tmp_path: Path,
) -> None:
    customers = await seed_registered(pg_store, CUSTOMERS, SystemClock().now())
    env = replica_env(pg_url, tmp_path / "data", bot_api, smtp_server, **FAST)
    a, b = await start_two(replicas, env, tmp_path)
    await pg_store.communications.create_for(
        customers, subject="Nuove condizioni", body="Gentile cliente, ...", now=SystemClock().now()
    )

    await until(
        lambda: len(notice_chats(bot_api)) >= 300 and len(mail_recipients(smtp_server)) >= 300,
        60, "the fan-out under way",
    )  # fmt: skip
    leader, other = (a, b) if a.leads("telegram notices") else (b, a)
    assert leader.leads("telegram notices") and not other.leads("telegram notices")
    leader.kill()
    assert len(notice_chats(bot_api)) < CUSTOMERS  # killed in the middle
    in_flight = await claimed_by(pg_store, leader)  # claimed, maybe accepted, not recorded

    await until(
        lambda: len(notice_chats(bot_api)) == CUSTOMERS
        and len(mail_recipients(smtp_server)) == CUSTOMERS,
        120, "every customer's e-mail and Telegram notice",
    )  # fmt: skip
    assert other.leads("telegram notices") and other.alive
    await asyncio.sleep(1)  # anything sent twice would show now
    chats, mails = notice_chats(bot_api), mail_recipients(smtp_server)
    assert sorted(chats) == sorted(str(CHAT_BASE + c) for c in customers)
    assert sorted(mails) == sorted(f"cliente{c}@example.it" for c in customers)
    assert sum(chats.values()) - CUSTOMERS <= in_flight <= 1  # the one on the wire
    assert sum(mails.values()) - CUSTOMERS <= 1  # the one e-mail accepted, not yet recorded
    assert await pg_store.notices.count_pending() == 0
    assert (await pg_store.notices.telegram_counts()).get("pending", 0) == 0


async def test_kill_9_of_the_mailbox_leader_the_other_takes_over_nothing_lost_or_twice(
    pg_url: str,
    pg_store: Store,
    bot_api: FakeBotApi,
    smtp_server: SmtpServer,
    imap_account: ImapAccount,
    replicas: list[Replica],
    tmp_path: Path,
) -> None:
    count = 300  # three batches of 100
    await asyncio.to_thread(imap_account.append_many, customer_mails(count))
    env = replica_env(pg_url, tmp_path / "data", bot_api, smtp_server, **FAST, **imap_account.env)
    a, b = await start_two(replicas, env, tmp_path)
    await until(lambda: a.leads("support mailbox") or b.leads("support mailbox"), 30, "a leader")
    leader, other = (a, b) if a.leads("support mailbox") else (b, a)
    assert not other.leads("support mailbox")

    recorded = 0
    while recorded == 0:  # the first batch recorded: kill in the middle of the folder
        recorded = len(await pg_store.inbound.recent(limit=1000))
        await asyncio.sleep(0.05)
    leader.kill()
    assert len(await pg_store.inbound.recent(limit=1000)) < count
    took = await until(lambda: other.leads("support mailbox"), 60, "the other replica leads")
    assert took < 60

    deadline = time.monotonic() + 90
    while True:
        left: list[int] = await asyncio.to_thread(imap_account.uids, "INBOX")
        if not left and len(await pg_store.inbound.recent(limit=1000)) == count:
            break
        assert time.monotonic() < deadline, "every mail recorded and moved"
        await asyncio.sleep(0.2)
    await assert_each_mail_handled_once(pg_store, imap_account, count)
    answered = count - count // 3
    await until(lambda: len(mail_recipients(smtp_server)) == answered, 30, "every answer sent")
    await asyncio.sleep(1)
    assert sum(mail_recipients(smtp_server).values()) - answered <= 1  # the one in flight


async def test_postgresql_restarting_under_load_loses_nothing(
    pg_server: PgServer,
    pg_url: str,
    pg_store: Store,
    bot_api: FakeBotApi,
    smtp_server: SmtpServer,
    replicas: list[Replica],
    tmp_path: Path,
) -> None:
    count = 1000
    customers = await seed_registered(pg_store, count, SystemClock().now())
    env = replica_env(pg_url, tmp_path / "data", bot_api, smtp_server, **FAST)
    await start_two(replicas, env, tmp_path)
    await pg_store.communications.create_for(
        customers, subject="Avviso", body="Gentile cliente, ...", now=SystemClock().now()
    )
    await until(
        lambda: len(notice_chats(bot_api)) >= 150 and len(mail_recipients(smtp_server)) >= 150,
        60, "the notices under way",
    )  # fmt: skip

    log = str(pg_server.folder / "server.log")
    await asyncio.to_thread(pg_server.ctl, "restart", "-w", "-t", "60", "-m", "fast", "-l", log)
    assert len(notice_chats(bot_api)) < count  # restarted under load

    await until(
        lambda: len(notice_chats(bot_api)) == count and len(mail_recipients(smtp_server)) == count,
        90, "every customer's e-mail and Telegram notice",
    )  # fmt: skip
    assert all(replica.alive for replica in replicas)
    await until(  # the leaders' lock connections died with the restart: noticed, taken again
        lambda: any("leader lock lost" in replica.text() for replica in replicas),
        15, "a leader noticed its lost lock",
    )  # fmt: skip
    await asyncio.sleep(1)
    chats, mails = notice_chats(bot_api), mail_recipients(smtp_server)
    assert sum(chats.values()) - count <= 1, chats.most_common(3)
    assert sum(mails.values()) - count <= 1, mails.most_common(3)  # "sent" recorded after it
    assert await pg_store.notices.count_pending() == 0
