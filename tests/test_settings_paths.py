"""Settings that cannot work are refused at start, naming the variable (issue 14, points 4, 12).

``Settings.from_environ`` checks values and reads nothing from the disk; ``check_paths`` (called
by ``main.py`` at start) checks that the files and folders named can be used, creating none.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.errors import SettingsError
from assistant.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def paths(tmp_path: Path, **overrides: Path) -> dict[str, str]:
    """The three path variables under ``tmp_path`` (none of them created), with overrides."""
    env = {
        "AREACLIENTI_DB": tmp_path / "var" / "areaclienti.db",
        "AREACLIENTI_DATA_DIR": tmp_path / "var",
        "OUTBOX_DIR": tmp_path / "var" / "outbox",
    }
    env.update(overrides)
    return {name: str(path) for name, path in env.items()}


def test_usable_paths_pass_and_nothing_is_created(tmp_path: Path) -> None:
    Settings.from_environ(paths(tmp_path)).check_paths()
    assert list(tmp_path.iterdir()) == []
    (tmp_path / "var" / "outbox").mkdir(parents=True)
    (tmp_path / "var" / "areaclienti.db").write_bytes(b"")
    Settings.from_environ(paths(tmp_path)).check_paths()


@pytest.mark.parametrize(
    ("variable", "where"),
    [
        ("OUTBOX_DIR", "a file"),
        ("AREACLIENTI_DATA_DIR", "a file"),
        ("OUTBOX_DIR", "under a file"),
        ("AREACLIENTI_DATA_DIR", "under a file"),
        ("AREACLIENTI_DB", "under a file"),
        ("AREACLIENTI_DB", "a folder"),
        ("OUTBOX_DIR", "a dangling link"),
    ],
)
def test_a_path_that_cannot_work_names_its_variable(
    tmp_path: Path, variable: str, where: str
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("a regular file")
    folder = tmp_path / "folder"
    folder.mkdir()
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "nowhere")
    path = {
        "a file": plain,
        "under a file": plain / "sub" / "x.db",
        "a folder": folder,
        "a dangling link": link,
    }[where]
    settings = Settings.from_environ(paths(tmp_path, **{variable: path}))
    with pytest.raises(SettingsError) as raised:
        settings.check_paths()
    assert raised.value.variable == variable
    assert str(path) in str(raised.value) or str(plain) in str(raised.value)


@pytest.mark.parametrize(
    "value",
    [
        "a@b.it, c@d.it",
        "Area Clienti <a@b.it>, c@d.it",
        "Area Clienti <a@b.it> <c@d.it>",
        "undisclosed: a@b.it, c@d.it;",
        "group: a@b.it;",
    ],
)
def test_mail_from_with_more_than_one_address_is_refused(value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({"MAIL_FROM": value})
    assert raised.value.variable == "MAIL_FROM"


@pytest.mark.parametrize(
    "value",
    ["Area Clienti <areaclienti@localhost>", '"Banco BPM, Leasing" <a@b.it>', "Àrea <a@b.it>"],
)
def test_mail_from_with_one_address_is_kept(value: str) -> None:
    assert Settings.from_environ({"MAIL_FROM": value}).mail_from == value


def test_document_max_bytes_defaults_to_20_mib_and_is_checked() -> None:
    assert Settings.from_environ({}).document_max_bytes == 20 * 1024 * 1024
    assert Settings.from_environ({"DOCUMENT_MAX_BYTES": "5000000"}).document_max_bytes == 5_000_000
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({"DOCUMENT_MAX_BYTES": "big"})
    assert raised.value.variable == "DOCUMENT_MAX_BYTES"


def test_the_chat_does_not_start_with_the_outbox_on_a_file(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "SMTP_", "IMAP_"))}
    (tmp_path / "outbox").write_text("a file where the outbox folder should be")
    env.update(paths(tmp_path, OUTBOX_DIR=tmp_path / "outbox"))
    chat = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "chat"],
        env=env, cwd=tmp_path, input="/contatti\n", capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert chat.returncode == 2, chat.stdout + chat.stderr
    assert "configuration error: OUTBOX_DIR" in chat.stderr
    assert "Traceback" not in chat.stdout + chat.stderr
