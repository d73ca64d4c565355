"""Shared fixtures. Each real server has its own module under tests/fixtures/."""

from __future__ import annotations

import logging
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
]


@pytest.fixture(autouse=True)
def _clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's configuration."""
    import os

    for name in list(os.environ):
        if name.startswith(("AREACLIENTI_", "TELEGRAM_", "SMTP_", "IMAP_", "MAIL_", "OUTBOX_")):
            monkeypatch.delenv(name, raising=False)
    yield


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Defaults, with every file under the test's temporary folder."""
    return Settings.from_environ(
        {
            "AREACLIENTI_DB": str(tmp_path / "areaclienti.db"),
            "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )


@pytest.fixture
def clock() -> ManualClock:
    """A clock the test moves by hand."""
    return ManualClock()


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    """A real SQLite file with every migration applied."""
    opened = await Store.open(settings.db_path, message_id_domain="test.areaclienti")
    yield opened
    await opened.close()


@pytest.fixture
def caplog_all(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Capture every log record, for the tests that check nothing secret is logged."""
    caplog.set_level(logging.DEBUG)
    return caplog
