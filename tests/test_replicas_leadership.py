"""Leader-only services (``assistant.leadership``) over the store's advisory locks: on SQLite
the one process leads at once; a lost lock stops the service until it is taken again; a
cancelled leader drains its service first and lets go, so a contender takes over."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest

from assistant.errors import SettingsError
from assistant.leadership import Leadership
from assistant.settings import Settings
from store.db import LockHold
from store.store import Store


class Service:
    """A leader-only service that counts its starts and the items it finished when stopped."""

    def __init__(self) -> None:
        self.starts = 0
        self.drained = 0
        self.running = asyncio.Event()

    async def run(self) -> None:
        self.starts += 1
        self.running.set()
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.05)  # the item in hand finishes before the lock goes
            self.drained += 1
            self.running.clear()


class LosableHold(LockHold):
    """A hold whose connection the test can end (as a PostgreSQL restart does)."""

    def __init__(self) -> None:
        super().__init__(True)
        self.lost = False

    async def alive(self) -> bool:
        return not self.lost


class LosableLocks:
    """Advisory locks over the store's, whose holds the test can lose."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.holds: list[LosableHold] = []

    @asynccontextmanager
    async def try_advisory_lock(self, name: str) -> AsyncIterator[LockHold]:
        async with self.store.db.try_advisory_lock(name) as hold:
            if not hold:
                yield hold
                return
            self.holds.append(LosableHold())
            yield self.holds[-1]


async def wait_until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def free(store: Store, name: str) -> bool:
    async with store.db.try_advisory_lock(f"leader:{name}") as hold:
        return bool(hold)


async def test_the_one_process_leads_at_once_and_a_cancel_drains_then_lets_go(
    store: Store,
) -> None:
    service = Service()
    leadership = Leadership(store.db, "support mailbox", service.run, retry_seconds=0.05)
    task = asyncio.create_task(leadership.run())
    await asyncio.wait_for(service.running.wait(), 10)
    assert leadership.leading and leadership.terms == 1
    assert not await free(store, "support mailbox")

    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert service.drained == 1 and not leadership.leading
    assert await free(store, "support mailbox")


async def test_a_contender_waits_and_takes_over_when_the_leader_stops(store: Store) -> None:
    first, second = Service(), Service()
    one = Leadership(store.db, "telegram notices", first.run, retry_seconds=0.02)
    two = Leadership(store.db, "telegram notices", second.run, retry_seconds=0.02)
    tasks = [asyncio.create_task(one.run())]
    await asyncio.wait_for(first.running.wait(), 10)
    tasks.append(asyncio.create_task(two.run()))
    await asyncio.sleep(0.2)
    assert second.starts == 0 and not two.leading  # one leader at a time

    tasks[0].cancel()
    await asyncio.gather(tasks[0], return_exceptions=True)
    await asyncio.wait_for(second.running.wait(), 10)
    assert two.leading and first.drained == 1
    tasks[1].cancel()
    await asyncio.gather(tasks[1], return_exceptions=True)


async def test_a_lost_lock_stops_the_service_until_the_lock_is_taken_again(store: Store) -> None:
    locks = LosableLocks(store)
    service = Service()
    leadership = Leadership(
        locks, "support mailbox", service.run, retry_seconds=0.02, check_seconds=0.02
    )
    task = asyncio.create_task(leadership.run())
    try:
        await asyncio.wait_for(service.running.wait(), 10)
        locks.holds[0].lost = True
        await wait_until(lambda: service.drained == 1)
        await wait_until(lambda: service.starts == 2)  # taken again: a fresh service
        assert leadership.terms == 2 and leadership.leading
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_a_failing_service_lets_the_lock_go_and_its_error_ends_the_leadership(
    store: Store,
) -> None:
    async def broken() -> None:
        raise RuntimeError("IMAP folder missing")

    leadership = Leadership(store.db, "support mailbox", broken)
    with pytest.raises(RuntimeError, match="IMAP folder missing"):
        await asyncio.wait_for(leadership.run(), 10)
    assert await free(store, "support mailbox")


def test_the_replica_settings_default_to_telegrams_pace_and_refuse_bad_values() -> None:
    settings = Settings.from_environ({})
    assert settings.telegram_notices_per_second == 25 and settings.claim_lease_seconds == 300
    tuned = Settings.from_environ(
        {"TELEGRAM_NOTICES_PER_SECOND": "100", "CLAIM_LEASE_SECONDS": "120"}
    )
    assert tuned.telegram_notices_per_second == 100 and tuned.claim_lease_seconds == 120
    for name, value in [
        ("TELEGRAM_NOTICES_PER_SECOND", "0"),
        ("TELEGRAM_NOTICES_PER_SECOND", "tanti"),
        ("CLAIM_LEASE_SECONDS", "1"),
    ]:
        with pytest.raises(SettingsError, match=name):
            Settings.from_environ({name: value})


@pytest.mark.postgresql
@pytest.mark.skipif(
    os.environ.get("AREACLIENTI_TEST_BACKEND", "").strip().lower() != "postgresql",
    reason="PostgreSQL's session advisory locks (AREACLIENTI_TEST_BACKEND=postgresql)",
)
async def test_on_postgresql_a_lost_lock_connection_stops_the_leader_and_one_leads_again(
    pg_url: str,
) -> None:
    replicas = [await Store.open(pg_url), await Store.open(pg_url)]  # two pools, two sessions
    services = [Service(), Service()]
    leaderships = [
        Leadership(r.db, "support mailbox", s.run, retry_seconds=0.05, check_seconds=0.05)
        for r, s in zip(replicas, services, strict=True)
    ]
    tasks = [asyncio.create_task(leaderships[0].run())]
    try:
        await asyncio.wait_for(services[0].running.wait(), 10)
        tasks.append(asyncio.create_task(leaderships[1].run()))
        await asyncio.sleep(0.5)
        assert services[1].starts == 0  # the lock is held in another session

        await replicas[1].db.fetchall(  # the server drops the leader's lock connection
            "SELECT pg_terminate_backend(pid) FROM pg_locks"
            " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
        )
        await wait_until(lambda: services[0].drained == 1)  # noticed: the service stopped
        await wait_until(lambda: sum(s.starts for s in services) == 2)  # and led again
        await asyncio.sleep(0.3)
        assert [lead.leading for lead in leaderships].count(True) == 1
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for replica in replicas:
            await replica.close()
