"""Shared fixtures. Each real server has its own module under tests/fixtures/."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from assistant.clock import ManualClock
from assistant.settings import Settings
from store.store import Store

pytest_plugins: list[str] = [
    "tests.fixtures.smtp",
    "tests.fixtures.area_data",
    "tests.fixtures.dovecot",
    "tests.fixtures.telegram",
    "tests.fixtures.customers",
    "tests.fixtures.dialogs",
    "tests.fixtures.web",
    "tests.fixtures.postgres",
]

# AREACLIENTI_TEST_BACKEND=postgresql runs the suite on PostgreSQL (read before any test clears
# the environment): ``settings`` then names a fresh database of the throwaway cluster.
BACKEND = os.environ.get("AREACLIENTI_TEST_BACKEND", "sqlite").strip().lower() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"AREACLIENTI_TEST_BACKEND: sqlite or postgresql, not {BACKEND!r}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL leg, skip the tests about SQLite's own files and locks."""
    if BACKEND != "postgresql":
        return
    skip = pytest.mark.skip(reason="SQLite by nature (AREACLIENTI_TEST_BACKEND=postgresql)")
    for item in items:
        if item.get_closest_marker("sqlite_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's configuration."""
    import os

    for name in list(os.environ):
        if name.startswith(("AREACLIENTI_", "TELEGRAM_", "SMTP_", "IMAP_", "MAIL_", "OUTBOX_")):
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def settings(tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Defaults, with every file under the test's temporary folder; on the PostgreSQL leg the
    database is a fresh one of the test cluster (``db_target``; ``db_path`` stays a file)."""
    built = Settings.from_environ(
        {
            "AREACLIENTI_DB": str(tmp_path / "areaclienti.db"),
            "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    if BACKEND == "postgresql":
        url: str = request.getfixturevalue("pg_url")
        return dataclasses.replace(built, db_url=url)
    return built


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    """A real database (SQLite file, or PostgreSQL on that leg) with every migration applied."""
    opened = await Store.open(settings.db_target, message_id_domain="test.areaclienti")
    yield opened
    await opened.close()


@pytest.fixture
def caplog_all(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record, for the tests that check nothing secret is logged."""
    caplog.set_level(logging.DEBUG)
    return caplog
