from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import SettingsError
from assistant.settings import Settings


def test_defaults_match_the_documented_table() -> None:
    settings = Settings.from_environ({})
    assert settings.db_path == Path("var/areaclienti.db")
    assert settings.data_dir == Path("var")
    assert settings.telegram_bot_token is None
    assert settings.telegram_api_url == "https://api.telegram.org"
    assert settings.smtp_host is None and settings.smtp_port == 587
    assert settings.smtp_security == "starttls"
    assert settings.mail_from == "Area Clienti <areaclienti@localhost>"
    assert settings.mail_from_address == "areaclienti@localhost"
    assert settings.outbox_dir == Path("var/outbox")
    assert settings.imap_host is None and settings.imap_port == 993
    assert settings.imap_security == "tls"
    assert (settings.imap_folder, settings.imap_processed_folder) == ("INBOX", "Processed")
    assert settings.support_address == "areaclienti.ls@bancopopolare.it"
    assert settings.registration_retry_minutes == 60
    assert settings.max_login_attempts == 3
    assert settings.session_idle_minutes == 30
    assert settings.temp_password_hours == 72
    assert settings.default_language == "it"


def test_values_are_read_from_the_environment() -> None:
    settings = Settings.from_environ(
        {
            "SMTP_HOST": "mail.example.it",
            "SMTP_PORT": "2525",
            "SMTP_SECURITY": "TLS",
            "DEFAULT_LANGUAGE": "en",
            "TELEGRAM_API_URL": "http://127.0.0.1:8081/",
        }
    )
    assert (settings.smtp_host, settings.smtp_port, settings.smtp_security) == (
        "mail.example.it",
        2525,
        "tls",
    )
    assert settings.default_language == "en"
    assert settings.telegram_api_url == "http://127.0.0.1:8081"


def test_an_empty_variable_means_the_default() -> None:
    assert Settings.from_environ({"SMTP_HOST": "", "SMTP_PORT": ""}).smtp_port == 587


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("SMTP_PORT", "abc"),
        ("SMTP_PORT", "70000"),
        ("IMAP_PORT", "-1"),
        ("SMTP_SECURITY", "ssl3"),
        ("IMAP_SECURITY", "maybe"),
        ("DEFAULT_LANGUAGE", "fr"),
        ("MAX_LOGIN_ATTEMPTS", "0"),
        ("SESSION_IDLE_MINUTES", "soon"),
        ("TEMP_PASSWORD_HOURS", "1.5"),
        ("REGISTRATION_RETRY_MINUTES", "-5"),
        ("MAIL_FROM", "not an address"),
        ("SUPPORT_ADDRESS", "Support <a@b.it>"),
        ("TELEGRAM_API_URL", "ftp://example"),
    ],
)
def test_a_bad_value_names_the_variable(variable: str, value: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_environ({variable: value})
    assert raised.value.variable == variable
    assert variable in str(raised.value)


def test_the_command_line_stops_with_the_variable_named(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "SMTP_PORT": "many", "AREACLIENTI_DB": str(tmp_path / "x.db")}
    result = subprocess.run(
        [sys.executable, str(root / "main.py"), "outbox"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "SMTP_PORT" in result.stderr


def test_a_dotenv_file_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import main

    (tmp_path / ".env").write_text("SMTP_HOST=smtp.example.it\nSMTP_PORT=2525\n")
    monkeypatch.chdir(tmp_path)
    settings = main.load_settings({"SMTP_PORT": "25"})
    assert settings.smtp_host == "smtp.example.it"
    assert settings.smtp_port == 25  # the environment wins over .env


def test_a_postgresql_url_names_the_database_and_its_password_stays_hidden(
    tmp_path: Path,
) -> None:
    """AREACLIENTI_DB may be a postgresql:// URL: it is what the store opens, no file is checked
    for it, and its password shows in no message or repr."""
    url = "postgresql://app:s3cret@db.example:5432/areaclienti"
    settings = Settings.from_environ(
        {
            "AREACLIENTI_DB": url,
            "AREACLIENTI_DB_POOL_SIZE": "8",
            "AREACLIENTI_DB_STATEMENT_TIMEOUT_SECONDS": "10",
            "AREACLIENTI_DATA_DIR": str(tmp_path / "data"),
            "OUTBOX_DIR": str(tmp_path / "outbox"),
        }
    )
    assert settings.db_target == url
    assert (settings.db_pool_size, settings.db_statement_timeout_seconds) == (8, 10)
    assert settings.db_label == "postgresql://app:***@db.example:5432/areaclienti"
    assert "s3cret" not in repr(settings)
    settings.check_paths()  # no file for a server's database
    defaults = Settings.from_environ({})
    assert defaults.db_target == Path("var/areaclienti.db") and defaults.db_url is None
    assert (defaults.db_pool_size, defaults.db_statement_timeout_seconds) == (5, 30)


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("AREACLIENTI_DB", "mysql://app:s3cret@db/areaclienti"),
        ("AREACLIENTI_DB_POOL_SIZE", "1"),
        ("AREACLIENTI_DB_STATEMENT_TIMEOUT_SECONDS", "0"),
    ],
)
def test_a_bad_database_setting_names_the_variable(variable: str, value: str) -> None:
    """Another scheme, a pool too small, no timeout: refused, the password never repeated."""
    with pytest.raises(SettingsError, match=variable) as raised:
        Settings.from_environ({variable: value})
    assert "s3cret" not in str(raised.value)
