"""``redact``: what a log line may never carry (issue 14, points 2 and 11)."""

from __future__ import annotations

import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import redact

TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1"


@pytest.mark.parametrize(
    ("line", "secret"),
    [
        (f"POST https://api.telegram.org/bot{TOKEN}/getUpdates", TOKEN),
        (f"token {TOKEN} refused", TOKEN),
        ("Password temporanea: Xy7-kLm2pQ", "Xy7-kLm2pQ"),
        ("Temporary password: Xy7-kLm2pQ", "Xy7-kLm2pQ"),
        ("Codice di verifica: 482913", "482913"),
        ("Verification code: 482913", "482913"),
        ("SMTP_PASSWORD=hunter2hunter2", "hunter2hunter2"),
        ("IMAP_PASSWORD: s3cret!", "s3cret!"),
        ("TELEGRAM_BOT_TOKEN=abc123def", "abc123def"),
        ('smtp_password = "two words"', "two words"),
        ("partita IVA IT00743110157", "00743110157"),
        ("vat it00743110157.", "00743110157"),
        ("codice fiscale RSSMRA85T10A562S", "RSSMRA85T10A562S"),
        ("to mario.rossi@example.it", "mario.rossi@example.it"),
    ],
)
def test_secrets_and_personal_data_are_redacted(line: str, secret: str) -> None:
    scrubbed = redact.redact(line)
    assert secret not in scrubbed
    assert "words" not in scrubbed  # the whole quoted value goes


def test_harmless_text_is_kept() -> None:
    line = "sent outbox mail 42 (kind temp_password) in 0.35 s; 3 due"
    assert redact.redact(line) == line


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """The root logger's handlers and level as they were before the test."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


@pytest.mark.parametrize("umask", [0o022, 0o000], ids=["umask022", "umask000"])
def test_the_log_file_and_its_folder_are_owner_only(
    tmp_path: Path, umask: int, restore_logging: None
) -> None:
    import os

    logfile = tmp_path / "var" / "logs" / "areaclienti.log"
    previous = os.umask(umask)
    try:
        redact.install(logging.INFO, logfile)
        logging.getLogger("test").warning("one line for the file")
    finally:
        os.umask(previous)
    assert "one line for the file" in logfile.read_text()
    assert stat.S_IMODE(logfile.stat().st_mode) == 0o600
    assert stat.S_IMODE(logfile.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(logfile.parent.parent.stat().st_mode) == 0o700


def test_an_existing_readable_log_is_made_owner_only(tmp_path: Path, restore_logging: None) -> None:
    logfile = tmp_path / "areaclienti.log"
    logfile.write_text("from an earlier version\n")
    logfile.chmod(0o644)
    redact.install(logging.INFO, logfile)
    assert stat.S_IMODE(logfile.stat().st_mode) == 0o600
    assert logfile.read_text().startswith("from an earlier version")
