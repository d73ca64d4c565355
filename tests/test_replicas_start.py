"""Two real ``main.py run`` replicas starting together on an empty PostgreSQL database, and one
of them stopped by SIGTERM: the migrations are applied once (the other replica waits for the
migration lock, never runs on a half-migrated schema); a stopped leader drains, lets its
leadership go and exits 0, and the other replica takes over at its next try.

The PostgreSQL leg only (``AREACLIENTI_TEST_BACKEND=postgresql``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.leadership import RETRY_SECONDS
from store.postgres import pg_migrations
from store.store import Store
from tests.fakes.bot_api import FakeBotApi
from tests.fixtures.smtp import SmtpServer
from tests.replicas_support import Replica, only_on_postgresql, replica_env, start_two, until

pytestmark = only_on_postgresql


@pytest.fixture
def replicas() -> Iterator[list[Replica]]:
    """The replicas a test starts; none is left running after it."""
    started: list[Replica] = []
    yield started
    for replica in started:
        replica.cleanup()


async def test_two_replicas_on_an_empty_database_migrate_once_and_a_sigterm_hands_over(
    pg_empty_url: str,
    bot_api: FakeBotApi,
    smtp_server: SmtpServer,
    replicas: list[Replica],
    tmp_path: Path,
) -> None:
    env = replica_env(pg_empty_url, tmp_path / "data", bot_api, smtp_server)
    a, b = await start_two(replicas, env, tmp_path)  # started at the same moment
    migrated = [r for r in (a, b) if "applying migration" in r.text()]
    assert len(migrated) == 1, "one replica applies the migrations, the other waits for it"
    store = await Store.open(pg_empty_url)
    try:
        assert await store.db.schema_version() == pg_migrations()[-1][0]
    finally:
        await store.close()

    await until(lambda: a.leads("telegram notices") or b.leads("telegram notices"), 30, "leader")
    leader, other = (a, b) if a.leads("telegram notices") else (b, a)
    assert not other.leads("telegram notices")
    assert leader.terminate() == 0  # SIGTERM: drained, leadership released, exit 0
    log = leader.text()
    assert "telegram notices: leadership released" in log and "Traceback" not in log
    took = await until(lambda: other.leads("telegram notices"), 30, "the other replica leads")
    assert took < RETRY_SECONDS + 5
    assert other.alive
