"""Nothing lost, nothing twice: crashes at every step, kill -9, cancellation, Dovecot restarts."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from store.store import Store
from tests.fixtures.dovecot import DovecotServer, ImapAccount
from tests.mailbox_support import fixture_bytes, mail, mailbox_settings, make_worker

ROOT = Path(__file__).resolve().parent.parent


class Crash(BaseException):
    """Stands for the process dying: nothing in the worker catches it."""


def customer_mails(count: int) -> list[bytes]:
    """``count`` mails: new questions, FAQ questions and automatic mail, in turn."""
    kinds = [
        lambda n: mail(f"domanda numero {n}", sender=f"cliente{n}@example.it"),
        lambda n: mail(f"la password {n} non arriva", sender=f"cliente{n}@example.it"),
        lambda n: fixture_bytes("out_of_office").replace(b"<ooo1@", f"<ooo{n}@".encode()),
    ]
    return [kinds[n % 3](n) for n in range(count)]


async def assert_each_mail_handled_once(store: Store, account: ImapAccount, count: int) -> None:
    """Every mail recorded once, one answer per customer mail, the inbox empty."""
    answered = count - count // 3  # the automatic third is never answered
    records = await store.inbound.recent(limit=1000)
    assert len(records) == count
    assert sorted(r.outcome for r in records).count("automatic") == count // 3
    assert len(await store.tickets.recent(limit=1000)) == answered
    replies = await store.outbox.list(limit=1000)
    assert len(replies) == answered
    assert len({r.recipient for r in replies}) == answered  # one answer each
    assert account.uids("INBOX") == []
    assert len(account.uids("Processed")) == count


@pytest.fixture
def settings(tmp_path: Path, imap_account: ImapAccount) -> Settings:
    """IMAP_* pointing at this test's Dovecot user."""
    return mailbox_settings(tmp_path, imap_account)


async def assert_handled_once_in(settings: Settings, account: ImapAccount, count: int) -> None:
    """``assert_each_mail_handled_once`` on the database the crashed processes left."""
    store = await Store.open(settings.db_target)
    try:
        await assert_each_mail_handled_once(store, account, count)
    finally:
        await store.close()


async def crash_in_turn(
    settings: Settings,
    clock: ManualClock,
    plan: list[tuple[str, int] | None],
    batch_size: int,
) -> None:
    """One "process" per step of the plan, dying the n-th time it reaches the step's point."""
    for step in plan:
        store = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
        reached = {"count": 0}

        def fault(
            point: str, step: tuple[str, int] | None = step, reached: dict[str, int] = reached
        ) -> None:
            if step is not None and point == step[0]:
                reached["count"] += 1
                if reached["count"] == step[1]:
                    raise Crash(point)

        worker = make_worker(settings, store, clock, fault=fault, batch_size=batch_size)
        try:
            await worker.process_once()
            assert step is None, f"never reached {step}"
        except Crash:
            pass
        finally:
            await worker.aclose()
            await store.close()


async def test_a_crash_at_every_step_in_turn_loses_nothing_and_repeats_nothing(
    settings: Settings, imap_account: ImapAccount, clock: ManualClock
) -> None:
    count = 6
    imap_account.append_many(customer_mails(count))
    # One mail per batch, so every step of every mail is a place to die.
    steps: list[tuple[str, int] | None] = [("saved", 1), ("transaction", 1), ("committed", 1)]
    plan = [*(steps * (count - 1)), ("saved", 1), ("transaction", 1), ("archiving", 1), None]
    await crash_in_turn(settings, clock, plan, batch_size=1)
    await assert_handled_once_in(settings, imap_account, count)


async def test_a_crash_inside_a_batch_undoes_the_whole_batch_and_nothing_repeats(
    settings: Settings, imap_account: ImapAccount, clock: ManualClock
) -> None:
    count = 9
    imap_account.append_many(customer_mails(count))
    # Batches of four: die in the middle of the first batch's transaction, after the second
    # mail of the second batch, after the second batch's commit, before the third one's move.
    plan = [("transaction", 3), ("transaction", 6), ("committed", 1), ("archiving", 1), None]
    await crash_in_turn(settings, clock, plan, batch_size=4)
    await assert_handled_once_in(settings, imap_account, count)


async def test_cancelling_the_worker_mid_pass_loses_nothing(
    settings: Settings, store: Store, imap_account: ImapAccount, clock: ManualClock
) -> None:
    count = 9
    imap_account.append_many(customer_mails(count))
    first_record = asyncio.Event()

    def fault(point: str) -> None:
        if point == "committed":
            first_record.set()

    worker = make_worker(settings, store, clock, fault=fault)
    task = asyncio.create_task(worker.run())
    await asyncio.wait_for(first_record.wait(), 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    again = make_worker(settings, store, clock)
    try:
        await again.process_once()
    finally:
        await again.aclose()
    await assert_each_mail_handled_once(store, imap_account, count)


async def test_kill_9_of_a_real_process_and_restart(
    settings: Settings, imap_account: ImapAccount
) -> None:
    count = 30
    imap_account.append_many(customer_mails(count))
    env = {
        **os.environ,
        "AREACLIENTI_DB": str(settings.db_target),
        "AREACLIENTI_DATA_DIR": str(settings.data_dir),
        **imap_account.env,
        "MAILBOX_CHILD_PAUSE": "0.01",
    }
    command = [sys.executable, "-c", "from tests.mailbox_support import run_child; run_child()"]
    child = subprocess.Popen(command, cwd=ROOT, env=env)
    store = await Store.open(settings.db_target)
    try:
        deadline = time.monotonic() + 60
        while len(await store.inbound.recent(limit=1000)) < 5:  # well under way
            assert child.poll() is None and time.monotonic() < deadline
            await asyncio.sleep(0.02)
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
        assert len(await store.inbound.recent(limit=1000)) < count  # killed mid-way

        env["MAILBOX_CHILD_PAUSE"] = "0"
        finished = subprocess.run(command, cwd=ROOT, env=env, timeout=120)
        assert finished.returncode == 0
        await assert_each_mail_handled_once(store, imap_account, count)
    finally:
        if child.poll() is None:
            child.kill()
        await store.close()


async def test_worker_survives_dovecot_restarting_under_it(
    settings: Settings,
    store: Store,
    imap_account: ImapAccount,
    dovecot: DovecotServer,
    clock: ManualClock,
) -> None:
    worker = make_worker(settings, store, clock)
    task = asyncio.create_task(worker.run())
    try:
        imap_account.append(mail("prima domanda", sender="a@example.it"))
        await asyncio.wait_for(worker.wait_handled(1), 15)
        await asyncio.to_thread(dovecot.restart)
        imap_account.append(mail("seconda domanda", sender="b@example.it"))
        await asyncio.wait_for(worker.wait_handled(2), 30)
        await asyncio.to_thread(dovecot.stop)  # down for a while: the worker keeps retrying
        await asyncio.sleep(0.3)
        assert not task.done()
        await asyncio.to_thread(dovecot.start)
        imap_account.append(mail("terza domanda", sender="c@example.it"))
        await asyncio.wait_for(worker.wait_handled(3), 30)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        dovecot.start()
    assert len(await store.tickets.recent()) == 3
    assert len(await store.outbox.list()) == 3


async def test_cancelling_run_while_idle_stops_promptly(
    settings: Settings, store: Store, imap_account: ImapAccount, clock: ManualClock
) -> None:
    worker = make_worker(settings, store, clock)
    task = asyncio.create_task(worker.run())
    imap_account.append(mail())
    await asyncio.wait_for(worker.wait_handled(1), 15)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 2
